"""Estimators that fit scaling laws to runs: Approaches 1-3, power laws, bootstrap, hold-out checks.

All follow one contract, scikit-learn's (see :mod:`scalinglab.fit._base`): settings in the
constructor, ``fit(runs_or_arrays) -> self`` (a DataFrame, a mapping of arrays or a run table),
fitted values ending in ``_``, ``predict(...)`` -> losses, ``optimum(compute)`` -> Allocation where
the estimator has one, ``as_dict()``:

- :class:`ChinchillaFit` — Approach 3, L = E + A/N^α + B/D^β (``law_`` is a ParametricLaw);
  :func:`fit_small_sweep` — the same, constrained (α = β in [0.05, 1.5]) when the free fit is degenerate
- :class:`IsoFLOPFit` — Approach 2;  :class:`EnvelopeFit` — Approach 1
- :class:`SaturatingPowerLawFit`, :class:`PowerLawFit` — one-variable laws;  :class:`KaplanFit` — Kaplan L(N, D)
- :func:`bootstrap` — percentile intervals;  :func:`extrapolation_check` — fit small, predict large

Modules: ``parametric`` (the Approach-3 front end), ``solver`` (its optimisation), ``huber`` (the
objective), ``diagnostics`` (what the runs identify), ``_data`` (reading the input), ``_base``
(the contract). scipy is imported at module level here; torch and ray never are.
"""

from scalinglab.fit.bootstrap import BootstrapResult, bootstrap
from scalinglab.fit.envelope import EnvelopeFit
from scalinglab.fit.isoflop import IsoFLOPFit
from scalinglab.fit.kaplan import KaplanFit
from scalinglab.fit.parametric import ChinchillaFit, fit_small_sweep
from scalinglab.fit.powerlaw import PowerLawFit, SaturatingPowerLawFit
from scalinglab.fit.validate import ExtrapolationReport, extrapolation_check

__all__ = ["BootstrapResult", "ChinchillaFit", "EnvelopeFit", "ExtrapolationReport", "IsoFLOPFit", "KaplanFit",
           "PowerLawFit", "SaturatingPowerLawFit", "bootstrap", "extrapolation_check", "fit_small_sweep"]
