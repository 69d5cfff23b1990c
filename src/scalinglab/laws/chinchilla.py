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

from scalinglab.core.numbers import positive, scalar_or_array
from scalinglab.core.units import FLOP_PER_PARAM_TOKEN
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


def _check_constants(law, names, *, non_negative=(), positive=()) -> None:
    """Refuse a law built with NaN/inf, a negative floor or a non-positive scale: it would only
    ever predict NaN or nonsense, silently."""
    where = f"{type(law).__name__} {getattr(law, 'name', '')!r}"
    for key in names:
        value = getattr(law, key)
        if isinstance(value, (bool, np.bool_, str, bytes)):
            raise ScalingLabError(f"{where}: {key} must be a number, got {value!r}")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ScalingLabError(f"{where}: {key} must be a number, got {value!r}") from None
        if not math.isfinite(value):
            raise ScalingLabError(f"{where}: {key} must be finite, got {value!r}")
        if key in non_negative and value < 0:
            raise ScalingLabError(f"{where}: {key} (the irreducible loss) must be >= 0, got {value!r}")
        if key in positive and value <= 0:
            raise ScalingLabError(f"{where}: {key} must be > 0, got {value!r}")


def allocation_at_compute(law, compute, params, flops_per_param_token: float = FLOP_PER_PARAM_TOKEN) -> Allocation:
    """The allocation that spends ``compute`` FLOPs on ``params`` parameters, D = C / (k·N), with
    ``law``'s predicted loss: what every law's ``at_compute`` answers."""
    c = positive(compute, "compute")
    n = positive(params, "params")
    d = c / (positive(flops_per_param_token, "flops_per_param_token") * n)
    return Allocation(compute=scalar_or_array(c), params=scalar_or_array(n),
                      tokens=scalar_or_array(d), loss=law.predict(n, d))


