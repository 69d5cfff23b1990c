"""Bootstrap confidence intervals for a fitted scaling law (resampling runs with replacement).

Protocol (Besiroglu et al. 2024, Epoch ``data_analysis.ipynb`` cell 21; docs/fitting.md): draw
``n_resamples`` sets of run indices with replacement, refit each, and report percentile intervals of
E, A, B, α, β, the allocation exponents a = β/(α+β), b = α/(α+β) and, at a user budget C, of the
compute-optimal N_opt, D_opt and tokens per parameter.

Each refit is, by default, **warm-started** from the full-data optimum (one L-BFGS-B polish with the
analytic gradient instead of the 4,500-start grid). Epoch started every refit from Hoffmann's
published values; ``start="grid"`` runs the full multistart per resample, and ``start=<law or θ>``
any fixed start. ``benchmarks/fit_speed.py`` compares warm-started and grid intervals on the
Chinchilla data. Resamples are split over ``workers`` processes (default 2); the resample indices
are drawn up front from one seeded generator, so results do not depend on the number of workers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from scalinglab.errors import ScalingLabError

#: Quantities summarised for a Chinchilla-form fit.
LAW_KEYS = ("E", "A", "B", "alpha", "beta", "a", "b")
BUDGET_KEYS = ("params_opt", "tokens_opt", "tokens_per_param")

#: Spread at which a bootstrap says the runs do not pin the law down (``BootstrapResult.flags``).
#: Published 95% intervals of the allocation exponent a are 0.01-0.05 wide (Hoffmann Table 2,
#: Besiroglu et al. 2024); an interval wider than 0.25 spans "Kaplan" to "Chinchilla" allocations.
MAX_A_WIDTH = 0.25
#: An exponent whose 95% interval spans more than this factor (hi/lo) is not determined.
MAX_EXPONENT_RATIO = 4.0
#: More failed refits than this fraction means the fit is fragile under resampling.
MAX_FAILED_FRACTION = 0.1


@dataclass
class BootstrapResult:
    """Resampled estimates and percentile intervals.

    Attributes
    ----------
    samples : dict of name -> ndarray
        One value per converged resample (``E``, ``A``, ``B``, ``alpha``, ``beta``, ``a``, ``b`` and,
        with a budget, ``params_opt``, ``tokens_opt``, ``tokens_per_param``).
    estimate : dict of name -> float
        The full-data fit's values of the same quantities.
    n_resamples, n_failed : int
        Requested resamples; those whose refit failed or did not converge (excluded, reported).
    n_too_few_unique : int
        Of the failed, resamples with fewer than ``min_unique`` distinct runs: not refitted, since
        duplicated runs add no information and a fit needs more distinct runs than parameters.
    min_unique : int or None
        Distinct runs a resample needs (free parameters + 1, as for the full fit).
    flags : list of str
        Signs that the runs do not determine the law (see :func:`spread_flags`); empty when none.
    """

    samples: dict
    estimate: dict
    n_resamples: int
    n_failed: int
    seed: int
    start: str
    compute: float | None = None
    failures: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    n_too_few_unique: int = 0
    min_unique: int | None = None

    def __repr__(self) -> str:
        # The default repr prints every sample array; show the counts and the 95% intervals.
        parts = []
        for name in self.samples:
            try:
                lo, hi = self.interval(name)
            except ScalingLabError:
                continue
            parts.append(f"{name}=({lo:.4g}, {hi:.4g})")
        budget = f", compute={self.compute:.3g}" if self.compute is not None else ""
        skipped = (f" ({self.n_too_few_unique} with < {self.min_unique} distinct runs)"
                   if self.n_too_few_unique else "")
        return (f"BootstrapResult(n_resamples={self.n_resamples}, n_failed={self.n_failed}{skipped}, "
                f"start={self.start!r}, seed={self.seed}{budget}, 95% intervals: {', '.join(parts)}, "
                f"flags={len(self.flags)})")

    def interval(self, name: str, level: float = 0.95) -> tuple[float, float]:
        """Percentile interval of ``name`` at confidence ``level`` (e.g. 0.95 → 2.5th–97.5th)."""
        if not 0 < level < 1:
            raise ScalingLabError(f"level must be in (0, 1), got {level!r}")
        values = self._values(name)
        lo, hi = np.percentile(values, [50 * (1 - level), 50 * (1 + level)])
        return float(lo), float(hi)

    def se(self, name: str) -> float:
        """Bootstrap standard error (standard deviation over resamples, ddof = 1)."""
        return float(np.std(self._values(name), ddof=1))

    def _values(self, name):
        if name not in self.samples:
            raise ScalingLabError(f"no bootstrap samples of {name!r}; have {', '.join(self.samples)}")
        values = self.samples[name]
        if values.size < 2:
            raise ScalingLabError(f"only {values.size} converged resamples; cannot form an interval")
        return values

    def as_dict(self, level: float = 0.95) -> dict:
        return {
            "n_resamples": self.n_resamples,
            "n_failed": self.n_failed,
            "n_too_few_unique": self.n_too_few_unique,
            "min_unique": self.min_unique,
            "seed": self.seed,
            "start": self.start,
            "level": level,
            "compute": self.compute,
            "flags": list(self.flags),
            "parameters": {
                k: {"estimate": self.estimate.get(k), "se": self.se(k), "interval": list(self.interval(k, level))}
                for k in self.samples
            },
        }


def _quantities(law, compute):
    out = {"E": law.E, "A": law.A, "B": law.B, "alpha": law.alpha, "beta": law.beta, "a": law.a, "b": law.b}
    if compute is not None:
        alloc = law.optimum(compute)
        out.update(params_opt=alloc.params, tokens_opt=alloc.tokens, tokens_per_param=alloc.tokens_per_param)
    return out


def _fit_chunk(args):
    """Worker: refit ``estimator`` on each index set; return (quantities or None, message) pairs."""
    from scalinglab.fit.huber import single_threaded_blas

    estimator, n, d, y, index_sets, start, compute = args
    out = []
    with single_threaded_blas():
        return _fit_all(estimator, n, d, y, index_sets, start, compute, out)


def _min_unique(estimator) -> int:
    """Distinct runs a resample needs: more than the fit's free parameters, as ``fit`` demands."""
    return estimator._n_parameters() + 1


