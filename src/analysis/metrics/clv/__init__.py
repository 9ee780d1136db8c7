"""Customer value in the buy-till-you-die tradition: RFM summaries, BG/NBD, Gamma–Gamma and CLV with intervals.

Modules: ``rfm`` (the per-customer summary, in the engine), ``bg_nbd`` (Fader, Hardie & Lee 2005: fit, probability
alive, expected purchases), ``gamma_gamma`` (spend per transaction), ``value`` (CLV per customer and mean CLV per
group with parameter intervals) and ``fitting`` (what the fits share, including :class:`ModelFitError`). No run-time
dependency on ``lifetimes``; it serves the tests as an oracle.
"""

from analysis.metrics.clv.bg_nbd import BgNbdFit, expected_purchases, fit_bg_nbd, probability_alive
from analysis.metrics.clv.fitting import ModelFitError
from analysis.metrics.clv.gamma_gamma import GammaGammaFit, expected_average_value, fit_gamma_gamma
from analysis.metrics.clv.rfm import rfm_summary
from analysis.metrics.clv.value import clv_by_group, customer_lifetime_value

__all__ = [
    "BgNbdFit",
    "GammaGammaFit",
    "ModelFitError",
    "clv_by_group",
    "customer_lifetime_value",
    "expected_average_value",
    "expected_purchases",
    "fit_bg_nbd",
    "fit_gamma_gamma",
    "probability_alive",
    "rfm_summary",
]