@dataclass(frozen=True)
class ParametricLaw:
    """L(N, D) = E + A / N**alpha + B / D**beta  (Hoffmann et al. 2022, Eq. 2).

    Parameters
    ----------
    E, A, B, alpha, beta : float
        The constants: all finite, ``E >= 0``, ``A > 0`` and ``B > 0`` (a :class:`ScalingLabError`
        otherwise). The exponents may be 0 or negative, as a degenerate fit produces them (and
        flags them): such a law still predicts, but :meth:`optimum`, :attr:`G` and
        :meth:`compute_for_params` refuse it, since it has no finite compute-optimal allocation.
    name, source : str
        A label and where the constants come from.
    fitted_range : FittedRange, optional
        The runs the constants were fitted on (:mod:`scalinglab.laws.ranges`); ``None`` if unknown.

    Notes
    -----
    Every number argument (``params``, ``tokens``, ``compute``) takes a float, a human string
    (``"70B"``, ``"1.4T"``, ``"1e24"``, as :func:`~scalinglab.core.numbers.parse_number` reads them)
    or an array of either; arrays give arrays back. Booleans, zero, negatives and NaN are refused.
    """

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    name: str = "custom"
    source: str = ""
    #: The runs the constants were fitted on (:mod:`scalinglab.laws.ranges`); ``None`` if unknown.
    fitted_range: FittedRange | None = None

    def __post_init__(self):
        _check_constants(self, ("E", "A", "B", "alpha", "beta"), non_negative=("E",), positive=("A", "B"))

    def _require_frontier(self) -> None:
        """Refuse the frontier of a law whose exponents cannot give one (a degenerate fit)."""
        if not (self.alpha > 0 and self.beta > 0):
            # alpha or beta <= 0: the loss does not fall with N (or D), so along C = k·N·D it has
            # no interior minimum; the closed form would take a log of a non-positive number.
            raise ScalingLabError(
                f"law {self.name!r} (alpha={self.alpha:.4g}, beta={self.beta:.4g}) has no finite "
                f"compute-optimal allocation: it needs alpha > 0 and beta > 0")

    # ----- the two questions ------------------------------------------------------------------
    def predict(self, params, tokens):
        """Predicted loss (nats/token) for ``params`` total parameters trained on ``tokens`` tokens."""
        n = positive(params, "params")
        d = positive(tokens, "tokens")
        return scalar_or_array(self.E + self.A / n**self.alpha + self.B / d**self.beta)

    @property
    def a(self) -> float:
        """Allocation exponent: N_opt ∝ C**a."""
        return self.beta / self._exponent_sum()

    @property
    def b(self) -> float:
        """Allocation exponent: D_opt ∝ C**b."""
        return self.alpha / self._exponent_sum()

    def _exponent_sum(self) -> float:
        total = self.alpha + self.beta
        if total == 0:  # only a hand-built law (alpha = -beta) gets here; fits and presets cannot
            raise ScalingLabError(f"law {self.name!r}: alpha + beta = 0, so the allocation exponents are undefined")
        return total

    @property
    def G(self) -> float:
        """The frontier's constant G = (alpha·A / (beta·B))**(1/(alpha+beta)) (Eq. 4)."""
        self._require_frontier()
        # In logs: a fitted law with an exponent near 0 would overflow the plain power (inf then
        # makes optimum() raise a clear error instead of an OverflowError).
        num, den = self.alpha * self.A, self.beta * self.B
        if 0 < num < math.inf and 0 < den < math.inf:
            log_g = (math.log(num) - math.log(den)) / (self.alpha + self.beta)
        else:  # alpha·A of a tiny fitted A underflows to 0 (or overflows) where each log does not
            log_g = ((math.log(self.alpha) + math.log(self.A) - math.log(self.beta) - math.log(self.B))
                     / (self.alpha + self.beta))
        return math.exp(log_g) if log_g < 709.0 else math.inf

    def optimum(self, compute, flops_per_param_token: float = FLOP_PER_PARAM_TOKEN) -> Allocation:
        """Compute-optimal allocation for ``compute`` FLOPs with C = k·N·D (Eq. 4, closed form)."""
        c = positive(compute, "compute")
        k = positive(flops_per_param_token, "flops_per_param_token")
        self._require_frontier()
        scaled = c / k
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            n = self.G * scaled**self.a
            d = scaled**self.b / self.G
        if not (np.all(np.isfinite(n)) and np.all(np.isfinite(d)) and np.all(n > 0) and np.all(d > 0)):
            # e.g. a fitted law whose exponent collapsed to ~0: G over- or underflows.
            raise ScalingLabError(
                f"law {self.name!r} (alpha={self.alpha:.4g}, beta={self.beta:.4g}) has no finite "
                f"compute-optimal allocation at C = {np.max(c):.3g} FLOPs")
        return Allocation(compute=scalar_or_array(c), params=scalar_or_array(n), tokens=scalar_or_array(d), loss=self.predict(n, d))

    def at_compute(self, compute, params, flops_per_param_token: float = FLOP_PER_PARAM_TOKEN) -> Allocation:
        """The allocation that spends ``compute`` on a model of ``params`` parameters."""
        return allocation_at_compute(self, compute, params, flops_per_param_token)

    def compute_for_params(self, params, flops_per_param_token: float = FLOP_PER_PARAM_TOKEN):
        """The training FLOPs at which ``params`` is compute-optimal: C = k·(N/G)**(1/a) (Eq. 4 inverted)."""
        n = positive(params, "params")
        k = positive(flops_per_param_token, "flops_per_param_token")
        g = self.G  # refuses a law without a frontier before the power below divides by a
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            c = k * (n / g) ** (1.0 / self.a)
        if not (np.all(np.isfinite(c)) and np.all(c > 0)):
            raise ScalingLabError(
                f"law {self.name!r} (alpha={self.alpha:.4g}, beta={self.beta:.4g}) has no finite "
                f"compute-optimal allocation for N = {np.max(n):.3g} parameters")
        return scalar_or_array(c)

    def as_dict(self) -> dict:
        return {"E": self.E, "A": self.A, "B": self.B, "alpha": self.alpha, "beta": self.beta,
                "a": self.a, "b": self.b, "name": self.name, "source": self.source}


def numeric_optimum(law, compute, flops_per_param_token: float = FLOP_PER_PARAM_TOKEN) -> Allocation:
    """Minimise ``law.predict(N, C/(k·N))`` over N by Brent's method (a check on closed forms).

    Works for any law with ``predict(params, tokens)``. The search runs over ln N from a bracket
    around N = sqrt(C/k) (one token per parameter), which Brent widens downhill as needed.
    Agrees with :meth:`ParametricLaw.optimum` to relative 2e-7 or better for C in [1e20, 1e26]
    (docs/laws.md, closed-form frontier); the limit is float64 resolution of a flat minimum, not
    the method.

    Parameters
    ----------
    law : object with ``predict(params, tokens)``
    compute : float
        Training FLOPs C (scalar).
    flops_per_param_token : float
        k in C = k·N·D.
    """
    # Here, not at module level: scipy.optimize takes ~0.3 s to import, and this module is on the
    # path of `scalinglab plan`, which must start in well under that.
    from scipy.optimize import minimize_scalar

    if np.ndim(compute) != 0:
        raise ScalingLabError(f"compute: numeric_optimum takes one budget at a time, got {compute!r}")
    c = float(positive(compute, "compute"))
    k = float(positive(flops_per_param_token, "flops_per_param_token"))
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
