"""Input checks shared by the estimators of :mod:`scalinglab.fit` (one clear error, never a NaN)."""

from __future__ import annotations

import numpy as np

from scalinglab.errors import ScalingLabError
from scalinglab.laws.chinchilla import _positive


def positive(value, name: str) -> np.ndarray:
    """``value`` as a float array, every entry positive and finite, else a ScalingLabError.

    The laws' own reader (``scalinglab.laws.chinchilla._positive``), so a fit's ``predict`` takes
    and refuses exactly what a law's ``predict`` does; anything numpy cannot convert is turned into
    the same one-line error rather than escaping as a raw TypeError or ValueError.
    """
    try:
        return _positive(value, name)
    except ScalingLabError:
        raise
    except (TypeError, ValueError):
        raise ScalingLabError(f"{name}: must be positive and finite, got {value!r}") from None


def require_fitted(estimator, attribute: str) -> None:
    """Raise the one "not fitted yet" error unless ``attribute`` (set only by ``fit()``) exists.

    The check looks at a fitted value, never at ``flags_``: that list is a dataclass default and
    exists before any fit.
    """
    if not hasattr(estimator, attribute):
        raise ScalingLabError(f"this {type(estimator).__name__} is not fitted yet; call fit() first")


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
