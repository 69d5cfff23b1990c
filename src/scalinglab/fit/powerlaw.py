"""One-variable laws: the pure power law y = k·x^s and the saturating law L = E + (X0/X)^α.

- :class:`PowerLaw` — ordinary least squares on log y against log x (base-independent), with
  t-based standard errors and intervals. Used for N_opt ∝ C^a (Approaches 1 and 2), for
  Kaplan-style L = (X_c/X)^α (α = −s, X_c = k^(1/α)) and for the Approach-2 interpolation of D on N
  over Hoffmann et al. 2022 Table A3 (docs/fitting.md).
- :class:`SaturatingPowerLaw` — L = E + (X0/X)^α over one variable (N, D or C), fitted by least
  squares on the loss by variable projection: for each α the model is linear in (E, c = X0^α),
  solved exactly with E ≥ 0, c > 0; α is found by a log-spaced scan and refined by bounded Brent.
  This avoids local minima in (E, X0) entirely.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from scalinglab.errors import ScalingLabError
from scalinglab.fit._base import ParamsMixin
from scalinglab.fit._checks import require_fitted
from scalinglab.core.numbers import positive

#: The variables a one-variable law may be fitted over when given a runs table.
VARIABLES = ("params", "tokens", "flops")


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
class PowerLaw(ParamsMixin):
    """y = k·x^s by least squares in log space.

    Fitted attributes: ``exponent_`` (s), ``coefficient_`` (k), ``exponent_se_``,
    ``log_coefficient_se_`` (natural log), ``n_points_``, ``rmse_log_`` (RMS residual of ln y).
    """

    def fit(self, x, y):
        x, y = _xy(x, y)
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
        """k·x^s at ``x`` (positive and finite, else a ScalingLabError; never NaN)."""
        require_fitted(self, "exponent_")
        x = positive(x, "x")
        out = self.coefficient_ * x**self.exponent_
        return float(out) if out.ndim == 0 else out


    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """t-interval of the exponent (needs at least 3 points)."""
        from scipy.stats import t

        require_fitted(self, "exponent_")
        if not math.isfinite(self.exponent_se_):
            raise ScalingLabError(f"{self.n_points_} points leave no degrees of freedom for an interval")
        q = float(t.ppf(0.5 + level / 2, self.n_points_ - 2))
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
                "exponent_se": self.exponent_se_, "n_points": self.n_points_, "rmse_log": self.rmse_log_}


@dataclass
class SaturatingPowerLaw(ParamsMixin):
    """L = E + (X0/X)^α over one variable X (parameters, tokens or FLOPs).

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
    flags_: list = field(default_factory=list, init=False, repr=False)

    def fit(self, x, loss=None, *, variable=None):
        """Fit to ``x`` and ``loss`` arrays, or to a runs table.

        Parameters
        ----------
        x : array-like or DataFrame
            The variable (positive), or a runs table with a ``loss`` column and the column named
            by ``variable``.
        loss : array-like, optional
            Losses (nats/token); omitted when ``x`` is a table.
        variable : {"params", "tokens", "flops"}, optional
            With a table: the column to fit over. It may be left out when the table has exactly
            one of those columns. ``predict`` then also accepts a table.

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
        self.variable_ = None
        if hasattr(x, "columns"):
            x, loss, self.variable_ = _table_xy(x, loss, variable)
        elif variable is not None:
            raise ScalingLabError("variable= names a column of a runs table; with arrays pass x and loss")
        elif loss is None:
            raise ScalingLabError("SaturatingPowerLaw.fit needs x and loss arrays, or a runs table "
                                  "with a loss column and variable= one of params, tokens, flops")
        x, y = _xy(x, loss, "x", "loss")
        if x.size < 4:
            raise ScalingLabError(f"L = E + (X0/X)^alpha has 3 parameters; need at least 4 points, got {x.size}")
        if np.unique(x).size < 3:
            raise ScalingLabError("need at least 3 distinct x values to separate E from the power law")
        from scipy.optimize import minimize_scalar

        from scalinglab.fit.parametric import VANISHING_TERM

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
        if hasattr(x, "columns"):
            if self.variable_ is None:
                raise ScalingLabError("this SaturatingPowerLaw was fitted on arrays; pass the x values, not a table")
            if self.variable_ not in x:
                raise ScalingLabError(f"the table has no {self.variable_!r} column (the variable this law was fitted on)")
            x = x[self.variable_].to_numpy(float)
        x = positive(x, "x")
        term = (self.X0_ / x) ** self.alpha_ if math.isfinite(self.X0_) else 0.0 * x
        out = self.E_ + term
        return float(out) if np.ndim(out) == 0 else out


    def as_dict(self) -> dict:
        require_fitted(self, "alpha_")
        return {"E": self.E_, "alpha": self.alpha_, "X0": self.X0_, "rmse": self.rmse_,
                "n_points": self.n_points_, "converged": self.converged_, "degenerate": self.degenerate_,
                "flags": list(self.flags_)}


def _table_xy(runs, loss, variable):
    """(x, loss, variable) from a runs table for a one-variable law (see ``SaturatingPowerLaw.fit``)."""
    if loss is not None:
        raise ScalingLabError("pass either a runs table or x and loss arrays, not both")
    if variable is None:
        present = [v for v in VARIABLES if v in runs]
        if len(present) != 1:
            raise ScalingLabError("a one-variable law fitted to a runs table needs variable= one of "
                                  f"{', '.join(VARIABLES)} (the table has {', '.join(present) or 'none of them'})")
        variable = present[0]
    if variable not in VARIABLES:
        raise ScalingLabError(f"variable must be one of {', '.join(VARIABLES)}, got {variable!r}")
    for col in (variable, "loss"):
        if col not in runs:
            raise ScalingLabError(f"the runs table has no {col!r} column")
    return runs[variable].to_numpy(float), runs["loss"].to_numpy(float), variable
