"""Estimators that fit scaling laws to runs: Approaches 1-3, power laws, bootstrap, hold-out checks.

All follow scikit-learn's habit (settings in the constructor, ``fit()`` returns the estimator,
fitted values end in ``_``, ``predict()``):

- :class:`ChinchillaFit` — Approach 3, L = E + A/N^α + B/D^β (``law_`` is a ParametricLaw);
  :func:`fit_small_sweep` — the same, constrained (α = β in [0.05, 1.5]) when the free fit is degenerate
- :class:`IsoFLOPFit` — Approach 2;  :class:`EnvelopeFit` — Approach 1
- :class:`SaturatingPowerLaw`, :class:`PowerLaw` — one-variable laws;  :class:`KaplanFit` — Kaplan L(N, D)
- :func:`bootstrap` — percentile intervals;  :func:`extrapolation_check` — fit small, predict large

Only numpy is imported here; scipy is imported inside the functions that optimise.
"""

from scalinglab.fit.bootstrap import BootstrapResult, bootstrap
from scalinglab.fit.envelope import EnvelopeFit
from scalinglab.fit.isoflop import IsoFLOPFit
from scalinglab.fit.kaplan import KaplanFit
from scalinglab.fit.parametric import ChinchillaFit, fit_small_sweep
from scalinglab.fit.powerlaw import PowerLaw, SaturatingPowerLaw
from scalinglab.fit.validate import ExtrapolationReport, extrapolation_check

__all__ = ["BootstrapResult", "ChinchillaFit", "EnvelopeFit", "ExtrapolationReport", "IsoFLOPFit", "KaplanFit",
           "PowerLaw", "SaturatingPowerLaw", "bootstrap", "extrapolation_check", "fit_small_sweep"]