def _fit_all(estimator, n, d, y, index_sets, start, compute, out):
    need = _min_unique(estimator)
    for idx in index_sets:
        # Duplicates pass fit()'s row count but carry no information: a resample of 7 runs with
        # only 4 distinct ones would "determine" 5 parameters. Refused, counted as failed.
        distinct = np.unique(idx).size
        if distinct < need:
            out.append((None, f"resample has {distinct} distinct runs, fewer than the {need} needed; not refitted"))
            continue
        est = estimator.clone()
        try:
            est.fit(n[idx], d[idx], y[idx], start=start)
        except ScalingLabError as exc:  # includes a refit whose every start ran away (diverged)
            out.append((None, str(exc)))
            continue
        if not est.converged_:
            out.append((None, "; ".join(est.flags_) or "not converged"))
            continue
        # A converged but degenerate refit (E -> 0, a vanishing term) stays in the sample: dropping
        # it would make the intervals look narrower than the runs allow.
        try:
            out.append((_quantities(est.law_, compute), ""))
        except ScalingLabError as exc:  # e.g. a refit with A -> 0 has no finite optimum at the budget
            out.append((None, f"degenerate refit: {exc}"))
    return out


def draw_indices(n_points: int, n_resamples: int, seed: int, rng: str = "numpy") -> np.ndarray:
    """Resample indices (n_resamples, n_points).

    ``rng="numpy"``: ``np.random.default_rng(seed).integers``. ``rng="legacy"``: the stream of
    ``np.random.seed(seed)`` + ``np.random.choice(n, n)`` per resample, as in Epoch's notebook
    (cell 21), which reproduces their resamples exactly.
    """
    if rng == "numpy":
        return np.random.default_rng(seed).integers(0, n_points, size=(n_resamples, n_points))
    if rng == "legacy":
        state = np.random.RandomState(seed)
        return np.stack([state.choice(n_points, n_points, replace=True) for _ in range(n_resamples)])
    raise ScalingLabError(f"rng must be 'numpy' or 'legacy', got {rng!r}")


