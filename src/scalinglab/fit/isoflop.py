"""Approach 2: IsoFLOP profiles (Hoffmann et al. 2022, §3.2).

Runs are grouped by compute budget. For each budget a parabola of loss over ln N is fitted; its
vertex is N_opt(C), and D_opt = C/(6·N_opt). Power laws N_opt = k_N·C^a and D_opt = k_D·C^b are then
fitted across budgets by least squares in log space (:class:`~scalinglab.fit.powerlaw.PowerLaw`),
with t-intervals on a and b. Hoffmann report a = 0.49 (0.462, 0.534), b = 0.51 (0.483, 0.529)
(Table 2) [P].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from scalinglab.errors import ScalingLabError
from scalinglab.fit.powerlaw import PowerLaw


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

    def as_dict(self) -> dict:
        return {"flops": self.flops, "n_runs": self.n_runs, "params": self.params_opt, "tokens": self.tokens_opt,
                "loss": self.loss_opt, "curvature": self.curvature, "inside_sampled_range": self.inside}


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
class IsoFLOPFit:
    """Approach-2 estimator.

    Parameters
    ----------
    budget_rtol : float
        Runs whose FLOPs agree within this relative tolerance form one IsoFLOP profile.
    min_runs : int
        Runs needed per profile (a parabola needs 3).
    level : float
        Confidence level of the intervals on a and b.
    flops_per_param_token : float
        k in D_opt = C/(k·N_opt).

    Fitted attributes: ``profiles_`` (list of :class:`IsoFLOPProfile`), ``a_``, ``b_``,
    ``a_interval_``, ``b_interval_``, ``params_law_``, ``tokens_law_`` (PowerLaw), ``flags_``.
    """

    budget_rtol: float = 0.05
    min_runs: int = 3
    level: float = 0.95
    flops_per_param_token: float = 6.0
    flags_: list = field(default_factory=list, init=False, repr=False)

    def fit(self, runs):
        """``runs``: DataFrame with ``params``, ``flops`` and ``loss`` columns."""
        for col in ("params", "flops", "loss"):
            if col not in runs:
                raise ScalingLabError(f"Approach 2 needs a {col!r} column")
        n = np.asarray(runs["params"], dtype=float)
        c = np.asarray(runs["flops"], dtype=float)
        y = np.asarray(runs["loss"], dtype=float)
        for name, arr in (("params", n), ("flops", c), ("loss", y)):
            if np.any(~np.isfinite(arr) | (arr <= 0)):
                raise ScalingLabError(f"{name} must be positive and finite in every run")
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
            profiles.append(IsoFLOPProfile(flops=budget, n_runs=int(sel.sum()), params_opt=n_opt,
                                           tokens_opt=budget / (self.flops_per_param_token * n_opt),
                                           loss_opt=float(c0 + c1 * xv + c2 * xv * xv), curvature=float(c2),
                                           inside=inside))
        if len(profiles) < 2:
            raise ScalingLabError(f"Approach 2 needs at least 2 usable IsoFLOP budgets, got {len(profiles)} "
                                  f"({'; '.join(self.flags_) or 'no budgets'})")
        self.profiles_ = profiles
        cs = np.array([p.flops for p in profiles])
        self.params_law_ = PowerLaw().fit(cs, [p.params_opt for p in profiles])
        self.tokens_law_ = PowerLaw().fit(cs, [p.tokens_opt for p in profiles])
        self.a_ = self.params_law_.exponent_
        self.b_ = self.tokens_law_.exponent_
        if len(profiles) >= 3:
            self.a_interval_ = self.params_law_.interval(self.level)
            self.b_interval_ = self.tokens_law_.interval(self.level)
        else:
            self.a_interval_ = self.b_interval_ = None
            self.flags_.append("only 2 budgets: no interval on a and b")
        return self

    def predict(self, flops):
        """N_opt and D_opt at ``flops`` from the fitted power laws: (params, tokens)."""
        if not hasattr(self, "a_"):
            raise ScalingLabError("this IsoFLOPFit is not fitted yet; call fit() first")
        return self.params_law_.predict(flops), self.tokens_law_.predict(flops)

    def clone(self):
        return replace(self)

    def as_dict(self) -> dict:
        return {"a": self.a_, "b": self.b_, "a_interval": self.a_interval_, "b_interval": self.b_interval_,
                "level": self.level, "profiles": [p.as_dict() for p in self.profiles_], "flags": list(self.flags_)}
