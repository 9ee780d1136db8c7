"""Customer value in the buy-till-you-die tradition: RFM summaries, BG/NBD, Gamma–Gamma and CLV with intervals.

Modules: ``rfm`` (the per-customer summary, in the engine), ``bg_nbd`` (Fader, Hardie & Lee 2005: fit, probability
alive, expected purchases), ``nbd`` (its nested no-dropout limit, for customers who show no dropout),
``gamma_gamma`` (spend per transaction), ``spend`` (its nested limit without between-customer spread: the mean
spend per repeat purchase), ``value`` (CLV per customer and mean CLV per group with parameter intervals, from
whichever pair of models was used) and ``fitting`` (what the fits share, including :class:`ModelFitError` and the
not-identified errors :class:`NoDropoutError` and :class:`NoSpendSpreadError` that send a caller to the nested
models). No run-time dependency on ``lifetimes``; it serves the tests as an oracle.
"""

from analysis.metrics.clv.bg_nbd import BgNbdFit, expected_purchases, fit_bg_nbd, probability_alive
from analysis.metrics.clv.fitting import ModelFitError, NoDropoutError, NoSpendSpreadError
from analysis.metrics.clv.gamma_gamma import GammaGammaFit, expected_average_value, fit_gamma_gamma
from analysis.metrics.clv.nbd import NbdFit, fit_nbd, nbd_expected_purchases, nbd_log_likelihood
from analysis.metrics.clv.rfm import rfm_summary
from analysis.metrics.clv.spend import MeanSpendFit, fit_mean_spend
from analysis.metrics.clv.value import clv_by_group, customer_lifetime_value

__all__ = [
    "BgNbdFit",
    "GammaGammaFit",
    "MeanSpendFit",
    "ModelFitError",
    "NbdFit",
    "NoDropoutError",
    "NoSpendSpreadError",
    "clv_by_group",
    "customer_lifetime_value",
    "expected_average_value",
    "expected_purchases",
    "fit_bg_nbd",
    "fit_gamma_gamma",
    "fit_mean_spend",
    "fit_nbd",
    "nbd_expected_purchases",
    "nbd_log_likelihood",
    "probability_alive",
    "rfm_summary",
]
