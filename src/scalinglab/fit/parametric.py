"""Approach 3: fit L(N, D) = E + A/N^α + B/D^β to a table of runs (Hoffmann et al. 2022, §3.3).

The fit is Hoffmann's, made fast and made to finish (docs/fitting.md):

- Huber loss (δ = 1e-3) on residuals of log loss, **summed** over runs, in the log-sum-exp
  parametrisation θ = (a, b, e, α, β) with A = e^a, B = e^b, E = e^e (App. D.2, Eq. 3).
- Started from every point of Hoffmann's 4,500-point grid (App. D.2). All starts take a few
  Levenberg–Marquardt steps together, as one numpy batch (curvature from the IRLS majoriser of the
  Huber loss, so the steps are well scaled even though a, b span 0–25 and α, β 0–2). The best
  ``n_polish`` distinct starts are then finished one by one with scipy's L-BFGS-B using the analytic
  gradient, ``ftol = 0`` and ``gtol = 1e-10`` — the tight tolerances that avoid the early stop which
  the mean reduction and default tolerances cause (Besiroglu et al. 2024). The reported optimum is
  the
  best converged polish. On the Epoch data this reaches f* = 0.0010182740178 [C].
- ``estimator="likelihood"`` instead maximises Epoch's Huber likelihood with a free scale σ
  (Besiroglu et al. 2024, ``data_analysis.ipynb`` cells 24-26), the estimator behind their
  reported constants,
  started from the summed-Huber optimum.

Options: tie the exponents (α = β), fix E, bound the exponents, any δ.

Small sweeps (docs/fitting.md, degenerate fits; ``diagnose``): ten-odd tiny runs spanning a factor
~1.3 in
loss rarely identify all five parameters. The optimiser then "converges" to a boundary law (E -> 0,
an exponent near 0 where its term merges with E, or a steep term that vanishes over the data).
Every fit is therefore checked after the optimum is found; each problem is a message in
``flags_`` and ``degenerate_`` is True. The constrained variant for small sweeps is
``tie_exponents=True, exponent_bounds=SMALL_SWEEP_BOUNDS`` (4 free parameters, 0.05 ≤ α = β ≤ 1.5);
:func:`fit_small_sweep` fits the free form first and falls back to it only when the free fit is
degenerate, saying so in ``flags_``. A bound that is active at the optimum is itself flagged.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np

from scalinglab.errors import ScalingLabError
from scalinglab.fit import huber as H
from scalinglab.fit._base import ParamsMixin
from scalinglab.laws.chinchilla import ParametricLaw
from scalinglab.laws.ranges import FittedRange

#: Hoffmann et al. 2022, App. D.2 [P]: the initialisation grid, 5·5·5·6·6 = 4,500 starts.
HOFFMANN_GRID = {
    "a": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    "b": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    "e": (-1.0, -0.5, 0.0, 0.5, 1.0),
    "alpha": (0.0, 0.5, 1.0, 1.5, 2.0),
    "beta": (0.0, 0.5, 1.0, 1.5, 2.0),
}

#: Hoffmann et al. 2022, §3.3 and App. D.2 [P]: Huber threshold on log-loss residuals.
HOFFMANN_DELTA = 1e-3

#: A polish counts as converged when scipy reports success or its largest gradient component is at
#: most this (the objective's gradient at the Epoch-data optimum is below 3e-10 [C]).
GRAD_ACCEPT = 1e-7

#: A start whose a = ln A, b = ln B or e = ln E rises above THETA_LIMIT has run away. Beyond
#: ~709.8 the law cannot even be written down (``math.exp`` overflows); 300 keeps A, B, E and
#: their squares finite (e^600 ≈ 1e260), so bootstrap variances never overflow either. No
#: meaningful fit comes near: Hoffmann's grid tops out at 25, and a term with ln A = 300 needs an
#: exponent above 10 to be of order one at N = 1e12. Polishes that end above it are discarded as
#: diverged, never reported.
THETA_LIMIT = 300.0
#: The other direction is a boundary, not a runaway: E -> 0 or a vanishing term (ln → -inf). Such
#: a polish is kept (``diagnose`` flags it) with ln A, ln B, ln E raised to at least THETA_FLOOR,
#: which changes the prediction by under 1e-300 relative but keeps every constant a non-zero
#: float (e^-700 ≈ 1e-304) instead of an underflow to 0.
THETA_FLOOR = -700.0

#: Exponent bounds of the constrained variant for small sweeps (``exponent_bounds``; see
#: ``ChinchillaFit``). Every published Approach-3 exponent lies well inside: Hoffmann α = 0.34,
#: β = 0.28; Besiroglu α = 0.35, β = 0.37; Kaplan's N and D exponents 0.076 and 0.095. Below 0.05 a
#: term changes by under 11% over a decade of N or D, so it is indistinguishable from E on a small
#: sweep; above 1.5 it decays faster than any reported language-model law and vanishes within the
#: sampled range.
SMALL_SWEEP_BOUNDS = (0.05, 1.5)

#: Range of the allocation exponent a = β/(α+β) (N_opt ∝ C^a) outside of which a fit is flagged:
#: published estimates run from 0.46-0.51 (Hoffmann, Besiroglu) to 0.73 (Kaplan); a below 0.25 or
#: above 0.8 means one of the two terms is doing almost nothing over the data.
PLAUSIBLE_A = (0.25, 0.8)

#: A term (A/N^α or B/D^β) whose total change over the fitted runs is below this fraction of the
#: loss does not shape the fit: its constant and exponent are then not identified by the data. The
#: value is Hoffmann's Huber δ on log loss — residuals below it are treated as noise.
VANISHING_TERM = 1e-3

#: E below this fraction of the smallest observed loss counts as E -> 0 (the lower bound E > 0).
E_NEGLIGIBLE = 1e-3

#: Start of the flag a fit to long-form learning curves gets (several rows per run_id).
LEARNING_CURVES_FLAG = "the table looks like learning curves"

#: Weak identification from the local curvature (Gauss-Newton standard errors, ``standard_errors``),
#: on the same scale as the bootstrap rules (``scalinglab.fit.bootstrap``): an approximate 95%
#: interval (±1.96 se) of a wider than 0.25, or of α, β or E spanning more than a factor 4.
MAX_SE_A = 0.25 / 3.92
MAX_SE_LOG = math.log(4.0) / 3.92


# ----- data ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogData:
    """Natural logs of a runs table, the form every Approach-3 objective consumes."""

    log_n: np.ndarray
    log_d: np.ndarray
    log_l: np.ndarray

    @property
    def n(self) -> int:
        return self.log_l.shape[0]


def _column(runs, name):
    if name not in runs:
        raise ScalingLabError(f"runs table has no {name!r} column (columns: {', '.join(map(str, runs.columns))})")
    return np.asarray(runs[name], dtype=float)


def as_arrays(params, tokens=None, loss=None):
    """Accept ``fit(runs_dataframe)`` or ``fit(params, tokens, loss)``; check and return arrays."""
    if tokens is None and loss is None and hasattr(params, "columns"):
        runs = params
        n, d, y = _column(runs, "params"), _column(runs, "tokens"), _column(runs, "loss")
    else:
        if tokens is None or loss is None:
            raise ScalingLabError("fit needs a runs table, or params, tokens and loss arrays")
        n, d, y = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (params, tokens, loss))
    if not (n.shape == d.shape == y.shape) or n.ndim != 1:
        raise ScalingLabError(f"params, tokens and loss must be 1-D of equal length, got {n.shape}, {d.shape}, {y.shape}")
    for name, arr in (("params", n), ("tokens", d), ("loss", y)):
        bad = np.flatnonzero(~np.isfinite(arr) | (arr <= 0))
        if bad.size:
            shown = ", ".join(f"row {i + 1}: {arr[i]!r}" for i in bad[:5])
            more = f" and {bad.size - 5} more" if bad.size > 5 else ""
            raise ScalingLabError(f"{name} must be positive and finite ({shown}{more})")
    return n, d, y


def learning_curves_note(runs) -> str | None:
    """A flag when ``runs`` holds several rows per run (learning curves), else None.

    Approach 3 fits one final loss per run (Hoffmann et al. 2022, §3.3); fed a long-form curve table
    it fits every evaluation point as if it were a run trained to that many tokens, although the
    early points of a run come from an unfinished learning-rate schedule (Hoffmann et al. 2022
    §3.1). Only
    a repeated ``run_id`` is taken as evidence: a ladder legitimately has several runs per size.
    """
    if not hasattr(runs, "columns") or "run_id" not in runs:
        return None
    n_rows, n_runs = len(runs), int(runs["run_id"].nunique())
    if n_rows == n_runs:
        return None
    step = ", with a step column" if "step" in runs else ""
    return (f"{LEARNING_CURVES_FLAG} ({n_rows} rows for {n_runs} runs{step}): Approach 3 is meant for "
            "one final loss per run, and every evaluation point was fitted as a run; keep each run's "
            "last row (e.g. runs.sort_values('step').groupby('run_id').tail(1))")


def _predict_inputs(params, tokens):
    """``predict(runs_dataframe)`` or ``predict(params, tokens)``: the (params, tokens) to evaluate."""
    if hasattr(params, "columns"):
        if tokens is not None:
            raise ScalingLabError("pass either a runs table or params and tokens, not both")
        return _column(params, "params"), _column(params, "tokens")
    if tokens is None:
        raise ScalingLabError("predict needs tokens, or a runs table with params and tokens columns")
    return params, tokens


def log_data(params, tokens, loss) -> LogData:
    return LogData(np.log(params), np.log(tokens), np.log(loss))


# ----- the parameter map for options (tied exponents, fixed E) ------------------------------------
@dataclass(frozen=True)
class _ParamMap:
    """θ5 = M·φ + c: free parameters φ to the full vector (a, b, e, α, β)."""

    M: np.ndarray  # (5, k)
    c: np.ndarray  # (5,)
    names: tuple

    def full(self, phi):
        return phi @ self.M.T + self.c

    def free(self, theta):
        # least-squares inverse; exact for vectors that satisfy the constraints
        return (np.atleast_2d(theta) - self.c) @ np.linalg.pinv(self.M).T


def _param_map(tie_exponents: bool, fixed_E: float | None) -> _ParamMap:
    cols, names = [], []
    for i, name in enumerate(H.PARAM_NAMES):
        if name == "e" and fixed_E is not None:
            continue
        if name == "beta" and tie_exponents:
            continue
        col = np.zeros(5)
        col[i] = 1.0
        if name == "alpha" and tie_exponents:
            col[4] = 1.0
        cols.append(col)
        names.append(name)
    c = np.zeros(5)
    if fixed_E is not None:
        c[2] = math.log(fixed_E)
    return _ParamMap(np.stack(cols, axis=1), c, tuple(names))


def _grid(pmap: _ParamMap) -> np.ndarray:
    """Hoffmann's grid restricted to the free parameters (α's values stand for α = β when tied)."""
    axes = [HOFFMANN_GRID[name] for name in pmap.names]
    return np.array(list(itertools.product(*axes)), dtype=float)


# ----- optimisers ---------------------------------------------------------------------------------
def _batch_lm(phi, data, delta, pmap, n_steps, counts=None, lower=None, upper=None):
    """``n_steps`` Levenberg–Marquardt steps on a batch of starts ``phi`` (S, k), all at once.

    The curvature is Σ w_i J_i J_iᵀ with the IRLS weights of the Huber loss; a step is kept only
    where it lowers the true objective, otherwise that start's damping grows. With ``lower`` and
    ``upper`` (free-parameter bounds) every trial is projected onto the box. A start that leaves
    the representable range (``THETA_LIMIT``) gets objective inf, so it is never polished.
    """
    k = phi.shape[1]
    eye = np.eye(k)

    def evaluate(p):
        f, g, h = H.value_and_grad(pmap.full(p), data.log_n, data.log_d, data.log_l, delta, counts, hessian=True)
        g = g @ pmap.M
        h = pmap.M.T @ h @ pmap.M
        return f, g, h

    f, g, h = evaluate(phi)
    lam = np.full(phi.shape[0], 1e-3)
    for _ in range(n_steps):
        diag = np.einsum("sii->si", h)
        scale = diag + 1e-12 * (1.0 + diag.max(axis=1, keepdims=True))
        system = h + lam[:, None, None] * (scale[:, :, None] * eye)
        # A start whose objective overflowed has no usable curvature: give it a zero step.
        broken = ~(np.isfinite(system).all(axis=(1, 2)) & np.isfinite(g).all(axis=1))
        if broken.any():
            system[broken] = eye
        step = np.linalg.solve(system, np.where(broken[:, None], 0.0, -g)[:, :, None])[:, :, 0]
        trial = phi + step
        if lower is not None:
            trial = np.clip(trial, lower, upper)
        ft, gt, ht = evaluate(trial)
        better = np.isfinite(ft) & (ft < f)
        phi = np.where(better[:, None], trial, phi)
        f = np.where(better, ft, f)
        g = np.where(better[:, None], gt, g)
        h = np.where(better[:, None, None], ht, h)
        lam = np.clip(np.where(better, lam / 3.0, lam * 4.0), 1e-12, 1e12)
    runaway = ~_representable(pmap.full(phi))
    return phi, np.where(runaway, np.inf, f)


def _representable(theta) -> np.ndarray:
    """Rows of ``theta`` (S, 5) that have not run away: finite, and A, B, E ≤ e^THETA_LIMIT."""
    theta = np.atleast_2d(theta)
    return np.isfinite(theta).all(axis=1) & (theta[:, :3] <= THETA_LIMIT).all(axis=1)


@dataclass
class Polish:
    """The outcome of one L-BFGS-B run (free parameters, objective, convergence)."""

    phi: np.ndarray
    f: float
    converged: bool
    nit: int
    grad_max: float
    message: str


def polish(phi0, data, delta, pmap, counts=None, gtol=1e-10, maxiter=20_000, bounds=None) -> Polish:
    """Finish one start with L-BFGS-B, analytic gradient, ``ftol = 0`` and a tight ``gtol``.

    ``bounds`` (a list of (lo, hi) per free parameter, None for unbounded) is passed to L-BFGS-B.
    A polish that ends outside the representable range (``THETA_LIMIT``) is reported as diverged
    (not converged, objective inf), so callers discard it instead of overflowing on e^a.
    """
    from scipy.optimize import minimize

    def fun(phi):
        f, g = H.value_and_grad(pmap.full(phi[None, :]), data.log_n, data.log_d, data.log_l, delta,
                                counts)
        if not np.isfinite(f[0]):
            return np.inf, np.zeros_like(phi)
        return float(f[0]), (g @ pmap.M)[0]

    res = minimize(fun, np.asarray(phi0, dtype=float), jac=True, method="L-BFGS-B",
                   bounds=bounds,
                   options={"ftol": 0.0, "gtol": gtol, "maxiter": maxiter, "maxfun": 5 * maxiter})
    theta = pmap.full(res.x[None, :])[0]
    if not _representable(theta[None, :])[0]:
        return Polish(res.x, math.inf, False, int(res.nit), math.inf,
                      f"diverged: ln A, ln B or ln E above {THETA_LIMIT:g} (runaway start discarded)")
    if np.any(theta[:3] < THETA_FLOOR):
        # boundary (E -> 0 or a vanishing term): keep it, with the constant at a tiny normal float
        floored = theta.copy()
        floored[:3] = np.maximum(floored[:3], THETA_FLOOR)
        res.x = pmap.free(floored)[0]
    jac = np.asarray(res.jac, dtype=float)
    if bounds is not None:
        # At an active bound only the gradient component pointing out of the box may be non-zero.
        lo = np.array([-np.inf if b[0] is None else b[0] for b in bounds])
        hi = np.array([np.inf if b[1] is None else b[1] for b in bounds])
        jac = np.where(((res.x <= lo) & (jac > 0)) | ((res.x >= hi) & (jac < 0)), 0.0, jac)
    grad_max = float(np.max(np.abs(jac))) if np.all(np.isfinite(jac)) else math.inf
    converged = bool(np.isfinite(res.fun) and (res.success or grad_max <= GRAD_ACCEPT))
    return Polish(res.x, float(res.fun), converged, int(res.nit), grad_max, str(res.message))


def multistart(data, delta, pmap, starts, n_steps=3, n_polish=10, counts=None, bounds=None):
    """Best converged optimum from many starts: batched LM steps, then L-BFGS-B on the best few.

    ``bounds``: optional (lo, hi) per free parameter (None = unbounded); starts are clipped into
    the box and every step stays in it. Returns ``(best Polish, list of all polishes)``.
    """
    lower = upper = None
    if bounds is not None:
        lower = np.array([-np.inf if b[0] is None else b[0] for b in bounds])
        upper = np.array([np.inf if b[1] is None else b[1] for b in bounds])
        starts = np.unique(np.clip(starts, lower, upper), axis=0)
    phi, f = _batch_lm(starts, data, delta, pmap, n_steps, counts, lower, upper)
    order = np.argsort(np.where(np.isfinite(f), f, np.inf))
    chosen, seen = [], []
    for i in order:
        if not np.isfinite(f[i]) or len(chosen) >= n_polish:
            break
        # skip starts that have already collapsed onto a chosen one (same objective and place)
        if any(abs(f[i] - f[j]) <= 1e-12 * abs(f[j]) and np.allclose(phi[i], phi[j], rtol=1e-6, atol=1e-9)
               for j in seen):
            continue
        seen.append(i)
        chosen.append(polish(phi[i], data, delta, pmap, counts, bounds=bounds))
    ok = [p for p in chosen if p.converged]
    if not ok:
        return None, chosen
    return min(ok, key=lambda p: p.f), chosen


# ----- the estimator ------------------------------------------------------------------------------
@dataclass
class ChinchillaFit(ParamsMixin):
    """Approach-3 estimator for L(N, D) = E + A/N^α + B/D^β (scikit-learn conventions).

    Parameters
    ----------
    delta : float
        Huber threshold on log-loss residuals (Hoffmann: 1e-3).
    estimator : {"huber", "likelihood"}
        ``"huber"``: minimise the summed Huber loss (Hoffmann's objective, App. D.2).
        ``"likelihood"``: Epoch's Huber maximum likelihood with a free scale (Besiroglu et al.
        2024).
    tie_exponents : bool
        Constrain α = β.
    fixed_E : float, optional
        Hold the irreducible loss E (nats/token) fixed.
    exponent_bounds : (float, float), optional
        Constrain lo ≤ α, β ≤ hi (L-BFGS-B bounds; grid starts are clipped into the box). None (the
        default) is Hoffmann's unconstrained fit. ``SMALL_SWEEP_BOUNDS`` = (0.05, 1.5) is the rule
        for small sweeps (see the constant for why).
    n_steps : int
        Batched Levenberg–Marquardt steps taken by all grid starts before pruning.
    n_polish : int
        Distinct best starts finished with L-BFGS-B.

    Fitted attributes
    -----------------
    law_ : ParametricLaw
    theta_ : dict  (a, b, e, alpha, beta[, sigma]) at the optimum
    objective_ : float  summed Huber loss at ``law_`` (for "likelihood", the negative log-likelihood)
    huber_objective_ : float  summed Huber loss at ``law_`` whatever the estimator
    converged_ : bool;  n_points_ : int;  n_starts_ : int;  n_polished_ : int;  grad_max_ : float
    data_ : tuple of arrays (params, tokens, loss) — the runs fitted
    flags_ : list of str — anything the user should know about this fit (empty when clean);
        ``warnings_`` is the same list
    degenerate_ : bool — True when the data do not identify the law (see :func:`diagnose`): E -> 0,
        an exponent at a bound or ~0, a term that vanishes over the data, an allocation exponent a
        outside ``PLAUSIBLE_A``, or (after :meth:`bootstrap`) a huge bootstrap spread
    diagnostics_ : dict — the numbers behind those checks (term changes, a, ...)
    """

    delta: float = HOFFMANN_DELTA
    estimator: str = "huber"
    tie_exponents: bool = False
    fixed_E: float | None = None
    n_steps: int = 3
    n_polish: int = 10
    name: str = "fitted"
    exponent_bounds: tuple | None = None

    flags_: list = field(default_factory=list, init=False, repr=False)

    def _check_settings(self):
        if not (math.isfinite(self.delta) and self.delta > 0):
            raise ScalingLabError(f"delta must be positive and finite, got {self.delta!r}")
        if self.estimator not in ("huber", "likelihood"):
            raise ScalingLabError(f"estimator must be 'huber' or 'likelihood', got {self.estimator!r}")
        if self.fixed_E is not None and not (math.isfinite(self.fixed_E) and self.fixed_E > 0):
            raise ScalingLabError(f"fixed_E must be positive and finite, got {self.fixed_E!r}")
        if self.exponent_bounds is not None:
            try:
                lo, hi = (float(v) for v in self.exponent_bounds)
            except (TypeError, ValueError):
                raise ScalingLabError(f"exponent_bounds must be (lo, hi), got {self.exponent_bounds!r}") from None
            if not (math.isfinite(lo) and math.isfinite(hi) and 0 <= lo < hi):
                raise ScalingLabError(f"exponent_bounds must satisfy 0 ≤ lo < hi (finite), got {self.exponent_bounds!r}")

    @property
    def warnings_(self) -> list:
        """Alias of ``flags_``: every message about this fit (empty when clean)."""
        return self.flags_

    def _bounds(self, pmap):
        if self.exponent_bounds is None:
            return None
        lo, hi = (float(v) for v in self.exponent_bounds)
        return [(lo, hi) if name in ("alpha", "beta") else (None, None) for name in pmap.names]

    @property
    def _pmap(self):
        return _param_map(self.tie_exponents, self.fixed_E)

    def _n_parameters(self) -> int:
        """Free parameters of this fit (a fit needs more runs than this; see also bootstrap)."""
        return len(self._pmap.names) + (1 if self.estimator == "likelihood" else 0)

    def fit(self, params, tokens=None, loss=None, *, sample_weight=None, start=None):
        """Fit to runs; ``params`` may be a runs DataFrame (columns params, tokens, loss).

        ``start`` (a ParametricLaw or (a, b, e, α, β)) replaces the grid by that single start —
        used for warm-started bootstrap refits. ``sample_weight`` multiplies each run's Huber term
        (non-negative; the summed-Huber estimator only). Returns ``self``.

        A table with several rows per ``run_id`` (learning curves) is fitted as given, every row as
        a run, with a warning in ``flags_`` (:func:`learning_curves_note`); it does not set
        ``degenerate_``.
        """
        self._check_settings()
        curves_note = learning_curves_note(params) if tokens is None and loss is None else None
        n, d, y = as_arrays(params, tokens, loss)
        counts = None
        if sample_weight is not None:
            counts = np.asarray(sample_weight, dtype=float)
            if counts.shape != n.shape or not np.all(np.isfinite(counts)) or np.any(counts < 0):
                raise ScalingLabError(f"sample_weight must be {n.size} non-negative finite numbers")
            if self.estimator == "likelihood":
                raise ScalingLabError("sample_weight is supported by the summed-Huber estimator only")
        pmap = self._pmap
        k = self._n_parameters()
        if n.size <= k:
            raise ScalingLabError(f"{n.size} runs cannot determine {k} parameters; need at least {k + 1}")
        design = np.column_stack([np.ones_like(n), np.log(n), np.log(d)])
        if np.unique(n).size < 2:
            raise ScalingLabError(f"all runs have the same model size ({n[0]:.4g} params); "
                                  "Approach 3 needs at least two sizes")
        if np.unique(d).size < 2:
            raise ScalingLabError(f"all runs have the same token count ({d[0]:.4g}); need at least two")
        if np.linalg.matrix_rank(design, tol=1e-8 * np.abs(design).max()) < 3:
            raise ScalingLabError("tokens are a fixed power of params in every run (e.g. a constant "
                                  "tokens/param), so the N and D terms cannot be told apart")
        data = log_data(n, d, y)
        # A warning only: the fit itself is unchanged and degenerate_ does not depend on it.
        self.flags_ = [curves_note] if curves_note else []
        self.degenerate_ = False
        self.diagnostics_ = {}
        bounds = self._bounds(pmap)

        if start is None:
            starts = _grid(pmap)
        else:
            theta0 = _theta_of(start)
            starts = pmap.free(theta0)
        with H.single_threaded_blas():
            best, polishes = multistart(data, self.delta, pmap, starts, self.n_steps,
                                        self.n_polish if start is None else 1, counts, bounds)
        self.n_starts_ = int(starts.shape[0])
        self.n_polished_ = len(polishes)
        if best is None:
            # Report the least-bad attempt, flagged; never a silent law.
            # Diverged polishes carry f = inf (see polish), so they are never reported.
            finite = [p for p in polishes if np.isfinite(p.f)]
            if not finite:
                why = polishes[0].message if polishes else "every start ran away"
                raise ScalingLabError(f"the Approach-3 fit failed: no start reached a finite, "
                                      f"representable optimum ({why})")
            best = min(finite, key=lambda p: p.f)
            self.flags_.append(f"not converged: {best.message} (largest gradient {best.grad_max:.2e})")
        theta = pmap.full(best.phi[None, :])[0]
        self.converged_ = best.converged
        self.grad_max_ = best.grad_max
        self.n_iter_ = best.nit
        self.huber_objective_ = best.f
        self.objective_ = best.f
        self.sigma_ = None

        if self.estimator == "likelihood":
            with H.single_threaded_blas():
                theta, sigma, nll, ok = _fit_likelihood(theta, data, self.delta, pmap)
            self.sigma_ = sigma
            self.objective_ = nll
            self.huber_objective_ = H.objective(theta, data.log_n, data.log_d, data.log_l, self.delta)
            if not ok:
                self.flags_.append("likelihood optimiser stopped on precision loss (as in Epoch's own fit)")
            if not _representable(theta[None, :])[0]:
                raise ScalingLabError(f"the likelihood fit diverged (ln A, ln B or ln E above {THETA_LIMIT:g})")
            theta = theta.copy()
            theta[:3] = np.maximum(theta[:3], THETA_FLOOR)  # boundary E -> 0: a tiny float, not 0

        self.theta_ = dict(zip(H.PARAM_NAMES, map(float, theta), strict=True))
        if self.sigma_ is not None:
            self.theta_["sigma"] = float(self.sigma_)
        self.n_points_ = int(n.size)
        self.data_ = (n, d, y)  # the runs fitted (params, tokens, loss), for bootstrap()
        a_, b_, e_, alpha, beta = theta
        if alpha <= 0 or beta <= 0:
            self.flags_.append(f"degenerate fit: alpha = {alpha:.4g}, beta = {beta:.4g} (a law needs both > 0)")
            self.converged_ = False
        fitted_range = FittedRange(params=(float(n.min()), float(n.max())), tokens=(float(d.min()), float(d.max())),
                                   source=f"the {n.size} runs fitted")
        self.law_ = ParametricLaw(E=math.exp(e_), A=math.exp(a_), B=math.exp(b_), alpha=float(alpha),
                                  beta=float(beta), name=self.name, source=self._source(),
                                  fitted_range=fitted_range)
        problems, self.diagnostics_ = diagnose(self.law_, n, d, y, self.exponent_bounds,
                                               tied=self.tie_exponents, fixed_E=self.fixed_E)
        if not problems and self.converged_:
            # boundary cases are already explained; otherwise ask the curvature how well-determined
            se = standard_errors(theta, data, pmap, bounds)
            self.diagnostics_["se"] = se
            problems.extend(_se_problems(se, self.law_, tied=self.tie_exponents))
        self.flags_.extend(problems)
        self.degenerate_ = bool(problems) or not self.converged_
        return self

    def _source(self) -> str:
        what = (f"summed Huber (δ={self.delta:g}) on log loss, Hoffmann grid + L-BFGS-B"
                if self.estimator == "huber" else f"Huber likelihood (δ={self.delta:g}), Epoch 2024")
        extra = (", α=β" if self.tie_exponents else "") + (f", E fixed at {self.fixed_E:g}" if self.fixed_E else "")
        if self.exponent_bounds is not None:
            extra += f", {self.exponent_bounds[0]:g} ≤ α, β ≤ {self.exponent_bounds[1]:g}"
        return f"scalinglab fit: {what}{extra}"

    # ----- sklearn-style use ----------------------------------------------------------------------
    def _require_fitted(self):
        if not hasattr(self, "law_"):
            raise ScalingLabError("this ChinchillaFit is not fitted yet; call fit() first")

    def predict(self, params, tokens=None):
        """Predicted loss (nats/token) at ``params`` parameters and ``tokens`` tokens.

        ``params`` may instead be a runs DataFrame with ``params`` and ``tokens`` columns (as
        passed to ``fit``); the result then has one loss per row.
        """
        self._require_fitted()
        return self.law_.predict(*_predict_inputs(params, tokens))


    def bootstrap(self, runs=None, n_resamples=1000, **kwargs):
        """Percentile intervals by resampling the runs this estimator was fitted on (or ``runs``).

        Both ``fit(runs).bootstrap(1000)`` (an integer first argument is the number of resamples)
        and ``est.bootstrap(runs, n_resamples=1000)`` work. Keyword arguments (``seed``,
        ``workers``, ``compute``, ``start``, ``rng``) go to :func:`scalinglab.fit.bootstrap.bootstrap`.
        """
        from scalinglab.fit.bootstrap import bootstrap

        self._require_fitted()
        if isinstance(runs, (int, np.integer)) and not isinstance(runs, bool):
            runs, n_resamples = None, int(runs)
        result = bootstrap(self, self.data_ if runs is None else runs, n_resamples=n_resamples, **kwargs)
        # A huge spread means the runs do not pin the law down: say so on the estimator too.
        new = [f"bootstrap: {msg}" for msg in result.flags if f"bootstrap: {msg}" not in self.flags_]
        if new:
            self.flags_.extend(new)
            self.degenerate_ = True
        return result

    def as_dict(self) -> dict:
        self._require_fitted()
        out = self.law_.as_dict()
        out.update({
            "estimator": self.estimator, "delta": self.delta, "objective": self.objective_,
            "huber_objective": self.huber_objective_, "converged": self.converged_,
            "n_points": self.n_points_, "n_starts": self.n_starts_, "flags": list(self.flags_),
            "degenerate": self.degenerate_,
        })
        if self.sigma_ is not None:
            out["sigma"] = self.sigma_
        return out


def _theta_of(start) -> np.ndarray:
    if isinstance(start, ParametricLaw):
        return np.array([math.log(start.A), math.log(start.B), math.log(start.E), start.alpha, start.beta])
    theta = np.asarray(start, dtype=float)
    if theta.shape != (5,) or not np.all(np.isfinite(theta)):
        raise ScalingLabError(f"start must be a ParametricLaw or (a, b, e, alpha, beta), got {start!r}")
    return theta


def _fit_likelihood(theta, data, delta, pmap):
    """Minimise Epoch's negative Huber log-likelihood from the summed-Huber optimum ``theta``.

    σ starts at the log of the median absolute residual. The objective is close to least absolute
    deviations (σ ends near e^-12 [C]), so BFGS typically stops on precision loss, as
    Epoch's own fit did; the best point reached is returned with ``ok`` False in that case.
    """
    from scipy.optimize import minimize

    resid = data.log_l - _predict_log(theta, data)
    sigma0 = math.log(max(float(np.median(np.abs(resid))), 1e-12))
    k = pmap.M.shape[1]

    def fun(x):
        full = np.concatenate([pmap.full(x[None, :k])[0], x[k:]])
        f, g = H.likelihood_value_and_grad(full, data.log_n, data.log_d, data.log_l, delta)
        return f, np.concatenate([g[:5] @ pmap.M, g[5:]])

    x = np.concatenate([pmap.free(theta)[0], [sigma0]])
    best = None
    for method in ("BFGS", "L-BFGS-B"):
        opts = {"gtol": 1e-9, "maxiter": 20_000}
        if method == "L-BFGS-B":
            opts.update(ftol=0.0, maxfun=100_000)
        res = minimize(fun, x, jac=True, method=method, options=opts)
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
        x = best.x
    theta_out = pmap.full(best.x[None, :k])[0]
    return theta_out, float(best.x[k]), float(best.fun), bool(best.success)


def _predict_log(theta, data):
    a, b, e, alpha, beta = theta
    return np.logaddexp(np.logaddexp(a - alpha * data.log_n, b - beta * data.log_d), e)


def diagnose(law, params, tokens, loss, exponent_bounds=None, *, tied=False, fixed_E=None):
    """Check whether the runs identify ``law``; return ``(messages, numbers)``.

    Each message names one reason the fitted law should not be trusted (empty list: none found).
    The checks, with the constants that set them:

    - E -> 0: E below ``E_NEGLIGIBLE`` × the smallest observed loss (the fit hit the bound E > 0;
      skipped when E is fixed).
    - an exponent within 1e-3 of a bound of ``exponent_bounds`` (the constraint decides it, not
      the data), or below 0.05 (its term is nearly constant and trades off against E).
    - a vanishing term: A/N^α (or B/D^β) changes by less than ``VANISHING_TERM`` × the mean loss
      across the fitted runs, so its constant and exponent are not identified.
    - the allocation exponent a = β/(α+β) outside ``PLAUSIBLE_A``.

    Parameters
    ----------
    law : ParametricLaw
    params, tokens, loss : ndarray
        The runs the law was fitted to.
    exponent_bounds : (lo, hi), optional
    tied, fixed_E
        Settings of the fit (a tied pair is reported once; a fixed E is not checked).

    Returns
    -------
    messages : list of str
    numbers : dict
        ``term_change_N``, ``term_change_D`` (as fractions of the mean loss), ``a``.
    """
    n, d, y = (np.asarray(v, dtype=float) for v in (params, tokens, loss))
    out = []
    mean_loss = float(np.mean(y))
    # log-space evaluation: A/N^α = exp(ln A − α ln N) never overflows for representable laws.
    term_n = np.exp(math.log(law.A) - law.alpha * np.log([n.min(), n.max()]))
    term_d = np.exp(math.log(law.B) - law.beta * np.log([d.min(), d.max()]))
    change_n = float(abs(term_n[0] - term_n[1]) / mean_loss)
    change_d = float(abs(term_d[0] - term_d[1]) / mean_loss)
    a_alloc = law.a if law.alpha + law.beta > 0 else math.nan
    numbers = {"term_change_N": change_n, "term_change_D": change_d, "a": float(a_alloc),
               "E_over_min_loss": float(law.E / y.min())}
    if fixed_E is None and law.E < E_NEGLIGIBLE * y.min():
        out.append(f"E -> 0 (E = {law.E:.3g} nats): the runs do not bound the irreducible loss; "
                   "the fit sits on the constraint E > 0")
    names = (("alpha", law.alpha),) if tied else (("alpha", law.alpha), ("beta", law.beta))
    label = {"alpha": "alpha (= beta)" if tied else "alpha", "beta": "beta"}
    for name, value in names:
        if exponent_bounds is not None:
            lo, hi = exponent_bounds
            if abs(value - lo) <= 1e-3 or abs(value - hi) <= 1e-3:
                out.append(f"{label[name]} = {value:.4g} is at its bound [{lo:g}, {hi:g}]: the "
                           "constraint, not the data, sets it")
                continue
        if 0 < value < 0.05:
            out.append(f"{label[name]} = {value:.4g} ~ 0: its term is almost constant over the runs "
                       "and trades off against E")
    for what, change, const, exp_name in (("A/N^alpha", change_n, law.A, "alpha"),
                                          ("B/D^beta", change_d, law.B, "beta")):
        if change < VANISHING_TERM:
            out.append(f"the {what} term vanishes over the data (changes by {100 * change:.2g}% of the "
                       f"loss across the runs): {what[0]} = {const:.3g} and {exp_name} are not identified")
    lo_a, hi_a = PLAUSIBLE_A
    if math.isfinite(a_alloc) and not (lo_a <= a_alloc <= hi_a) and not tied:
        out.append(f"allocation exponent a = {a_alloc:.3g} (N_opt ∝ C^a) is outside the plausible "
                   f"range [{lo_a:g}, {hi_a:g}] of published fits")
    return out, numbers


def standard_errors(theta, data, pmap, bounds=None) -> dict:
    """Approximate (Gauss-Newton) standard errors at the optimum ``theta`` of a fit.

    Cov(φ) ≈ s²·(JᵀJ)⁻¹ over the free parameters φ, with J the Jacobian of the log-loss prediction
    and s² = Σr²/(n − k) the residual variance (unweighted: ``sample_weight`` is not used here). Parameters at an active bound are held fixed.
    Returns se of ``e`` (= ln E, so a relative se of E), ``alpha``, ``beta`` (absolute) and of the
    allocation exponent ``a`` (delta method); inf where the curvature is singular.
    """
    theta2 = np.asarray(theta, dtype=float)[None, :]
    lse, p1, p2, p3 = H._lse_parts(theta2, data.log_n, data.log_d)
    jac = np.stack([p1[0], p2[0], p3[0], -p1[0] * data.log_n, -p2[0] * data.log_d], axis=1) @ pmap.M
    free = np.ones(len(pmap.names), dtype=bool)
    if bounds is not None:
        phi = pmap.free(theta2)[0]
        for i, (lo, hi) in enumerate(bounds):
            if (lo is not None and phi[i] <= lo + 1e-9) or (hi is not None and phi[i] >= hi - 1e-9):
                free[i] = False
    resid = data.log_l - lse[0]
    dof = data.n - int(free.sum())
    out = {"e": math.inf, "alpha": math.inf, "beta": math.inf, "a": math.inf}
    if dof <= 0:
        return out
    jf = jac[:, free]
    info = jf.T @ jf
    if not np.all(np.isfinite(info)) or np.linalg.cond(info) > 1e14:
        return out
    cov_free = np.linalg.inv(info) * float(resid @ resid) / dof
    cov_phi = np.zeros((len(pmap.names), len(pmap.names)))
    cov_phi[np.ix_(free, free)] = cov_free
    cov = pmap.M @ cov_phi @ pmap.M.T  # (5, 5) over (a, b, e, alpha, beta)
    _, _, _, alpha, beta = theta
    out["e"] = float(math.sqrt(max(cov[2, 2], 0.0)))
    out["alpha"] = float(math.sqrt(max(cov[3, 3], 0.0)))
    out["beta"] = float(math.sqrt(max(cov[4, 4], 0.0)))
    s = alpha + beta
    if s > 0:
        grad = np.array([-beta / s**2, alpha / s**2])
        out["a"] = float(math.sqrt(max(grad @ cov[3:, 3:] @ grad, 0.0)))
    return out


def _se_problems(se, law, tied=False) -> list:
    out = []
    if se["a"] > MAX_SE_A and not tied:
        out.append(f"allocation exponent a = {law.a:.3g} ± {se['a']:.2g} (approx. standard error): "
                   "the runs do not determine the compute-optimal allocation")
    for name, value in ((("alpha (= beta)", law.alpha),) if tied else (("alpha", law.alpha), ("beta", law.beta))):
        if value > 0 and se[name.split()[0]] / value > MAX_SE_LOG:
            out.append(f"{name} = {value:.3g} ± {se[name.split()[0]]:.2g} (approx. standard error): not determined "
                       "by the runs")
    if se["e"] > MAX_SE_LOG:
        out.append(f"E = {law.E:.3g} known only within a factor {math.exp(1.96 * min(se['e'], 100)):.3g} "
                   "(approx. 95%): the runs do not pin down the irreducible loss")
    return out


def fit_small_sweep(runs, tokens=None, loss=None, **settings) -> ChinchillaFit:
    """Approach 3 for small sweeps: the free 5-parameter fit, constrained only if it is degenerate.

    Fits ``ChinchillaFit(**settings)``. If that fit is degenerate (``degenerate_``), refits with
    α = β and ``SMALL_SWEEP_BOUNDS`` (0.05 ≤ α = β ≤ 1.5): one exponent fewer, and neither the
    collapse α -> 0 (term merges with E) nor a runaway steep term is reachable. The constrained fit
    is returned with the free fit's problems listed first in ``flags_`` and a line saying that the
    constraint was applied; it stays ``degenerate_`` if it has problems of its own (e.g. a bound
    that binds, or E -> 0). A clean free fit is returned unchanged.

    Parameters
    ----------
    runs : DataFrame, or params array (with ``tokens`` and ``loss``)
    **settings
        ``ChinchillaFit`` settings for the free fit (``tie_exponents``/``exponent_bounds`` are
        overridden in the fallback).
    """
    free = ChinchillaFit(**settings).fit(runs, tokens, loss)
    if not free.degenerate_:
        return free
    # replace() copies the settings only (fitted attributes are not init fields)
    constrained = replace(free, tie_exponents=True, exponent_bounds=SMALL_SWEEP_BOUNDS)
    constrained.fit(runs, tokens, loss)
    own = list(constrained.flags_)
    # The learning-curves warning is on both fits; say it once, and it is not a problem of the law.
    constrained.flags_ = ([f"free 5-parameter fit: {msg}" for msg in free.flags_
                           if not msg.startswith(LEARNING_CURVES_FLAG)]
                          + [f"so reported the constrained fit alpha = beta in [{SMALL_SWEEP_BOUNDS[0]:g}, "
                             f"{SMALL_SWEEP_BOUNDS[1]:g}] (objective {constrained.objective_:.6g} vs free "
                             f"{free.objective_:.6g})"]
                          + own)
    constrained.free_fit_ = free
    # The constrained law is reported; it is degenerate only for reasons of its own.
    problems = [msg for msg in own if not msg.startswith(LEARNING_CURVES_FLAG)]
    constrained.degenerate_ = bool(problems) or not constrained.converged_
    return constrained
