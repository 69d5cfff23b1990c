"""From loss to downstream accuracy: Gadre et al. 2024's error law, the OLMo ladder's two-step
sigmoid, and fitters for your own (loss, accuracy) pairs.

Gadre et al. 2024, "Language models scale reliably with over-training and on downstream tasks"
(arXiv 2403.08540; repository ``mlfoundations/scaling``):

- loss law, repository form (``scaling/laws.py::powlaw_ours``) [P, code], with token multiplier
  M = D/N and η < 0:  L(N, M) = a·N^η + b·6^(η/2)·(M·N)^η + E   (C4-eval loss, nats/token);
- error law (``fit_ds``) [P, code]:  Err(L) = ε − k·exp(−γ·L), the average top-1 error over a
  task suite (46 tasks, or the 17-task subset that is above chance at small scale).

The repository prints no constants; the values below were obtained by running its ``fit_ds`` with
the paper's Table 2 defaults on the data released with it ([C]; docs/laws.md, "Downstream
accuracy"). They describe
Gadre's 11M–6.9B testbed (M = 5…640): extrapolate with care.

OLMo model ladder (Bhagia et al. 2024, "Establishing Task Scaling Laws via Compute-Efficient Model
Ladders", arXiv 2412.04403; ``allenai/OLMo-ladder`` ``src/scaling/fitting_functions.py``) [P, code]:
step 1 maps (N, D) to a *task* loss with the Chinchilla form; step 2 maps that loss to accuracy
with Acc(L) = a/(1 + exp(−k·(L − L0))) + b (``sigmoid_fit``). No constants are published (they are
per task), so this module ships the form and a fitter, not numbers.

Every prediction here inherits the metric caveat of Schaeffer et al. 2023
(:data:`scalinglab.laws.emergence.SCHAEFFER_CAVEAT`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from scalinglab.core.numbers import positive, scalar_or_array
from scalinglab.core.units import FLOP_PER_PARAM_TOKEN
from scalinglab.errors import ScalingLabError
from scalinglab.laws.chinchilla import ParametricLaw

GADRE_SOURCE = ("Gadre et al. 2024 (arXiv 2403.08540), mlfoundations/scaling scaling/laws.py; "
                "constants from its fit_ds on the released data [C]")


# ----- Gadre et al. 2024 ----------------------------------------------------------------------

@dataclass(frozen=True)
class GadreLossLaw:
    """L(N, M) = a·N^η + b·6^(η/2)·(M·N)^η + E (repository form; η < 0; M = D/N)."""

    a: float
    b: float
    eta: float
    E: float
    name: str = "custom"
    source: str = ""

    def predict(self, params, token_multiplier):
        """C4-eval loss (nats/token) of ``params`` parameters trained on ``token_multiplier``·N tokens."""
        n = positive(params, "params")
        m = positive(token_multiplier, "token_multiplier")
        return scalar_or_array(self.a * n**self.eta + self.b * FLOP_PER_PARAM_TOKEN ** (self.eta / 2.0) * (m * n) ** self.eta
                    + self.E)

    def predict_tokens(self, params, tokens):
        """The same with the training tokens given directly (M = tokens/params)."""
        n = positive(params, "params")
        return self.predict(n, positive(tokens, "tokens") / n)


@dataclass(frozen=True)
class ErrorLaw:
    """Err(L) = ε − k·exp(−γ·L): average top-1 error of a task suite at loss L (Gadre ``fit_ds``)."""

    epsilon: float
    k: float
    gamma: float
    name: str = "custom"
    source: str = ""

    @property
    def min_loss(self) -> float:
        """The loss below which the law would predict a negative error: ln(k/ε)/γ."""
        return math.log(self.k / self.epsilon) / self.gamma if self.k > self.epsilon > 0 else 0.0

    def predict(self, loss):
        """Average top-1 error (fraction) at ``loss`` nats/token.

        Raises ScalingLabError below :attr:`min_loss`, where the law leaves its range (an error
        below zero) rather than returning a meaningless number.
        """
        x = positive(loss, "loss")
        err = self.epsilon - self.k * np.exp(-self.gamma * x)
        if np.any(err < 0):
            raise ScalingLabError(
                f"loss {loss!r} is below {self.min_loss:.3f}, where {self.name}'s error law leaves "
                "its range (negative error); it was fitted on C4 losses of about 2.2-4")
        return scalar_or_array(err)

    def accuracy(self, loss):
        """1 − error."""
        return scalar_or_array(1.0 - np.asarray(self.predict(loss)))

    def as_dict(self) -> dict:
        return {"epsilon": self.epsilon, "k": self.k, "gamma": self.gamma, "name": self.name,
                "source": self.source}


#: Gadre et al. 2024 constants by training set (``fit_ds`` on the released data) [C]: the loss
#: law, and the error
#: law for the 46-task suite and the 17-task subset. Loss is C4-eval loss in every case.
_GADRE_TABLE = {
    #           a      b      eta       E       k46    g46     e46     k17    g17     e17
    "c4":      (113.7, 189.5, -0.24247, 1.5083, 1.289, 0.9722, 0.7589, 2.079, 0.7561, 0.8497),
    "rpj":     (166.2, 366.7, -0.27285, 1.8366, 1.323, 0.8907, 0.7608, 2.206, 0.7146, 0.8570),
    "refinedweb": (125.1, 246.2, -0.25439, 1.7345, 1.128, 0.8215, 0.7677, 2.215, 0.7070, 0.8653),
}
GADRE_TRAINING_SETS = tuple(_GADRE_TABLE)


def gadre_loss_law(training_data: str = "rpj") -> GadreLossLaw:
    """Gadre et al.'s loss law for models trained on ``training_data`` (c4, rpj, refinedweb)."""
    a, b, eta, e, *_ = _GADRE_TABLE[_training_key(training_data)]
    return GadreLossLaw(a=a, b=b, eta=eta, E=e, name=f"gadre2024-{_training_key(training_data)}",
                        source=GADRE_SOURCE)


