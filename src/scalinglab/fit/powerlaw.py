"""One-variable laws: the pure power law y = k·x^s and the saturating law L = E + (X0/X)^α.

Both follow the contract of :mod:`scalinglab.fit._base`: ``fit(runs, variable=...)`` (a runs table:
the ``loss`` column over the ``params``, ``tokens`` or ``flops`` column) or ``fit(x=..., y=...)``
(arrays), returning the estimator; ``predict(x)`` (or the fitted column of a table).

- :class:`PowerLawFit` — ordinary least squares on log y against log x (base-independent), with
  t-based standard errors and intervals. Used for N_opt ∝ C^a (Approaches 1 and 2), for
  Kaplan-style L = (X_c/X)^α (α = −s, X_c = k^(1/α)) and for the Approach-2 interpolation of D on N
  in ``docs/fitting.md``.
- :class:`SaturatingPowerLawFit` — L = E + (X0/X)^α over one variable (N, D or C), fitted by least
  squares on the loss by variable projection: for each α the model is linear in (E, c = X0^α),
  solved exactly with E ≥ 0, c > 0; α is found by a log-spaced scan and refined by bounded Brent.
  This avoids local minima in (E, X0) entirely.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.stats import t as student_t

from scalinglab.core.numbers import positive
from scalinglab.errors import ScalingLabError
from scalinglab.fit._base import Estimator
from scalinglab.fit._checks import require_fitted
from scalinglab.fit._data import columns, frame_of, one_variable
from scalinglab.fit.diagnostics import VANISHING_TERM


def _xy(x, y, xname="x", yname="y"):
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    if x.shape != y.shape or x.ndim != 1:
        raise ScalingLabError(f"{xname} and {yname} must be 1-D arrays of equal length, got {x.shape} and {y.shape}")
    for name, arr in ((xname, x), (yname, y)):
        bad = np.flatnonzero(~np.isfinite(arr) | (arr <= 0))
        if bad.size:
            raise ScalingLabError(f"{name} must be positive and finite (row {bad[0] + 1}: {arr[bad[0]]!r})")
    return x, y


@dataclass
class PowerLawFit(Estimator):
    """y = k·x^s by least squares in log space (no settings).

    ``fit(runs, variable=...)`` fits the table's loss over that column; ``fit(x=..., y=...)`` any
    positive y over x (e.g. N_opt over C). ``predict(x)`` returns y (a loss for a loss law).

    Fitted attributes: ``exponent_`` (s), ``coefficient_`` (k), ``exponent_se_``,
    ``log_coefficient_se_`` (natural log), ``n_points_``, ``rmse_log_`` (RMS residual of ln y),
    ``variable_`` (the column fitted, None for arrays), ``flags_`` (always empty).
    """

    one_variable = True

    def fit(self, runs=None, *, variable=None, x=None, y=None):
        """Fit to a runs table (``variable=`` names x, y is ``loss``) or to ``x=`` and ``y=``; returns ``self``."""
        x, y, self.variable_ = one_variable(runs, variable=variable, x=x, y=y)
        x, y = _xy(x, y)
        self.flags_ = []  # least squares in log space always has an answer; nothing to flag
        if x.size < 2:
            raise ScalingLabError(f"a power law needs at least 2 points, got {x.size}")
        if np.unique(x).size < 2:
            raise ScalingLabError(f"all x values are equal ({x[0]:.4g}); the exponent is undetermined")
        lx, ly = np.log(x), np.log(y)
        design = np.column_stack([np.ones_like(lx), lx])
        coef, *_ = np.linalg.lstsq(design, ly, rcond=None)
        resid = ly - design @ coef
        self.n_points_ = int(x.size)
        dof = x.size - 2
        self.rmse_log_ = float(math.sqrt(np.mean(resid**2)))
        if dof > 0:
            s2 = float(resid @ resid) / dof
            cov = s2 * np.linalg.inv(design.T @ design)
            self.log_coefficient_se_ = float(math.sqrt(cov[0, 0]))
            self.exponent_se_ = float(math.sqrt(cov[1, 1]))
        else:
            self.log_coefficient_se_ = self.exponent_se_ = math.nan
        self.log_coefficient_ = float(coef[0])
        self.coefficient_ = float(math.exp(coef[0]))
        self.exponent_ = float(coef[1])
        return self

    def predict(self, x):
        """k·x^s at ``x`` (positive and finite, else a ScalingLabError; never NaN), or at the
        fitted column of a runs table."""
        require_fitted(self, "exponent_")
        x = positive(_x_of(self, x), "x")
        out = self.coefficient_ * x**self.exponent_
        return float(out) if out.ndim == 0 else out


    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """t-interval of the exponent (needs at least 3 points)."""
        require_fitted(self, "exponent_")
        if not math.isfinite(self.exponent_se_):
            raise ScalingLabError(f"{self.n_points_} points leave no degrees of freedom for an interval")
        q = float(student_t.ppf(0.5 + level / 2, self.n_points_ - 2))
        return self.exponent_ - q * self.exponent_se_, self.exponent_ + q * self.exponent_se_

    # Kaplan-style reading of a decreasing law y = (X_c/x)^α
    @property
    def alpha_(self) -> float:
        return -self.exponent_

    @property
    def scale_(self) -> float:
        """X_c in y = (X_c/x)^α; defined only for a decreasing law (α > 0)."""
        if self.alpha_ <= 0:
            raise ScalingLabError(f"the fitted law is not decreasing (exponent {self.exponent_:.4g})")
        return math.exp(self.log_coefficient_ / self.alpha_)

    def as_dict(self) -> dict:
        require_fitted(self, "exponent_")
        return {"exponent": self.exponent_, "coefficient": self.coefficient_,
                "exponent_se": self.exponent_se_, "n_points": self.n_points_, "rmse_log": self.rmse_log_,
                "flags": list(self.flags_)}


@dataclass
class SaturatingPowerLawFit(Estimator):
    """L = E + (X0/X)^α over one variable X (parameters, tokens or FLOPs).

    ``fit(runs, variable=...)`` or ``fit(x=..., y=...)`` (``loss=`` for ``y=``) -> self;
    ``predict(x)`` (or the fitted column of a runs table) -> losses.

    Parameters
    ----------
    alpha_min, alpha_max : float
        Ends of the exponent search.

    Fitted attributes: ``E_`` (irreducible loss, nats/token), ``alpha_``, ``X0_``, ``sse_``,
    ``rmse_``, ``n_points_``, ``converged_``, ``flags_``, ``degenerate_`` (True when a flag says the
    data do not identify the law, as for ``ChinchillaFit``), ``variable_`` (the column fitted when
    ``fit`` was given a runs table, else None).
    """

    alpha_min: float = 1e-4
    alpha_max: float = 3.0

    one_variable = True

    def fit(self, runs=None, *, variable=None, x=None, y=None, loss=None):
        """Fit to a runs table, or to ``x`` and ``y`` (or ``loss``) arrays.

        Parameters
        ----------
        runs : runs table, optional
            A DataFrame, mapping of arrays or run table with a ``loss`` column and the column
            named by ``variable``.
        variable : {"params", "tokens", "flops"}, optional
            With a table: the column to fit over. It may be left out when the table has exactly
            one of those columns. ``predict`` then also accepts a table.
        x, y (or loss) : array-like, optional
            The variable (positive) and the losses (nats/token), instead of a table.

        Returns
        -------
        self

        Notes
        -----
        Besides the search-bound and no-trend flags, a fit whose power-law term changes by less
        than ``VANISHING_TERM`` (1e-3) of the mean loss across the data (flat data: X0 -> 0) is
        flagged: E is then the mean loss and α and X0 are not determined. Any flag sets
        ``degenerate_``.
        """
        x, y, self.variable_ = one_variable(runs, variable=variable, x=x, y=y, loss=loss)
        x, y = _xy(x, y, "x", "loss")
        if x.size < 4:
            raise ScalingLabError(f"L = E + (X0/X)^alpha has 3 parameters; need at least 4 points, got {x.size}")
        if np.unique(x).size < 3:
            raise ScalingLabError("need at least 3 distinct x values to separate E from the power law")
        # Normalise x by its geometric mean so that c stays O(loss) whatever the units.
        scale = float(np.exp(np.mean(np.log(x))))
        z = x / scale

        def solve(alpha):
            t = z ** (-alpha)
            design = np.column_stack([np.ones_like(t), t])
            (e, c), *_ = np.linalg.lstsq(design, y, rcond=None)
            if e < 0:  # E ≥ 0: refit with E = 0
                e, c = 0.0, float(t @ y / (t @ t))
            if c <= 0:  # no decreasing part: the best law is a constant, which we flag
                e, c = float(np.mean(y)), 0.0
            r = y - e - c * t
            return float(r @ r), float(e), float(c)

        grid = np.geomspace(self.alpha_min, self.alpha_max, 240)
        sse = np.array([solve(a)[0] for a in grid])
        i = int(np.argmin(sse))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        res = minimize_scalar(lambda a: solve(a)[0], bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-12 * max(1.0, hi)})
        alpha = float(res.x) if res.fun <= sse[i] else float(grid[i])
        sse_best, e, c = solve(alpha)
        self.flags_ = []
        self.converged_ = True
        # How much the power-law term moves over the data, as a fraction of the loss: on flat data
        # the least-squares c is a rounding-level positive number (X0 ~ 1e-47), which would
        # otherwise pass as a clean fit.
        change = c * abs(float(z.min()) ** -alpha - float(z.max()) ** -alpha) / float(np.mean(y))
        if c <= 0:
            self.flags_.append("no decreasing trend: the loss does not fall with x")
            self.converged_ = False
        elif change < VANISHING_TERM:
            self.flags_.append(f"the power-law term vanishes over the data (changes by {100 * change:.2g}% of "
                               "the loss): the loss is flat in x, so alpha and X0 are not determined")
        if alpha >= self.alpha_max * (1 - 1e-6) or alpha <= self.alpha_min * (1 + 1e-6):
            self.flags_.append(f"alpha = {alpha:.4g} is at the search bound [{self.alpha_min:g}, {self.alpha_max:g}]")
            self.converged_ = False
        if e == 0.0:
            self.flags_.append("E is at its bound 0 (the data show no saturation)")
        self.degenerate_ = bool(self.flags_)
        self.alpha_ = alpha
        self.E_ = float(e)
        self.X0_ = float(scale * c ** (1.0 / alpha)) if c > 0 else math.nan
        self.sse_ = sse_best
        self.rmse_ = math.sqrt(sse_best / x.size)
        self.n_points_ = int(x.size)
        return self

    def predict(self, x):
        """Predicted loss at ``x`` (positive and finite), or at the fitted column of a runs table."""
        require_fitted(self, "alpha_")
        x = positive(_x_of(self, x), "x")
        term = (self.X0_ / x) ** self.alpha_ if math.isfinite(self.X0_) else 0.0 * x
        out = self.E_ + term
        return float(out) if np.ndim(out) == 0 else out


    def as_dict(self) -> dict:
        require_fitted(self, "alpha_")
        return {"E": self.E_, "alpha": self.alpha_, "X0": self.X0_, "rmse": self.rmse_,
                "n_points": self.n_points_, "converged": self.converged_, "degenerate": self.degenerate_,
                "flags": list(self.flags_)}


def _x_of(est, x):
    """``x`` itself, or the fitted column (``variable_``) of a runs table."""
    if not (hasattr(frame_of(x), "columns") or isinstance(x, dict)):
        return x
    if est.variable_ is None:
        raise ScalingLabError(f"this {type(est).__name__} was fitted on arrays; pass the x values, not a table")
    table = columns(x)
    if est.variable_ not in table:
        raise ScalingLabError(f"the table has no {est.variable_!r} column (the variable this law was fitted on)")
    return np.asarray(table[est.variable_], dtype=float)
