"""Input checks shared by the estimators of :mod:`scalinglab.fit` (one clear error, never a NaN)."""

from __future__ import annotations

from scalinglab.errors import ScalingLabError


def require_fitted(estimator, attribute: str) -> None:
    """Raise the one "not fitted yet" error unless ``attribute`` (set only by ``fit()``) exists.

    The check looks at a fitted value, never at ``flags_``: that list is a dataclass default and
    exists before any fit.
    """
    if not hasattr(estimator, attribute):
        raise ScalingLabError(f"this {type(estimator).__name__} is not fitted yet; call fit() first")