def gadre_error_law(training_data: str = "rpj", tasks: int = 17) -> ErrorLaw:
    """Gadre et al.'s loss -> average top-1 error law for the 17- or 46-task suite."""
    row = _GADRE_TABLE[_training_key(training_data)]
    if tasks == 46:
        k, g, e = row[4:7]
    elif tasks == 17:
        k, g, e = row[7:10]
    else:
        raise ScalingLabError(f"tasks: Gadre et al. report suites of 17 or 46 tasks, got {tasks!r}")
    return ErrorLaw(epsilon=e, k=k, gamma=g,
                    name=f"gadre2024-{_training_key(training_data)}-{tasks}tasks",
                    source=GADRE_SOURCE)


def _training_key(name: str) -> str:
    key = str(name).strip().lower().replace("-", "").replace("_", "")
    key = {"redpajama": "rpj", "rw": "refinedweb"}.get(key, key)
    if key not in _GADRE_TABLE:
        raise ScalingLabError(
            f"unknown training data {name!r} for Gadre et al. 2024; known: {', '.join(_GADRE_TABLE)}")
    return key


# ----- OLMo ladder two-step ------------------------------------------------------------------

@dataclass(frozen=True)
class SigmoidAccuracyLaw:
    """Acc(L) = a/(1 + exp(−k·(L − L0))) + b  (OLMo ladder step 2, ``sigmoid_fit``).

    With a < 0 and k > 0 accuracy falls from a + b... to b as the task loss grows; fitted
    curves usually take b ≈ 1 and a + b ≈ the chance baseline.
    """

    a: float
    L0: float
    k: float
    b: float

    def predict(self, loss):
        """Accuracy (fraction) at task loss ``loss``."""
        x = np.asarray(loss, dtype=float)
        if not np.all(np.isfinite(x)):
            raise ScalingLabError(f"loss: must be finite, got {loss!r}")
        return scalar_or_array(self.a / (1.0 + np.exp(-self.k * (x - self.L0))) + self.b)

    def as_dict(self) -> dict:
        return {"a": self.a, "L0": self.L0, "k": self.k, "b": self.b}


