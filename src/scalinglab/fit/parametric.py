"""Approach 3: fit L(N, D) = E + A/N^α + B/D^β to a table of runs (Hoffmann et al. 2022, §3.3).

:class:`ChinchillaFit` is the estimator front end (settings, input, fitted attributes); the
optimisation is :func:`scalinglab.fit.solver.solve` (Hoffmann's summed Huber loss over a
4,500-start grid, or Epoch's Huber likelihood), and the checks of what the runs identify are
:mod:`scalinglab.fit.diagnostics`. Options: tie the exponents (α = β), fix E, bound the exponents,
any δ.

Every fit is checked after the optimum is found; each problem is a message in ``flags_`` and
``degenerate_`` is True. The constrained variant for small sweeps is ``tie_exponents=True,
exponent_bounds=SMALL_SWEEP_BOUNDS`` (4 free parameters, 0.05 ≤ α = β ≤ 1.5);
:func:`fit_small_sweep` fits the free form first and falls back to it only when the free fit is
degenerate, saying so in ``flags_``. A bound that is active at the optimum is itself flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

import scalinglab.fit.diagnostics as diag
import scalinglab.fit.huber as H
import scalinglab.fit.solver as solver
from scalinglab.errors import ScalingLabError
from scalinglab.fit._base import Estimator
from scalinglab.fit._checks import require_fitted
from scalinglab.fit._data import check_positive, columns, numeric, predict_inputs
from scalinglab.fit.bootstrap import LAW_KEYS, bootstrap
from scalinglab.laws.chinchilla import ParametricLaw
from scalinglab.laws.ranges import FittedRange

#: Exponent bounds of the constrained variant for small sweeps (``exponent_bounds``; see
#: ``ChinchillaFit``). Every published Approach-3 exponent lies well inside: Hoffmann α = 0.34,
#: β = 0.28; Besiroglu α = 0.35, β = 0.37; Kaplan's N and D exponents 0.076 and 0.095. Below 0.05 a
#: term changes by under 11% over a decade of N or D, so it is indistinguishable from E on a small
#: sweep; above 1.5 it decays faster than any reported language-model law and vanishes within the
#: sampled range.
SMALL_SWEEP_BOUNDS = (0.05, 1.5)


# ----- the estimator ------------------------------------------------------------------------------
@dataclass
class ChinchillaFit(Estimator):
    """Approach-3 estimator for L(N, D) = E + A/N^α + B/D^β.

    The contract of :mod:`scalinglab.fit._base`: settings here, ``fit(runs) -> self``, fitted
    values ending in ``_``, ``predict(params, tokens)`` (or a runs table) -> losses,
    ``optimum(compute)`` -> Allocation, ``as_dict()``.

    Parameters
    ----------
    delta : float
        Huber threshold on log-loss residuals (Hoffmann: 1e-3).
    estimator : {"huber", "likelihood"}
        ``"huber"``: minimise the summed Huber loss (Hoffmann's objective, ``docs/fitting.md``).
        ``"likelihood"``: Epoch's Huber maximum likelihood with a free scale (Besiroglu et al. 2024).
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
    name : str
        Name of the fitted law.

    Fitted attributes
    -----------------
    law_ : ParametricLaw
    theta_ : dict  (a, b, e, alpha, beta[, sigma]) at the optimum
    objective_ : float  summed Huber loss at ``law_`` (for "likelihood", the negative log-likelihood)
    huber_objective_ : float  summed Huber loss at ``law_`` whatever the estimator
    converged_ : bool;  n_points_ : int;  n_starts_ : int;  n_polished_ : int;  grad_max_ : float
    data_ : dict of arrays (params, tokens, loss) — the runs fitted, for :meth:`bootstrap`
    flags_ : list of str — anything the user should know about this fit (empty when clean)
    degenerate_ : bool — True when the data do not identify the law (see
        :func:`scalinglab.fit.diagnostics.diagnose`): E -> 0, an exponent at a bound or ~0, a term
        that vanishes over the data, an allocation exponent a outside ``PLAUSIBLE_A``, or (after
        :meth:`bootstrap`) a huge bootstrap spread
    diagnostics_ : dict — the numbers behind those checks (term changes, a, ...)
    """

    delta: float = solver.HOFFMANN_DELTA
    estimator: str = "huber"
    tie_exponents: bool = False
    fixed_E: float | None = None
    n_steps: int = 3
    n_polish: int = 10
    name: str = "fitted"
    exponent_bounds: tuple | None = None

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

    def _bounds(self, pmap):
        if self.exponent_bounds is None:
            return None
        lo, hi = (float(v) for v in self.exponent_bounds)
        return [(lo, hi) if name in ("alpha", "beta") else (None, None) for name in pmap.names]

    @property
    def _pmap(self):
        return solver.param_map(self.tie_exponents, self.fixed_E)

    def n_parameters(self) -> int:
        """Free parameters of this fit (a fit, and a bootstrap resample, needs more distinct runs)."""
        return len(self._pmap.names) + (1 if self.estimator == "likelihood" else 0)

    def fit(self, runs=None, *, params=None, tokens=None, loss=None, sample_weight=None, start=None):
        """Fit to runs: a runs table (columns params, tokens, loss) or keyword arrays; returns ``self``.

        ``start`` (a ParametricLaw or (a, b, e, α, β)) replaces the grid by that single start —
        used for warm-started bootstrap refits. ``sample_weight`` multiplies each run's Huber term
        (non-negative; the summed-Huber estimator only).

        A table with several rows per ``run_id`` (learning curves) is fitted as given, every row as
        a run, with a warning in ``flags_`` (:func:`~scalinglab.fit.diagnostics.learning_curves_note`);
        it does not set ``degenerate_``.
        """
        self._check_settings()
        table = columns(runs, {"params": params, "tokens": tokens, "loss": loss})
        if not table:
            raise ScalingLabError("fit needs a runs table, or params, tokens and loss arrays")
        curves_note = diag.learning_curves_note(table)
        n, d, y = (check_positive(c, numeric(table, c)) for c in ("params", "tokens", "loss"))
        counts = None
        if sample_weight is not None:
            counts = np.asarray(sample_weight, dtype=float)
            if counts.shape != n.shape or not np.all(np.isfinite(counts)) or np.any(counts < 0):
                raise ScalingLabError(f"sample_weight must be {n.size} non-negative finite numbers")
            if self.estimator == "likelihood":
                raise ScalingLabError("sample_weight is supported by the summed-Huber estimator only")
        pmap = self._pmap
        diag.check_identifiable(n, d, self.n_parameters())
        data = solver.log_data(n, d, y)
        bounds = self._bounds(pmap)
        sol = solver.solve(data, pmap, delta=self.delta, estimator=self.estimator, n_steps=self.n_steps,
                           n_polish=self.n_polish, counts=counts, bounds=bounds, start=start)
        # The learning-curves note is a warning only: degenerate_ does not depend on it.
        self.flags_ = ([curves_note] if curves_note else []) + list(sol.messages)
        self.degenerate_ = False
        self.diagnostics_ = {}
        theta = sol.theta
        self.n_starts_ = sol.n_starts
        self.n_polished_ = sol.n_polished
        self.converged_ = sol.converged
        self.grad_max_ = sol.grad_max
        self.n_iter_ = sol.n_iter
        self.huber_objective_ = sol.huber_objective
        self.objective_ = sol.objective
        self.sigma_ = sol.sigma
        self.theta_ = dict(zip(H.PARAM_NAMES, map(float, theta), strict=True))
        if self.sigma_ is not None:
            self.theta_["sigma"] = float(self.sigma_)
        self.n_points_ = int(n.size)
        self.data_ = {"params": n, "tokens": d, "loss": y}  # the runs fitted, for bootstrap()
        a_, b_, e_, alpha, beta = theta
        if alpha <= 0 or beta <= 0:
            self.flags_.append(f"degenerate fit: alpha = {alpha:.4g}, beta = {beta:.4g} (a law needs both > 0)")
            self.converged_ = False
        fitted_range = FittedRange(params=(float(n.min()), float(n.max())), tokens=(float(d.min()), float(d.max())),
                                   source=f"the {n.size} runs fitted")
        self.law_ = ParametricLaw(E=math.exp(e_), A=math.exp(a_), B=math.exp(b_), alpha=float(alpha),
                                  beta=float(beta), name=self.name, source=self._source(),
                                  fitted_range=fitted_range)
        problems, self.diagnostics_ = diag.diagnose(self.law_, n, d, y, self.exponent_bounds,
                                                    tied=self.tie_exponents, fixed_E=self.fixed_E)
        if not problems and self.converged_:
            # boundary cases are already explained; otherwise ask the curvature how well-determined
            se = diag.standard_errors(theta, data, pmap, bounds)
            self.diagnostics_["se"] = se
            problems.extend(diag.se_problems(se, self.law_, tied=self.tie_exponents))
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

    # ----- use of the fitted law ------------------------------------------------------------------
    def predict(self, params, tokens=None):
        """Predicted loss (nats/token) at ``params`` parameters and ``tokens`` tokens.

        ``params`` may instead be a runs table with ``params`` and ``tokens`` columns (as passed
        to ``fit``); the result then has one loss per row.
        """
        require_fitted(self, "law_")
        return self.law_.predict(*predict_inputs(params, tokens))

    def optimum(self, compute):
        """The compute-optimal allocation at ``compute`` FLOPs (C = 6ND): ``law_.optimum``."""
        require_fitted(self, "law_")
        return self.law_.optimum(compute)

    def warm_start(self):
        """The start of a warm-started refit (``bootstrap(start="warm")``): the fitted law."""
        require_fitted(self, "law_")
        return self.law_

    def quantities(self, compute=None) -> dict:
        """E, A, B, α, β, a, b of the fitted law and, with ``compute``, N_opt, D_opt and D/N there
        (what :func:`~scalinglab.fit.bootstrap.bootstrap` summarises)."""
        require_fitted(self, "law_")
        law = self.law_
        out = {k: getattr(law, k) for k in LAW_KEYS}
        if compute is not None:
            alloc = law.optimum(compute)
            out.update(params_opt=alloc.params, tokens_opt=alloc.tokens, tokens_per_param=alloc.tokens_per_param)
        return out

    def bootstrap(self, runs=None, n_resamples=1000, **kwargs):
        """Percentile intervals by resampling the runs this estimator was fitted on (or ``runs``).

        Both ``fit(runs).bootstrap(1000)`` (an integer first argument is the number of resamples)
        and ``est.bootstrap(runs, n_resamples=1000)`` work. Keyword arguments (``seed``,
        ``workers``, ``compute``, ``start``, ``rng``) go to :func:`scalinglab.fit.bootstrap.bootstrap`.
        """
        require_fitted(self, "law_")
        if isinstance(runs, (int, np.integer)) and not isinstance(runs, bool):
            runs, n_resamples = None, int(runs)
        result = bootstrap(self, runs, n_resamples=n_resamples, **kwargs)
        # A huge spread means the runs do not pin the law down: say so on the estimator too.
        new = [f"bootstrap: {msg}" for msg in result.flags if f"bootstrap: {msg}" not in self.flags_]
        if new:
            self.flags_.extend(new)
            self.degenerate_ = True
        return result

    def as_dict(self) -> dict:
        require_fitted(self, "law_")
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


def fit_small_sweep(runs=None, *, params=None, tokens=None, loss=None, **settings) -> ChinchillaFit:
    """Approach 3 for small sweeps: the free 5-parameter fit, constrained only if it is degenerate.

    Fits ``ChinchillaFit(**settings)``. If that fit is degenerate (``degenerate_``), refits with
    α = β and ``SMALL_SWEEP_BOUNDS`` (0.05 ≤ α = β ≤ 1.5): one exponent fewer, and neither the
    collapse α -> 0 (term merges with E) nor a runaway steep term is reachable. The constrained fit
    is returned with the free fit's problems listed first in ``flags_`` and a line saying that the
    constraint was applied; it stays ``degenerate_`` if it has problems of its own (e.g. a bound
    that binds, or E -> 0). A clean free fit is returned unchanged.

    Parameters
    ----------
    runs : runs table (see :mod:`scalinglab.fit._data`); or ``params``, ``tokens``, ``loss`` arrays
    **settings
        ``ChinchillaFit`` settings for the free fit (``tie_exponents``/``exponent_bounds`` are
        overridden in the fallback).
    """
    free = ChinchillaFit(**settings).fit(runs, params=params, tokens=tokens, loss=loss)
    if not free.degenerate_:
        return free
    # replace() copies the settings only (fitted attributes are not init fields)
    constrained = replace(free, tie_exponents=True, exponent_bounds=SMALL_SWEEP_BOUNDS)
    constrained.fit(runs, params=params, tokens=tokens, loss=loss)
    own = list(constrained.flags_)
    # The learning-curves warning is on both fits; say it once, and it is not a problem of the law.
    constrained.flags_ = ([f"free 5-parameter fit: {msg}" for msg in free.flags_
                           if not msg.startswith(diag.LEARNING_CURVES_FLAG)]
                          + [f"so reported the constrained fit alpha = beta in [{SMALL_SWEEP_BOUNDS[0]:g}, "
                             f"{SMALL_SWEEP_BOUNDS[1]:g}] (objective {constrained.objective_:.6g} vs free "
                             f"{free.objective_:.6g})"]
                          + own)
    constrained.free_fit_ = free
    # The constrained law is reported; it is degenerate only for reasons of its own.
    problems = [msg for msg in own if not msg.startswith(diag.LEARNING_CURVES_FLAG)]
    constrained.degenerate_ = bool(problems) or not constrained.converged_
    return constrained
