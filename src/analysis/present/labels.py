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


# The reader's names of the post-initiative readout's KPIs (analysis.metrics.impact.KPIS).
KPI_LABELS = {
    "conversion_rate": "Conversion rate",
    "cart_abandonment_rate": "Cart abandonment",
    "csat_top2": "CSAT (share rating 4–5)",
    "nps": "NPS",
    "repeat_customer_rate": "Repeat-customer rate",
    "seller_churn_hazard": "Seller churn hazard",
}


def kpi_label(kpi: str) -> str:
    """The reader's name of a KPI: ``'cart_abandonment_rate'`` -> ``'Cart abandonment'``; unknown codes spelled out."""
    return KPI_LABELS.get(kpi, kpi.replace("_", " ").capitalize())


# Retention and value: who a cohort grid follows -> what its share counts and its time axis.
COHORT_LABELS = {
    "sellers": {"share": "still active", "since": "months since signup"},
    "buyers": {"share": "buying again", "since": "months since first purchase"},
}
PERIOD_ADJECTIVES = {"quarter": "quarterly", "month": "monthly"}  # a cohort period as the reader says it
SURVIVAL_GROUP_LABELS = {"market": "market", "cohort": "signup cohort"}  # what a survival curve stands for

# The reader's names of the market-entry criteria (reference columns and the cultural distance) and scoring methods.
CRITERION_LABELS = {
    "gdp_per_capita_ppp": "GDP per capita (PPP)",
    "internet_users_pct": "Internet users",
    "political_stability": "Political stability",
    "lpi_score": "Logistics (LPI)",
    "population": "Population",
    "cultural_distance": "Cultural distance",
    "pdi": "Power distance",
    "idv": "Individualism",
    "mas": "Masculinity",
    "uai": "Uncertainty avoidance",
    "lto": "Long-term orientation",
    "ivr": "Indulgence",
}
METHOD_LABELS = {"weighted_sum": "weighted sum", "topsis": "TOPSIS"}

# The reader's names of the event columns a report breaks results down by, and of their coded values.
COLUMN_LABELS = {
    "segment": "Personality segment",
    "device": "Device",
    "channel": "Channel",
    "market": "Market",
    "variant": "Arm",
}
VALUE_LABELS = {"paid_search": "Paid search", "organic_search": "Organic search", "email": "E-mail"}


def column_label(column: str) -> str:
    """The reader's name of a breakdown column: ``'segment'`` -> ``'Personality segment'``; others spelled out."""
    return COLUMN_LABELS.get(column, column.replace("_", " ").capitalize())


def value_label(value: object) -> str:
    """The reader's name of a coded group value: ``'paid_search'`` -> ``'Paid search'``.

    Codes (lower case with underscores) are spelled out; values already written for people (``'Bargain hunter'``,
    ``'GB'``) and missing values (``'None'``, ``'nan'``, shown as the caller renders them) are kept as they are.
    """
    text = str(value)
    if text in VALUE_LABELS:
        return VALUE_LABELS[text]
    if text.islower() and text not in ("none", "nan"):
        return text.replace("_", " ").capitalize()
    return text
