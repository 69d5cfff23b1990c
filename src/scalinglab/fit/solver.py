"""The Approach-3 solver: minimise the summed Huber loss (or Epoch's Huber likelihood) over θ.

Hoffmann's fit, made fast and made to finish (``docs/fitting.md``):

- Huber loss (δ = 1e-3) on residuals of log loss, **summed** over runs, in the log-sum-exp
  parametrisation θ = (a, b, e, α, β) with A = e^a, B = e^b, E = e^e (Hoffmann et al. 2022,
  App. D.2, Eq. 3; the objective and its derivatives are :mod:`scalinglab.fit.huber`).
- Started from every point of Hoffmann's 4,500-point grid (App. D.2). All starts take a few
  Levenberg–Marquardt steps together, as one numpy batch (curvature from the IRLS majoriser of the
  Huber loss, so the steps are well scaled even though a, b span 0–25 and α, β 0–2). The best
  ``n_polish`` distinct starts are then finished one by one with scipy's L-BFGS-B using the analytic
  gradient, ``ftol = 0`` and ``gtol = 1e-10`` — the tight tolerances that avoid the early stop which
  the mean reduction and default tolerances cause. The reported optimum is the best converged
  polish. On the Epoch data this reaches f* = 0.0010182740178.
- ``estimator="likelihood"`` instead maximises Epoch's Huber likelihood with a free scale σ
  (Besiroglu et al. 2024), the estimator behind their reported constants, started from the
  summed-Huber optimum.

Options (through :func:`param_map` and ``bounds``): tie the exponents (α = β), fix E, bound the
exponents. :func:`solve` is the whole procedure; :class:`scalinglab.fit.parametric.ChinchillaFit`
is its estimator front end.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize

import scalinglab.fit.huber as H
from scalinglab.errors import ScalingLabError
from scalinglab.laws.chinchilla import ParametricLaw

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
#: most this (the objective's gradient at the Epoch-data optimum is below 3e-10; docs/fitting.md).
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



def log_data(params, tokens, loss) -> LogData:
    return LogData(np.log(params), np.log(tokens), np.log(loss))


# ----- the parameter map for options (tied exponents, fixed E) ------------------------------------
@dataclass(frozen=True)
class ParamMap:
    """θ5 = M·φ + c: free parameters φ to the full vector (a, b, e, α, β)."""

    M: np.ndarray  # (5, k)
    c: np.ndarray  # (5,)
    names: tuple

    def full(self, phi):
        return phi @ self.M.T + self.c

    def free(self, theta):
        # least-squares inverse; exact for vectors that satisfy the constraints
        return (np.atleast_2d(theta) - self.c) @ np.linalg.pinv(self.M).T


def param_map(tie_exponents: bool, fixed_E: float | None) -> ParamMap:
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
    return ParamMap(np.stack(cols, axis=1), c, tuple(names))


def grid(pmap: ParamMap) -> np.ndarray:
    """Hoffmann's grid restricted to the free parameters (α's values stand for α = β when tied)."""
    axes = [HOFFMANN_GRID[name] for name in pmap.names]
    return np.array(list(itertools.product(*axes)), dtype=float)


# ----- optimisers ---------------------------------------------------------------------------------
def batch_lm(phi, data, delta, pmap, n_steps, counts=None, lower=None, upper=None):
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
    runaway = ~representable(pmap.full(phi))
    return phi, np.where(runaway, np.inf, f)


def representable(theta) -> np.ndarray:
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

    def as_dict(self) -> dict:
        out = asdict(self)
        out["phi"] = [float(v) for v in self.phi]
        return out


def polish(phi0, data, delta, pmap, counts=None, gtol=1e-10, maxiter=20_000, bounds=None) -> Polish:
    """Finish one start with L-BFGS-B, analytic gradient, ``ftol = 0`` and a tight ``gtol``.

    ``bounds`` (a list of (lo, hi) per free parameter, None for unbounded) is passed to L-BFGS-B.
    A polish that ends outside the representable range (``THETA_LIMIT``) is reported as diverged
    (not converged, objective inf), so callers discard it instead of overflowing on e^a.
    """
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
    if not representable(theta[None, :])[0]:
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
    phi, f = batch_lm(starts, data, delta, pmap, n_steps, counts, lower, upper)
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


def theta_of(start) -> np.ndarray:
    if isinstance(start, ParametricLaw):
        return np.array([math.log(start.A), math.log(start.B), math.log(start.E), start.alpha, start.beta])
    theta = np.asarray(start, dtype=float)
    if theta.shape != (5,) or not np.all(np.isfinite(theta)):
        raise ScalingLabError(f"start must be a ParametricLaw or (a, b, e, alpha, beta), got {start!r}")
    return theta


def fit_likelihood(theta, data, delta, pmap):
    """Minimise Epoch's negative Huber log-likelihood from the summed-Huber optimum ``theta``.

    σ starts at the log of the median absolute residual. The objective is close to least absolute
    deviations (σ ends near e^-12; docs/fitting.md), so BFGS typically stops on precision loss, as
    Epoch's own fit did; the best point reached is returned with ``ok`` False in that case.
    """
    resid = data.log_l - predict_log(theta, data)
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


def predict_log(theta, data):
    a, b, e, alpha, beta = theta
    return np.logaddexp(np.logaddexp(a - alpha * data.log_n, b - beta * data.log_d), e)


@dataclass
class Solution:
    """What :func:`solve` found: the optimum θ = (a, b, e, α, β) and how it was reached."""

    theta: np.ndarray
    objective: float  # summed Huber loss, or the negative log-likelihood for "likelihood"
    huber_objective: float  # summed Huber loss at ``theta`` whatever the estimator
    converged: bool
    grad_max: float
    n_iter: int
    n_starts: int
    n_polished: int
    sigma: float | None = None  # log-scale of the likelihood's residuals
    messages: tuple = ()  # anything the user should know (goes to the estimator's ``flags_``)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["theta"] = dict(zip(H.PARAM_NAMES, map(float, self.theta), strict=True))
        out["messages"] = list(self.messages)
        return out


def solve(data: LogData, pmap: ParamMap, *, delta: float, estimator: str = "huber", n_steps: int = 3,
          n_polish: int = 10, counts=None, bounds=None, start=None) -> Solution:
    """The Approach-3 optimum of ``data`` (see the module docstring for the procedure).

    ``start`` (a ParametricLaw or (a, b, e, α, β)) replaces the grid by that single start, polished
    once. ``counts`` weight each run's Huber term; ``bounds`` is (lo, hi) per free parameter.
    Raises when no start reaches a finite, representable optimum; otherwise the least-bad attempt
    is returned, with ``converged`` False and a message, never a silent law.
    """
    starts = grid(pmap) if start is None else pmap.free(theta_of(start))
    messages = []
    with H.single_threaded_blas():
        best, polishes = multistart(data, delta, pmap, starts, n_steps, n_polish if start is None else 1,
                                    counts, bounds)
    if best is None:
        # Diverged polishes carry f = inf (see polish), so they are never reported.
        finite = [p for p in polishes if np.isfinite(p.f)]
        if not finite:
            why = polishes[0].message if polishes else "every start ran away"
            raise ScalingLabError(f"the Approach-3 fit failed: no start reached a finite, "
                                  f"representable optimum ({why})")
        best = min(finite, key=lambda p: p.f)
        messages.append(f"not converged: {best.message} (largest gradient {best.grad_max:.2e})")
    theta = pmap.full(best.phi[None, :])[0]
    out = Solution(theta=theta, objective=best.f, huber_objective=best.f, converged=best.converged,
                   grad_max=best.grad_max, n_iter=best.nit, n_starts=int(starts.shape[0]),
                   n_polished=len(polishes))
    if estimator == "likelihood":
        with H.single_threaded_blas():
            theta, sigma, nll, ok = fit_likelihood(theta, data, delta, pmap)
        out.sigma = sigma
        out.objective = nll
        out.huber_objective = H.objective(theta, data.log_n, data.log_d, data.log_l, delta)
        if not ok:
            messages.append("likelihood optimiser stopped on precision loss (as in Epoch's own fit)")
        if not representable(theta[None, :])[0]:
            raise ScalingLabError(f"the likelihood fit diverged (ln A, ln B or ln E above {THETA_LIMIT:g})")
        theta = theta.copy()
        theta[:3] = np.maximum(theta[:3], THETA_FLOOR)  # boundary E -> 0: a tiny float, not 0
        out.theta = theta
    out.messages = tuple(messages)
    return out
