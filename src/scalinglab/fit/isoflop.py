"""Approach 2: IsoFLOP profiles (Hoffmann et al. 2022, §3.2).

Runs are grouped by compute budget. For each budget a parabola of loss over ln N is fitted; its
vertex is N_opt(C). Power laws N_opt = k_N·C^a and D_opt = k_D·C^b are then fitted across budgets
by least squares in log space (:class:`~scalinglab.fit.powerlaw.PowerLawFit`), with t-intervals on a
and b, and L(C) ∝ C^-α_C to the profiles' minimum losses (Kaplan et al. 2020, Eq. 1.4):
``predict(C)`` is that least loss, ``optimum(C)`` the allocation. Hoffmann report a = 0.49 (0.462, 0.534), b = 0.51 (0.483, 0.529) (Table 2) [P].

D_opt at a budget comes from the runs themselves when the table has a ``tokens`` column: each
run's FLOPs per parameter-token k_i = C_i/(N_i·D_i) is read off the table, ln k is interpolated
linearly in ln N over that budget's runs, and D_opt = C/(k(N_opt)·N_opt). On one budget this is
the same as interpolating ln D linearly in ln N, and it is exact whatever FLOP convention the
``flops`` column uses — sweeps store full ("chinchilla") FLOPs, about 10 per parameter-token for
tiny models and varying with N, where C/(6·N_opt) would overstate D_opt by ~1.7x. Beyond the
sampled sizes (a vertex outside them, flagged) k is held at the nearest run's value. Without a
``tokens`` column, or with ``flops_per_param_token`` set, D_opt = C/(k·N_opt) with that k (6 by
default: C = 6·N·D).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scalinglab.core.units import FLOP_PER_PARAM_TOKEN
from scalinglab.errors import ScalingLabError
from scalinglab.fit._base import AllocationMixin
from scalinglab.fit._checks import require_fitted
from scalinglab.fit._data import columns, numeric
from scalinglab.fit.powerlaw import PowerLawFit


@dataclass(frozen=True)
class IsoFLOPProfile:
    """One budget's parabola loss = c0 + c1·x + c2·x², x = ln N, and its minimum."""

    flops: float
    n_runs: int
    params_opt: float
    tokens_opt: float
    loss_opt: float
    curvature: float
    inside: bool  # vertex within the sampled range of N
    flops_per_param_token: float = FLOP_PER_PARAM_TOKEN  # k in tokens_opt = C/(k·params_opt)

    def as_dict(self) -> dict:
        return {"flops": self.flops, "n_runs": self.n_runs, "params": self.params_opt, "tokens": self.tokens_opt,
                "loss": self.loss_opt, "curvature": self.curvature, "inside_sampled_range": self.inside,
                "flops_per_param_token": self.flops_per_param_token}


def group_budgets(flops, rtol: float = 0.05) -> np.ndarray:
    """Label runs whose FLOPs agree within ``rtol`` (relative, chained in sorted order) as one budget."""
    flops = np.asarray(flops, dtype=float)
    order = np.argsort(flops)
    labels = np.empty(flops.size, dtype=int)
    group, prev = 0, None
    for i in order:
        if prev is not None and flops[i] > prev * (1 + rtol):
            group += 1
        labels[i] = group
        prev = flops[i]
    return labels


