"""Shared behaviour of the estimators in :mod:`scalinglab.fit`: scikit-learn's settings API and
the N_opt/D_opt prediction of the allocation fits."""

from __future__ import annotations

from scalinglab.errors import ScalingLabError
from scalinglab.fit._checks import require_fitted
from scalinglab.core.numbers import positive


class ParamsMixin:
    """scikit-learn's ``get_params``/``set_params`` for the dataclass estimators of this package.

    The settings are the dataclass fields passed to ``__init__`` (never a fitted ``name_``), so
    ``type(est)(**est.get_params())`` is an unfitted copy, as in scikit-learn.
    """

    def get_params(self, deep: bool = True) -> dict:
        """The estimator's settings by name (``deep`` is accepted for scikit-learn's signature)."""
        from dataclasses import fields

        return {f.name: getattr(self, f.name) for f in fields(self) if f.init and not f.name.endswith("_")}

    def set_params(self, **params):
        """Change settings in place and return the estimator; unknown names are refused.

        The new settings go through the constructor's own checks first (a rejected value leaves
        the estimator as it was). A fitted estimator keeps its fitted values until the next
        ``fit()``, as in scikit-learn.
        """
        from dataclasses import replace

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
        from dataclasses import replace

        return replace(self)


class AllocationMixin(ParamsMixin):
    """``predict`` for the estimators that fit N_opt ∝ C^a and D_opt ∝ C^b as two power laws
    (``params_law_``, ``tokens_law_``): Approaches 1 and 2."""

    def predict(self, flops):
        """N_opt and D_opt at ``flops`` (positive, finite) from the fitted power laws: (params, tokens)."""
        require_fitted(self, "a_")
        flops = positive(flops, "flops")
        return self.params_law_.predict(flops), self.tokens_law_.predict(flops)
