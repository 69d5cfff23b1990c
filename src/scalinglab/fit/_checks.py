"""Input checks shared by the estimators of :mod:`scalinglab.fit` (one clear error, never a NaN)."""

from __future__ import annotations

import numpy as np

from scalinglab.errors import ScalingLabError
from scalinglab.laws.chinchilla import _positive


def positive(value, name: str) -> np.ndarray:
    """``value`` as a float array, every entry positive and finite, else a ScalingLabError.

    The laws' own reader (``scalinglab.laws.chinchilla._positive``), so a fit's ``predict`` takes
    and refuses exactly what a law's ``predict`` does (numbers, arrays, human strings such as
    ``"1e21"``), each mistake as one line.
    """
    return _positive(value, name)


def require_fitted(estimator, attribute: str) -> None:
    """Raise the one "not fitted yet" error unless ``attribute`` (set only by ``fit()``) exists.

    The check looks at a fitted value, never at ``flags_``: that list is a dataclass default and
    exists before any fit.
    """
    if not hasattr(estimator, attribute):
        raise ScalingLabError(f"this {type(estimator).__name__} is not fitted yet; call fit() first")

