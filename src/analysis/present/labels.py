"""Human labels for the workbook's codes: what a reader sees instead of an event name."""

from __future__ import annotations

STEP_LABELS = {
    "session_start": "Visit",
    "page_view": "Page view",
    "view_item": "Product view",
    "add_to_cart": "Cart",
    "begin_checkout": "Checkout",
    "add_payment_info": "Payment info",
    "purchase": "Purchase",
}
DEEPEST_STEP = "deepest step"  # the label of a time-to-convert row that runs to each unit's deepest step


def step_label(step: str) -> str:
    """The reader's name of a funnel step: ``'add_to_cart'`` -> ``'Cart'``; unknown steps keep their name."""
    return STEP_LABELS.get(step, step)
