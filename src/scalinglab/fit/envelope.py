"""Approach 1: the envelope of minimal loss per FLOP over training curves (Hoffmann et al. 2022, §3.1).

Input is loss *curves*: several rows per run (``run_id``), each with the tokens seen so far and the
loss at that point; FLOPs are 6·N·tokens unless the table gives them. Each curve is (optionally)
smoothed and interpolated linearly in ln C. At ``n_grid`` log-spaced FLOP values (Hoffmann: 1,500)
the run with the lowest loss among those whose curve covers that C is taken; its N is N_opt(C) and
D_opt is the tokens that run had seen on reaching C (ln D interpolated in ln C along its curve), so
D_opt is right whatever FLOP convention a ``flops`` column uses (sweeps store full "chinchilla"
FLOPs, where C/(6·N_opt) would overstate D_opt); without a ``flops`` column this equals
C/(k·N_opt) with k = ``flops_per_param_token``. Envelope points won by the smallest or the largest
model are dropped (the optimum may lie beyond the sampled sizes there). Power laws N_opt ∝ C^a,
D_opt ∝ C^b are fitted to the envelope points.

The envelope points are strongly correlated (neighbouring C values share a run), so a t-interval on
the slope would be far too narrow; intervals here come from a bootstrap over runs (resample whole
curves with replacement, rebuild the envelope, refit). Rows with zero FLOPs (an evaluation at
step 0, before any training) are skipped: they have no position on the log-FLOP axis. Hoffmann report a = 0.50 (0.488, 0.502),
b = 0.50 (0.501, 0.512) (Table 2) [P]. Curves should come from runs whose learning-rate schedule
length matches their horizon (Hoffmann et al. 2022 §3.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scalinglab.errors import ScalingLabError
from scalinglab.fit._base import AllocationMixin
from scalinglab.fit._checks import require_fitted
from scalinglab.fit.powerlaw import PowerLaw


def _curves(runs, flops_per_param_token, smooth):
    for col in ("run_id", "params", "tokens", "loss"):
        if col not in runs:
            raise ScalingLabError(f"Approach 1 needs loss curves with a {col!r} column (several rows per run)")
    curves = []
    for run_id, g in runs.groupby("run_id", sort=True):
        n = np.asarray(g["params"], dtype=float)
        if np.unique(n).size != 1:
            raise ScalingLabError(f"run {run_id!r} has more than one model size")
        tok = np.asarray(g["tokens"], dtype=float)
        c = np.asarray(g["flops"], dtype=float) if "flops" in g else flops_per_param_token * n * tok
        y = np.asarray(g["loss"], dtype=float)
        if np.any(~np.isfinite(c) | (c < 0)) or np.any(~np.isfinite(tok) | (tok < 0)) or np.any(~np.isfinite(y)):
            raise ScalingLabError(f"run {run_id!r} has a negative or non-finite FLOP count, token count or loss")
        # An evaluation logged before the first optimizer step (step 0) has spent zero FLOPs: it
        # has no place on a log-FLOP axis and says nothing about the loss per FLOP, so it is
        # skipped (explicitly, before any log is taken).
        spent = (c > 0) & (tok > 0)
        c, tok, y = c[spent], tok[spent], y[spent]
        order = np.argsort(c)
        c, tok, y = c[order], tok[order], y[order]
        if c.size < 2 or c[0] == c[-1]:
            continue
        if smooth > 1 and y.size >= smooth:
            kernel = np.ones(smooth) / smooth
            y = np.convolve(np.pad(y, (smooth // 2, smooth - 1 - smooth // 2), mode="edge"), kernel, mode="valid")
        curves.append((float(n[0]), np.log(c), y, np.log(tok)))
    if len(curves) < 2:
        raise ScalingLabError(f"Approach 1 needs at least 2 runs with curves of 2+ points, got {len(curves)}")
    return curves


def _envelope(curves, log_grid):
    best_loss = np.full(log_grid.size, np.inf)
    best_n = np.full(log_grid.size, np.nan)
    best_log_d = np.full(log_grid.size, np.nan)
    for n, lc, y, ld in curves:
        covered = (log_grid >= lc[0]) & (log_grid <= lc[-1])
        if not covered.any():
            continue
        interp = np.interp(log_grid[covered], lc, y)
        better = interp < best_loss[covered]
        idx = np.flatnonzero(covered)[better]
        best_loss[idx] = interp[better]
        best_n[idx] = n
        # the winner's tokens at that C, from its own curve (any FLOP convention)
        best_log_d[idx] = np.interp(log_grid[idx], lc, ld)
    ok = np.isfinite(best_loss)
    return ok, best_n, best_loss, best_log_d


@dataclass
class EnvelopeFit(AllocationMixin):
    """Approach-1 estimator over loss curves.

    Parameters
    ----------
    n_grid : int
        Log-spaced FLOP values at which the envelope is read.
    smooth : int
        Width of a moving average over each loss curve (1: none).
    n_bootstrap : int
        Resamples of whole curves for the intervals on a and b.
    level : float
        Confidence level of those intervals.
    seed : int
    flops_per_param_token : float
        k in C = k·N·D, used only when the table has no ``flops`` column. D_opt always comes from
        the curves' ``tokens`` (see the module docstring).

    Fitted attributes: ``flops_``, ``params_opt_``, ``tokens_opt_``, ``loss_`` (the envelope),
    ``a_``, ``b_``, ``a_interval_``, ``b_interval_`` (bootstrap over runs), ``params_law_``,
    ``tokens_law_``, ``n_sizes_``, ``flags_``.
    """

    n_grid: int = 1500
    smooth: int = 1
    n_bootstrap: int = 200
    level: float = 0.95
    seed: int = 0
    flops_per_param_token: float = 6.0
    flags_: list = field(default_factory=list, init=False, repr=False)

    def _fit_curves(self, curves, log_grid):
        ok, best_n, best_loss, best_log_d = _envelope(curves, log_grid)
        # Where the smallest or largest model wins, the true optimum may lie beyond the sampled
        # sizes: those envelope points are pinned to the boundary and would flatten the slope.
        sizes = [curve[0] for curve in curves]
        ok &= (best_n > min(sizes)) & (best_n < max(sizes))
        if np.unique(best_n[ok]).size < 2:
            raise ScalingLabError("fewer than 2 model sizes win the envelope away from the smallest and "
                                  "largest sizes: no N_opt(C) trend to fit (add sizes or longer curves)")
        c = np.exp(log_grid[ok])
        n_opt = best_n[ok]
        d_opt = np.exp(best_log_d[ok])
        return c, n_opt, d_opt, best_loss[ok]

    def fit(self, runs):
        """Fit to loss curves; returns ``self``.

        Parameters
        ----------
        runs : DataFrame
            Several rows per run: ``run_id``, ``params``, ``tokens`` (seen so far), ``loss`` and
            optionally ``flops`` (spent so far, any convention; else k·N·tokens).
        """
        curves = _curves(runs, self.flops_per_param_token, self.smooth)
        lo = min(curve[1][0] for curve in curves)
        hi = max(curve[1][-1] for curve in curves)
        log_grid = np.linspace(lo, hi, self.n_grid)
        c, n_opt, d_opt, loss = self._fit_curves(curves, log_grid)
        self.flags_ = []
        self.flops_, self.params_opt_, self.tokens_opt_, self.loss_ = c, n_opt, d_opt, loss
        self.params_law_ = PowerLaw().fit(c, n_opt)
        self.tokens_law_ = PowerLaw().fit(c, d_opt)
        self.a_ = self.params_law_.exponent_
        self.b_ = self.tokens_law_.exponent_
        self.n_sizes_ = int(np.unique(n_opt).size)
        if self.n_sizes_ < 4:
            self.flags_.append(f"the envelope visits only {self.n_sizes_} model sizes; a and b are coarse")
        rng = np.random.default_rng(self.seed)
        a_s, b_s = [], []
        for _ in range(self.n_bootstrap):
            pick = [curves[i] for i in rng.integers(0, len(curves), len(curves))]
            try:
                cb, nb, db, _ = self._fit_curves(pick, log_grid)
            except ScalingLabError:
                continue
            a_s.append(PowerLaw().fit(cb, nb).exponent_)
            b_s.append(PowerLaw().fit(cb, db).exponent_)
        q = [50 * (1 - self.level), 50 * (1 + self.level)]
        if len(a_s) >= 10:
            self.a_interval_ = tuple(float(v) for v in np.percentile(a_s, q))
            self.b_interval_ = tuple(float(v) for v in np.percentile(b_s, q))
        else:
            self.a_interval_ = self.b_interval_ = None
            self.flags_.append("too few usable bootstrap resamples for intervals on a and b")
        return self



    def as_dict(self) -> dict:
        require_fitted(self, "a_")
        return {"a": self.a_, "b": self.b_, "a_interval": self.a_interval_, "b_interval": self.b_interval_,
                "level": self.level, "n_sizes_on_envelope": self.n_sizes_, "flags": list(self.flags_)}
