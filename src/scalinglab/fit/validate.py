"""The extrapolation check: fit on the small runs, predict the large ones, report the errors.

A law fitted to runs below a compute (or size) threshold is asked to predict every run above it.
Each held-out run's relative error (predicted/actual − 1) and log error (ln predicted − ln actual)
is reported, with their means; the RMS of the log errors is the score used by Alabdulmohsin et al.
2022 for learning-curve extrapolation (NeurIPS 2022, arXiv 2209.06640). This is what tells a user
how far to
trust a fit.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from scalinglab.errors import ScalingLabError

_BY = ("flops", "params", "tokens")

#: What extrapolation_check can fit and score: estimators that predict a loss.
_SUPPORTED = "ChinchillaFit(), KaplanFit(), SaturatingPowerLaw() or PowerLaw()"


@dataclass
class HeldOutRun:
    params: float
    tokens: float
    flops: float
    loss: float
    predicted: float

    @property
    def rel_error(self) -> float:
        return self.predicted / self.loss - 1.0

    @property
    def log_error(self) -> float:
        return math.log(self.predicted) - math.log(self.loss)

    def as_dict(self) -> dict:
        return {"params": self.params, "tokens": self.tokens, "flops": self.flops, "loss": self.loss,
                "predicted": self.predicted, "rel_error": self.rel_error, "log_error": self.log_error}


@dataclass
class ExtrapolationReport:
    """Errors of a law fitted below ``threshold`` on the runs above it."""

    by: str
    threshold: float
    n_train: int
    held_out: list
    estimator: object

    @property
    def mean_abs_rel_error(self) -> float:
        return float(np.mean([abs(r.rel_error) for r in self.held_out]))

    @property
    def mean_rel_error(self) -> float:
        """Signed mean: positive means the law over-predicts loss on the large runs."""
        return float(np.mean([r.rel_error for r in self.held_out]))

    @property
    def max_abs_rel_error(self) -> float:
        return float(np.max([abs(r.rel_error) for r in self.held_out]))

    @property
    def rmse_log(self) -> float:
        return float(math.sqrt(np.mean([r.log_error**2 for r in self.held_out])))

    def __repr__(self) -> str:
        # The held-out runs and the fitted estimator would make a page-long repr: key numbers only.
        return (f"ExtrapolationReport(by={self.by!r}, threshold={self.threshold:.4g}, n_train={self.n_train}, "
                f"n_test={len(self.held_out)}, mean_abs_rel_error={self.mean_abs_rel_error:.4g}, "
                f"max_abs_rel_error={self.max_abs_rel_error:.4g}, rmse_log={self.rmse_log:.4g})")

    def as_dict(self) -> dict:
        return {"by": self.by, "threshold": self.threshold, "n_train": self.n_train,
                "n_test": len(self.held_out), "mean_abs_rel_error": self.mean_abs_rel_error,
                "mean_rel_error": self.mean_rel_error, "max_abs_rel_error": self.max_abs_rel_error,
                "rmse_log": self.rmse_log, "runs": [r.as_dict() for r in self.held_out]}


def extrapolation_check(estimator, runs, *, above: float, by: str = "flops", variable: str | None = None):
    """Fit ``estimator`` on runs with ``runs[by] <= above`` and predict the runs above.

    Parameters
    ----------
    estimator : ChinchillaFit, KaplanFit, SaturatingPowerLaw or PowerLaw
        An instance (fitted or not: its settings are cloned and refitted; the argument is not
        modified). IsoFLOPFit and EnvelopeFit are refused: they predict the compute-optimal N and
        D, not a loss, so there is nothing to compare with the held-out losses. A published law
        (``get_law(...)``) is refused too: it has no fit to redo on the small runs; score it with
        ``law.predict(runs.params, runs.tokens)`` against ``runs.loss`` instead.
    runs : DataFrame with ``params``, ``tokens``, ``flops``, ``loss``.
    above : float
        Threshold in the units of ``by`` (FLOPs, parameters or tokens); a Python or numpy number.
    by : {"flops", "params", "tokens"}
    variable : {"params", "tokens", "flops"}, optional
        The x of a one-variable law (required for SaturatingPowerLaw / PowerLaw).
    """
    one_var = _check_estimator(estimator)
    if by not in _BY:
        raise ScalingLabError(f"by must be one of {', '.join(_BY)}, got {by!r}")
    # numbers.Real covers numpy scalars (np.float32, np.int64); bool is a number but no threshold
    if not (isinstance(above, numbers.Real) and not isinstance(above, (bool, np.bool_))
            and math.isfinite(above) and above > 0):
        raise ScalingLabError(f"hold-out threshold must be a positive number, got {above!r}")
    for col in ("params", "tokens", "flops", "loss"):
        if col not in runs:
            raise ScalingLabError(f"runs table lacks column {col!r}")
    if one_var and variable not in _BY:
        raise ScalingLabError(f"a one-variable law needs variable= one of {', '.join(_BY)}")
    key = np.asarray(runs[by], dtype=float)
    train = runs.loc[key <= above]
    test = runs.loc[key > above]
    if len(test) == 0:
        raise ScalingLabError(f"no runs have {by} above {above:.4g} (largest {key.max():.4g}); nothing to predict")
    if len(train) == 0:
        raise ScalingLabError(f"no runs have {by} at or below {above:.4g} (smallest {key.min():.4g}); nothing to fit")
    est = estimator.clone()
    if one_var:
        est.fit(train[variable].to_numpy(float), train["loss"].to_numpy(float))
        pred = np.atleast_1d(est.predict(test[variable].to_numpy(float)))
    else:
        est.fit(train)
        pred = np.atleast_1d(est.predict(test["params"].to_numpy(float), test["tokens"].to_numpy(float)))
    if not np.all(np.isfinite(pred)) or np.any(pred <= 0):
        raise ScalingLabError("the law fitted below the threshold predicts a non-positive or non-finite loss above it")
    held = [HeldOutRun(float(r.params), float(r.tokens), float(r.flops), float(r.loss), float(p))
            for r, p in zip(test.itertuples(index=False), pred, strict=True)]
    return ExtrapolationReport(by=by, threshold=float(above), n_train=len(train), held_out=held, estimator=est)


def _check_estimator(estimator) -> bool:
    """Refuse what extrapolation_check cannot fit and score; True for a one-variable law."""
    from scalinglab.fit.envelope import EnvelopeFit
    from scalinglab.fit.isoflop import IsoFLOPFit
    from scalinglab.fit.kaplan import KaplanFit
    from scalinglab.fit.parametric import ChinchillaFit
    from scalinglab.fit.powerlaw import PowerLaw, SaturatingPowerLaw

    if isinstance(estimator, type):
        if issubclass(estimator, (ChinchillaFit, KaplanFit, SaturatingPowerLaw, PowerLaw)):
            raise ScalingLabError(f"extrapolation_check needs an estimator instance such as "
                                  f"{estimator.__name__}(), not the class {estimator.__name__}")
        raise ScalingLabError(f"extrapolation_check supports {_SUPPORTED}, got the class {estimator.__name__}")
    if isinstance(estimator, (IsoFLOPFit, EnvelopeFit)):
        raise ScalingLabError(f"{type(estimator).__name__} predicts the compute-optimal N and D, not a loss, "
                              f"so it cannot be scored on held-out losses; use {_SUPPORTED}")
    if isinstance(estimator, (ChinchillaFit, KaplanFit)):
        return False
    if isinstance(estimator, (SaturatingPowerLaw, PowerLaw)):
        return True
    if hasattr(estimator, "predict") and not hasattr(estimator, "fit"):
        raise ScalingLabError(f"{type(estimator).__name__} is a fixed law with nothing to refit on the small "
                              f"runs; extrapolation_check needs an estimator, {_SUPPORTED} (to score a "
                              "published law, compare law.predict(params, tokens) with the losses)")
    raise ScalingLabError(f"extrapolation_check supports {_SUPPORTED}, got {type(estimator).__name__}")