@dataclass
class IsoFLOPFit(AllocationMixin):
    """Approach-2 estimator.

    The contract of :mod:`scalinglab.fit._base`: ``fit(runs) -> self``, ``predict(flops)`` -> the
    least loss at that compute, ``optimum(compute)`` -> Allocation, ``as_dict()``.

    Parameters
    ----------
    budget_rtol : float
        Runs whose FLOPs agree within this relative tolerance form one IsoFLOP profile.
    min_runs : int
        Runs needed per profile (a parabola needs 3).
    level : float
        Confidence level of the intervals on a and b.
    flops_per_param_token : float, optional
        k in D_opt = C/(k·N_opt). None (the default): D_opt from the runs' own tokens when the
        table has a ``tokens`` column (exact in any FLOP convention; see the module docstring),
        else k = 6. A number forces that k even when tokens are given.

    Fitted attributes: ``profiles_`` (list of :class:`IsoFLOPProfile`), ``a_``, ``b_``,
    ``a_interval_``, ``b_interval_``, ``params_law_``, ``tokens_law_``, ``loss_law_`` (PowerLawFit), ``flags_``,
    ``tokens_from_`` ("runs": D_opt interpolated from the tokens column; "flops": C/(k·N_opt)).
    """

    budget_rtol: float = 0.05
    min_runs: int = 3
    level: float = 0.95
    flops_per_param_token: float | None = None

    def fit(self, runs=None, *, params=None, flops=None, loss=None, tokens=None):
        """Fit the profiles and the power laws; returns ``self``.

        Parameters
        ----------
        runs : runs table (DataFrame, mapping of arrays or run table)
            ``params``, ``flops`` and ``loss`` columns, one row per run (final losses), and
            optionally ``tokens`` (used for D_opt, see the class docstring). The columns may
            instead be given as keyword arrays.
        """
        runs = columns(runs, {"params": params, "flops": flops, "loss": loss, "tokens": tokens})
        for col in ("params", "flops", "loss"):
            if col not in runs:
                raise ScalingLabError(f"Approach 2 needs a {col!r} column")
        k_fixed = self.flops_per_param_token
        valid = (isinstance(k_fixed, (int, float, np.number)) and not isinstance(k_fixed, bool)
                 and math.isfinite(k_fixed) and k_fixed > 0)
        if k_fixed is not None and not valid:
            raise ScalingLabError(f"flops_per_param_token must be a positive number or None, got {k_fixed!r}")
        n, c, y = (numeric(runs, col) for col in ("params", "flops", "loss"))
        checked = [("params", n), ("flops", c), ("loss", y)]
        use_tokens = k_fixed is None and "tokens" in runs
        if use_tokens:
            d = numeric(runs, "tokens")
            checked.append(("tokens", d))
        for name, arr in checked:
            if np.any(~np.isfinite(arr) | (arr <= 0)):
                hint = (" (or drop the tokens column to use D = C/(6N))" if name == "tokens" else "")
                raise ScalingLabError(f"{name} must be positive and finite in every run{hint}")
        # FLOPs per parameter-token of each run, in whatever convention the flops column uses.
        log_k = np.log(c / (n * d)) if use_tokens else None
        labels = group_budgets(c, self.budget_rtol)
        self.flags_ = []
        profiles = []
        for g in np.unique(labels):
            sel = labels == g
            budget = float(np.exp(np.mean(np.log(c[sel]))))
            if np.unique(n[sel]).size < self.min_runs:
                self.flags_.append(f"budget {budget:.3g}: {np.unique(n[sel]).size} model size(s), "
                                   f"need {self.min_runs}; skipped")
                continue
            x = np.log(n[sel])
            c2, c1, c0 = np.polyfit(x, y[sel], 2)
            if not c2 > 0:
                self.flags_.append(f"budget {budget:.3g}: loss is not convex in log N (curvature {c2:.3g}); skipped")
                continue
            xv = -c1 / (2 * c2)
            inside = bool(x.min() <= xv <= x.max())
            if not inside:
                self.flags_.append(f"budget {budget:.3g}: minimum at N = {math.exp(xv):.3g} lies outside the "
                                   f"sampled sizes {math.exp(x.min()):.3g}–{math.exp(x.max()):.3g} (extrapolated)")
            n_opt = math.exp(xv)
            if use_tokens:
                k_opt = _k_at(x, log_k[sel], xv)
            else:
                k_opt = float(k_fixed if k_fixed is not None else FLOP_PER_PARAM_TOKEN)
            profiles.append(IsoFLOPProfile(flops=budget, n_runs=int(sel.sum()), params_opt=n_opt,
                                           tokens_opt=budget / (k_opt * n_opt),
                                           loss_opt=float(c0 + c1 * xv + c2 * xv * xv), curvature=float(c2),
                                           inside=inside, flops_per_param_token=k_opt))
        if len(profiles) < 2:
            raise ScalingLabError(f"Approach 2 needs at least 2 usable IsoFLOP budgets, got {len(profiles)} "
                                  f"({'; '.join(self.flags_) or 'no budgets'})")
        self.profiles_ = profiles
        self.tokens_from_ = "runs" if use_tokens else "flops"
        cs = np.array([p.flops for p in profiles])
        self.params_law_ = PowerLawFit().fit(x=cs, y=[p.params_opt for p in profiles])
        self.tokens_law_ = PowerLawFit().fit(x=cs, y=[p.tokens_opt for p in profiles])
        self.loss_law_ = PowerLawFit().fit(x=cs, y=[p.loss_opt for p in profiles])
        self.a_ = self.params_law_.exponent_
        self.b_ = self.tokens_law_.exponent_
        if len(profiles) >= 3:
            self.a_interval_ = self.params_law_.interval(self.level)
            self.b_interval_ = self.tokens_law_.interval(self.level)
        else:
            self.a_interval_ = self.b_interval_ = None
            self.flags_.append("only 2 budgets: no interval on a and b")
        return self

    def as_dict(self) -> dict:
        require_fitted(self, "a_")
        return {"a": self.a_, "b": self.b_, "a_interval": self.a_interval_, "b_interval": self.b_interval_,
                "level": self.level, "tokens_from": self.tokens_from_,
                "profiles": [p.as_dict() for p in self.profiles_], "flags": list(self.flags_)}


def _k_at(log_n, log_k, at):
    """FLOPs per parameter-token at ln N = ``at``: ln k linear in ln N over one budget's runs.

    Runs of one size are averaged first (np.interp needs distinct abscissae); outside the sampled
    sizes k is held at the nearest size's value rather than extrapolated.
    """
    sizes, inverse = np.unique(log_n, return_inverse=True)
    mean_log_k = np.bincount(inverse, weights=log_k) / np.bincount(inverse)
    return float(math.exp(np.interp(at, sizes, mean_log_k)))