@dataclass(frozen=True)
class TwoStepPredictor:
    """(N, D) -> task loss -> accuracy: OLMo ladder step 1 (Chinchilla form) chained into step 2."""

    task_loss: ParametricLaw
    accuracy: SigmoidAccuracyLaw

    def predict(self, params, tokens):
        """Predicted task accuracy (fraction) of ``params`` parameters trained on ``tokens`` tokens."""
        return self.accuracy.predict(self.task_loss.predict(params, tokens))


def _xy(x, y, xname, yname, minimum):
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if xa.shape != ya.shape:
        raise ScalingLabError(f"{xname} and {yname} must have the same length "
                              f"({xa.size} vs {ya.size})")
    if xa.size < minimum:
        raise ScalingLabError(f"need at least {minimum} ({xname}, {yname}) pairs, got {xa.size}")
    # A curve with `minimum` parameters needs that many distinct x values, or it fits exactly anything.
    if np.unique(xa).size < minimum:
        raise ScalingLabError(f"need at least {minimum} distinct {xname} values, got "
                              f"{np.unique(xa).size}")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise ScalingLabError(f"{xname} and {yname} must be finite numbers")
    if np.any(xa <= 0):
        raise ScalingLabError(f"{xname}: losses must be positive")
    if np.any((ya < 0) | (ya > 1)):
        raise ScalingLabError(f"{yname}: must be fractions in [0, 1]")
    return xa, ya


#: What :attr:`SigmoidAccuracyFit.warnings_` / :attr:`ErrorLawFit.warnings_` say when scipy could
#: not estimate the covariance of the fitted parameters (its OptimizeWarning).
NO_COVARIANCE = ("the data do not pin down every parameter (as few points as parameters, a flat "
                 "curve, or a jump with no points on the slope): the covariance of the parameters "
                 "could not be estimated, and other curves fit these points as well; add points "
                 "where the curve changes")


def _best_curve_fit(f, x, y, starts):
    """Least-squares fit of ``f`` from each start in turn: ``(sse, params, covariance_ok)`` of the
    finite fit with the lowest SSE (the earliest start wins a tie), or None when no start
    converged. ``covariance_ok`` is False when scipy could not estimate the parameters'
    covariance (it would warn "Covariance of the parameters could not be estimated")."""
    best = None
    for p0 in starts:
        with warnings.catch_warnings():
            # scipy's OptimizeWarning is read from the covariance below and reported as a fitted
            # attribute; overflow in exp at a trial point the optimizer then rejects is not news.
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                popt, pcov = curve_fit(f, x, y, p0=p0, maxfev=20000)
            except RuntimeError:
                continue
            sse = float(np.sum((f(x, *popt) - y) ** 2))
        if np.all(np.isfinite(popt)) and (best is None or sse < best[0]):
            best = (sse, popt, bool(np.all(np.isfinite(pcov))))
    return best


