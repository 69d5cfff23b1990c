"""The one estimator contract of :mod:`scalinglab.fit` (scikit-learn's), and its shared parts.

Every estimator (``ChinchillaFit``, ``KaplanFit``, ``IsoFLOPFit``, ``EnvelopeFit``,
``PowerLawFit``, ``SaturatingPowerLawFit``) follows it:

- The constructor stores settings only (dataclass fields, checked again in ``fit``);
  ``get_params()``/``set_params()``/``clone()`` read and copy them, never a fitted value.
- ``fit(runs_or_arrays, **keywords) -> self``. ``runs_or_arrays`` is a pandas DataFrame with the
  standard columns (``params``, ``tokens``, ``flops``, ``loss``; curves have ``run_id``, ``step``,
  ``tokens``, ``loss``), a mapping of column arrays, or a run table (``.runs`` and ``.curves``, as
  ``scalinglab.io.runtable.RunTable``); columns may also come as keyword arrays
  (``fit(params=n, tokens=d, loss=y)``; one-variable laws: ``fit(x=x, y=y)``). See
  :mod:`scalinglab.fit._data`.
- Fitted values end in ``_`` and exist only after ``fit`` (``flags_``: messages about the fit,
  empty when clean). Before ``fit``, ``predict``/``as_dict`` raise the one "not fitted yet" error
  (:func:`scalinglab.fit._checks.require_fitted`).
- ``predict(...)`` returns losses (nats/token), never an (N, D) tuple: at (params, tokens) or a
  runs table for the two-variable laws, at x for the one-variable laws, and the least loss at a
  compute (the compute-optimal frontier) for Approaches 1 and 2 (``frontier = True``).
- Allocation answers come from ``optimum(compute)``, a
  :class:`scalinglab.laws.chinchilla.Allocation` (ChinchillaFit, IsoFLOPFit, EnvelopeFit).
- Results are dataclasses with ``as_dict()``; every fitted estimator has ``as_dict()`` too.
- An estimator that :func:`scalinglab.fit.bootstrap.bootstrap` can resample also keeps ``data_``
  (the columns it fitted) and has ``quantities(compute=None)`` (the numbers to summarise).
"""

from __future__ import annotations

from dataclasses import fields, replace

from scalinglab.core.numbers import positive, positive_float
from scalinglab.errors import ScalingLabError
from scalinglab.fit._checks import require_fitted
from scalinglab.fit._data import columns, frame_of, numeric
from scalinglab.laws.chinchilla import Allocation


class Estimator:
    """scikit-learn's ``get_params``/``set_params``/``clone`` for the dataclass estimators.

    The settings are the dataclass fields passed to ``__init__`` (never a fitted ``name_``), so
    ``type(est)(**est.get_params())`` is an unfitted copy, as in scikit-learn.
    """

    #: True when ``predict(C)`` is the least loss at compute C (a frontier), not a run's loss.
    frontier = False
    #: True for laws of one variable x (``fit(runs, variable=...)`` or ``fit(x=..., y=...)``).
    one_variable = False

    def get_params(self, deep: bool = True) -> dict:
        """The estimator's settings by name (``deep`` is accepted for scikit-learn's signature)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init and not f.name.endswith("_")}

    def set_params(self, **params):
        """Change settings in place and return the estimator; unknown names are refused.

        The new settings go through the constructor's own checks first (a rejected value leaves
        the estimator as it was). A fitted estimator keeps its fitted values until the next
        ``fit()``, as in scikit-learn.
        """
        known = self.get_params()
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ScalingLabError(f"{type(self).__name__} has no setting {unknown[0]!r}; "
                                  f"its settings are {', '.join(known)}")
        checked = replace(self, **params)  # runs __post_init__ checks on the new values
        for name in params:
            setattr(self, name, getattr(checked, name))
        return self

    def clone(self):
        """An unfitted estimator with the same settings."""
        return replace(self)


class AllocationMixin(Estimator):
    """``predict`` and ``optimum`` for the estimators that fit N_opt ∝ C^a and D_opt ∝ C^b as two
    power laws (``params_law_``, ``tokens_law_``) and the least loss L(C) ∝ C^-α_C along the
    frontier (``loss_law_``; Kaplan et al. 2020, Eq. 1.4): Approaches 1 and 2."""

    frontier = True

    def predict(self, flops):
        """The least loss at ``flops`` (positive, finite; or a table's ``flops`` column) from
        ``loss_law_``, the power law fitted to the frontier's losses."""
        require_fitted(self, "a_")
        if hasattr(frame_of(flops), "columns") or isinstance(flops, dict):
            flops = numeric(columns(flops), "flops")
        return self.loss_law_.predict(positive(flops, "flops"))

    def optimum(self, compute):
        """N_opt and D_opt at ``compute`` FLOPs from the fitted power laws, with the frontier's loss."""
        require_fitted(self, "a_")
        c = positive_float(compute, "compute")
        return Allocation(compute=c, params=float(self.params_law_.predict(c)),
                          tokens=float(self.tokens_law_.predict(c)), loss=float(self.predict(c)))