def bootstrap(estimator, runs, n_resamples: int = 1000, *, seed: int = 0, workers: int = 2,
              compute: float | None = None, start="warm", rng: str = "numpy") -> BootstrapResult:
    """Percentile bootstrap of a Chinchilla-form estimator over the runs.

    Parameters
    ----------
    estimator : ChinchillaFit
        Settings to refit with (fitted or not; a fitted one supplies the warm start).
    runs : DataFrame with ``params``, ``tokens``, ``loss`` (or a tuple of three arrays)
    n_resamples : int
    seed : int
    workers : int
        Processes; 1 runs in this process.
    compute : float, optional
        Budget in FLOPs (C = 6ND) at which to summarise N_opt, D_opt and tokens per parameter.
    start : "warm", "grid", ParametricLaw or (a, b, e, alpha, beta)
    rng : "numpy" or "legacy" (Epoch's ``np.random.choice`` stream)
    """
    from scalinglab.fit.parametric import ChinchillaFit, as_arrays

    if not isinstance(estimator, ChinchillaFit):
        what = f"the class {estimator.__name__}" if isinstance(estimator, type) else type(estimator).__name__
        raise ScalingLabError(f"bootstrap() resamples a ChinchillaFit() instance, got {what} (EnvelopeFit "
                              "bootstraps itself, n_bootstrap=; IsoFLOPFit gives t-intervals on a and b)")
    if isinstance(runs, tuple):
        n, d, y = as_arrays(*runs)
    else:
        n, d, y = as_arrays(runs)
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 2:
        raise ScalingLabError(f"n_resamples must be an integer ≥ 2, got {n_resamples!r}")
    if workers < 1:
        raise ScalingLabError(f"workers must be ≥ 1, got {workers!r}")
    if compute is not None and not (math.isfinite(compute) and compute > 0):
        raise ScalingLabError(f"compute must be positive and finite, got {compute!r}")

    full = estimator if hasattr(estimator, "law_") else estimator.clone().fit(n, d, y)
    if not full.converged_:
        raise ScalingLabError("the full-data fit did not converge; bootstrap intervals would be meaningless")
    if isinstance(start, str):
        if start not in ("warm", "grid"):
            raise ScalingLabError(f"start must be 'warm', 'grid', a law or a parameter vector, got {start!r}")
        start_label = start
        start_value = full.law_ if start == "warm" else None
    else:
        start_label, start_value = "fixed", start

    indices = draw_indices(n.size, n_resamples, seed, rng)
    template = full.clone()
    min_unique = _min_unique(template)
    too_few = int(sum(np.unique(row).size < min_unique for row in indices))
    n_chunks = min(n_resamples, workers * 8)
    chunks = [c for c in np.array_split(indices, n_chunks) if len(c)]
    jobs = [(template, n, d, y, list(c), start_value, compute) for c in chunks]
    if workers == 1:
        results = [r for job in jobs for r in _fit_chunk(job)]
    else:
        results = _run_pool(jobs, workers)

    good = [q for q, _ in results if q is not None]
    failures = [msg for q, msg in results if q is None]
    if len(good) < 2:
        skipped = (f"; {too_few} resamples had fewer than {min_unique} distinct runs and were not refitted "
                   f"(the table has {n.size} runs)" if too_few else "")
        raise ScalingLabError(f"only {len(good)} of {n_resamples} bootstrap refits converged{skipped}")
    samples = {k: np.array([q[k] for q in good]) for k in good[0]}
    return BootstrapResult(samples=samples, estimate=_quantities(full.law_, compute), n_resamples=n_resamples,
                           n_failed=len(failures), seed=seed, start=start_label, compute=compute,
                           failures=failures[:20],
                           flags=spread_flags(samples, len(failures), n_resamples, n_too_few_unique=too_few,
                                              min_unique=min_unique),
                           n_too_few_unique=too_few, min_unique=min_unique)


def spread_flags(samples: dict, n_failed: int, n_resamples: int, *, n_too_few_unique: int = 0,
                 min_unique: int | None = None) -> list:
    """Messages for a bootstrap spread too wide to trust the law (95% percentile intervals).

    Flags: the interval of a = β/(α+β) wider than ``MAX_A_WIDTH``; an exponent interval spanning
    more than ``MAX_EXPONENT_RATIO`` (hi/lo, or reaching 0); more than ``MAX_FAILED_FRACTION`` of
    the refits failed (saying how many of those were resamples with too few distinct runs).
    """
    out = []
    lo, hi = np.percentile(samples["a"], [2.5, 97.5])
    if hi - lo > MAX_A_WIDTH:
        out.append(f"95% interval of a is ({lo:.3g}, {hi:.3g}), wider than {MAX_A_WIDTH:g}: "
                   "the runs do not determine the compute-optimal allocation")
    for name in ("alpha", "beta"):
        lo, hi = np.percentile(samples[name], [2.5, 97.5])
        if lo <= 0 or hi / lo > MAX_EXPONENT_RATIO:
            out.append(f"95% interval of {name} is ({lo:.3g}, {hi:.3g}), a spread over "
                       f"{MAX_EXPONENT_RATIO:g}x: {name} is not determined by the runs")
    if n_failed > MAX_FAILED_FRACTION * n_resamples:
        why = (f" ({n_too_few_unique} of them resamples with fewer than {min_unique} distinct runs, "
               "not refitted: too few runs for a stable bootstrap)" if n_too_few_unique else "")
        out.append(f"{n_failed} of {n_resamples} refits failed or did not converge{why}")
    return out


def _run_pool(jobs, workers):
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # fork is cheapest where it exists (Linux); elsewhere the platform default (spawn) works too
    # because the worker is a module-level function with picklable arguments.
    method = "fork" if "fork" in mp.get_all_start_methods() else None
    ctx = mp.get_context(method)
    # Each worker limits BLAS to one thread itself (see huber.single_threaded_blas).
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        return [r for chunk in pool.map(_fit_chunk, jobs) for r in chunk]