class SigmoidAccuracyFit:
    """Fit Acc(L) = a/(1 + exp(−k·(L − L0))) + b to your own (task loss, accuracy) pairs.

    Scikit-learn conventions: the constructor stores settings, :meth:`fit` returns ``self``,
    fitted values end in ``_``. The start point is the OLMo ladder's p0 = [baseline − 1, 0.9, 3, 1]
    (``sigmoid_fit``), moved to the data's loss range, plus a small grid of starts so that one bad
    start cannot decide the answer.

    Parameters
    ----------
    baseline : float
        Chance accuracy of the task (0.25 for 4-way multiple choice).

    Attributes
    ----------
    law_ : SigmoidAccuracyLaw
        The fitted curve; ``a_``, ``L0_``, ``k_``, ``b_`` are its parameters.
    rmse_ : float
        Root-mean-square error of the fit (accuracy units).
    n_points_ : int
        Pairs fitted.
    covariance_estimated_ : bool
        False when the covariance of the parameters could not be estimated: with only four
        points, a flat accuracy curve or a jump with no points on its slope, the data do not pin
        down the four parameters and the fitted curve is one of many that fit as well. No scipy
        warning is raised for it.
    warnings_ : list of str
        Plain-language notes about the fit (empty when there is nothing to say); see
        :data:`NO_COVARIANCE`.
    """

    def __init__(self, baseline: float = 0.25):
        if not (isinstance(baseline, (int, float)) and 0 <= baseline < 1):
            raise ScalingLabError(f"baseline: must be a chance accuracy in [0, 1), got {baseline!r}")
        self.baseline = float(baseline)

    def fit(self, loss, accuracy) -> SigmoidAccuracyFit:
        x, y = _xy(loss, accuracy, "loss", "accuracy", 4)

        def f(t, a, l0, k, b):
            return a / (1.0 + np.exp(-k * (t - l0))) + b

        span = float(x.max() - x.min()) or 1.0
        starts = [[self.baseline - 1.0, l0, k, 1.0]
                  for l0 in np.quantile(x, [0.25, 0.5, 0.75]) for k in (3.0, 10.0 / span)]
        best = _best_curve_fit(f, x, y, starts)
        if best is None:
            raise ScalingLabError("the sigmoid fit did not converge from any start; "
                                  "check that accuracy varies with loss")
        sse, (a, l0, k, b), covariance_ok = best
        self.law_ = SigmoidAccuracyLaw(a=float(a), L0=float(l0), k=float(k), b=float(b))
        self.a_, self.L0_, self.k_, self.b_ = self.law_.a, self.law_.L0, self.law_.k, self.law_.b
        self.rmse_ = math.sqrt(sse / x.size)
        self.n_points_ = int(x.size)
        self.covariance_estimated_ = covariance_ok
        self.warnings_ = [] if covariance_ok else [NO_COVARIANCE]
        return self

    def predict(self, loss):
        """Predicted accuracy at ``loss`` (after :meth:`fit`)."""
        if not hasattr(self, "law_"):
            raise ScalingLabError("call fit() before predict()")
        return self.law_.predict(loss)


class ErrorLawFit:
    """Fit Gadre et al.'s Err(L) = ε − k·exp(−γ·L) to your own (loss, error) pairs.

    Least squares from a few starts (γ ∈ {0.5, 1, 2}); fitted ``epsilon_``, ``k_``, ``gamma_``,
    ``law_`` (an :class:`ErrorLaw`), ``rmse_``, and, as for :class:`SigmoidAccuracyFit`,
    ``covariance_estimated_`` (False with three points or a flat curve, which do not pin down
    the three parameters) and ``warnings_`` (plain-language notes; no scipy warning is raised).
    """

    def fit(self, loss, error) -> ErrorLawFit:
        x, y = _xy(loss, error, "loss", "error", 3)

        def f(t, eps, k, g):
            return eps - k * np.exp(-g * t)

        starts = [[min(1.0, float(y.max()) + 0.05), 1.0, g0] for g0 in (0.5, 1.0, 2.0)]
        best = _best_curve_fit(f, x, y, starts)
        if best is None:
            raise ScalingLabError("the error-law fit did not converge; check the data")
        sse, (eps, k, g), covariance_ok = best
        self.law_ = ErrorLaw(epsilon=float(eps), k=float(k), gamma=float(g), name="fitted")
        self.epsilon_, self.k_, self.gamma_ = self.law_.epsilon, self.law_.k, self.law_.gamma
        self.rmse_ = math.sqrt(sse / x.size)
        self.covariance_estimated_ = covariance_ok
        self.warnings_ = [] if covariance_ok else [NO_COVARIANCE]
        return self

    def predict(self, loss):
        if not hasattr(self, "law_"):
            raise ScalingLabError("call fit() before predict()")
        return self.law_.predict(loss)
