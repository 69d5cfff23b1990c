"""The Chinchilla parametric law and its closed-form compute-optimal frontier.

L(N, D) = E + A / N**alpha + B / D**beta   (Hoffmann et al. 2022, Eq. 2), N total parameters,
D training tokens, loss in nats per token. Under C = k·N·D (k = 6 by default), the optimum is
(Hoffmann et al. 2022, Eq. 4):

    N_opt = G·(C/k)**a,  D_opt = (C/k)**b / G,  G = (alpha·A / (beta·B))**(1/(alpha+beta)),
    a = beta/(alpha+beta),  b = alpha/(alpha+beta).

The presets (Hoffmann's rounded and unrounded constants, Epoch's replication) are in
:mod:`scalinglab.laws.registry`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scalinglab.errors import ScalingLabError
from scalinglab.laws.ranges import FittedRange


@dataclass(frozen=True)
class Allocation:
    """A compute allocation: parameters, tokens, the compute they use and the predicted loss."""

    compute: float
    params: float
    tokens: float
    loss: float

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params

    def as_dict(self) -> dict:
        return {
            "flops": self.compute,
            "params": self.params,
            "tokens": self.tokens,
            "tokens_per_param": self.tokens_per_param,
            "loss": self.loss,
        }


def _positive(value, name):
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ScalingLabError(f"{name}: must be positive and finite, got {value!r}")
    return arr


def _out(arr):
    return float(arr) if np.ndim(arr) == 0 else arr


@dataclass(frozen=True)
class ParametricLaw:
    """L(N, D) = E + A / N**alpha + B / D**beta  (Hoffmann et al. 2022, Eq. 2)."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    name: str = "custom"
    source: str = ""
    #: The runs the constants were fitted on (:mod:`scalinglab.laws.ranges`); ``None`` if unknown.
    fitted_range: FittedRange | None = None

    # ----- the two questions ------------------------------------------------------------------
    def predict(self, params, tokens):
        """Predicted loss (nats/token) for ``params`` total parameters trained on ``tokens`` tokens."""
        n = _positive(params, "params")
        d = _positive(tokens, "tokens")
        return _out(self.E + self.A / n**self.alpha + self.B / d**self.beta)

    @property
    def a(self) -> float:
        """Allocation exponent: N_opt ∝ C**a."""
        return self.beta / (self.alpha + self.beta)

    @property
    def b(self) -> float:
        """Allocation exponent: D_opt ∝ C**b."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def G(self) -> float:
        """The frontier's constant G = (alpha·A / (beta·B))**(1/(alpha+beta)) (Eq. 4)."""
        # In logs: a fitted law with an exponent near 0 would overflow the plain power (inf then
        # makes optimum() raise a clear error instead of an OverflowError).
        log_g = (math.log(self.alpha * self.A) - math.log(self.beta * self.B)) / (self.alpha + self.beta)
        return math.exp(log_g) if log_g < 709.0 else math.inf

    def optimum(self, compute, flops_per_param_token: float = 6.0) -> Allocation:
        """Compute-optimal allocation for ``compute`` FLOPs with C = k·N·D (Eq. 4, closed form)."""
        c = _positive(compute, "compute")
        scaled = c / flops_per_param_token
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            n = self.G * scaled**self.a
            d = scaled**self.b / self.G
        if not (np.all(np.isfinite(n)) and np.all(np.isfinite(d)) and np.all(n > 0) and np.all(d > 0)):
            # e.g. a fitted law whose exponent collapsed to ~0: G over- or underflows.
            raise ScalingLabError(
                f"law {self.name!r} (alpha={self.alpha:.4g}, beta={self.beta:.4g}) has no finite "
                f"compute-optimal allocation at C = {np.max(c):.3g} FLOPs")
        return Allocation(compute=_out(c), params=_out(n), tokens=_out(d), loss=self.predict(n, d))

    def at_compute(self, compute, params, flops_per_param_token: float = 6.0) -> Allocation:
        """The allocation that spends ``compute`` on a model of ``params`` parameters."""
        c = _positive(compute, "compute")
        n = _positive(params, "params")
        d = c / (flops_per_param_token * n)
        return Allocation(compute=_out(c), params=_out(n), tokens=_out(d), loss=self.predict(n, d))

    def compute_for_params(self, params, flops_per_param_token: float = 6.0):
        """The training FLOPs at which ``params`` is compute-optimal: C = k·(N/G)**(1/a) (Eq. 4 inverted)."""
        n = _positive(params, "params")
        return _out(flops_per_param_token * (n / self.G) ** (1.0 / self.a))

    def as_dict(self) -> dict:
        return {"E": self.E, "A": self.A, "B": self.B, "alpha": self.alpha, "beta": self.beta,
                "a": self.a, "b": self.b, "name": self.name, "source": self.source}


def numeric_optimum(law, compute, flops_per_param_token: float = 6.0) -> Allocation:
    """Minimise ``law.predict(N, C/(k·N))`` over N by Brent's method (a check on closed forms).

    Works for any law with ``predict(params, tokens)``. The search runs over ln N from a bracket
    around N = sqrt(C/k) (one token per parameter), which Brent widens downhill as needed.
    Agrees with :meth:`ParametricLaw.optimum` to relative 2e-7 or better for C in [1e20, 1e26]
    (LAWS.md §2.2); the limit is float64 resolution of a flat minimum, not the method.

    Parameters
    ----------
    law : object with ``predict(params, tokens)``
    compute : float
        Training FLOPs C (scalar).
    flops_per_param_token : float
        k in C = k·N·D.
    """
    from scipy.optimize import minimize_scalar  # scipy.optimize is slow to import; only here

    if np.ndim(compute) != 0:
        raise ScalingLabError(f"compute: numeric_optimum takes one budget at a time, got {compute!r}")
    c = float(_positive(compute, "compute"))
    k = float(_positive(flops_per_param_token, "flops_per_param_token"))
    centre = 0.5 * np.log(c / k)

    def loss_at(log_n):
        n = np.exp(log_n)
        return law.predict(n, c / (k * n))

    result = minimize_scalar(loss_at, bracket=(centre - 3.0, centre + 3.0), method="brent",
                             tol=1e-12)
    if not result.success:
        raise ScalingLabError(f"compute {c:.3g}: no minimum of the loss along C = k·N·D ({result.message})")
    n = float(np.exp(result.x))
    d = c / (k * n)
    return Allocation(compute=c, params=n, tokens=d, loss=float(law.predict(n, d)))
