"""Bootstrap confidence intervals for any fitted estimator (resampling runs with replacement).

:func:`bootstrap` takes any estimator of :mod:`scalinglab.fit` that keeps the columns it fitted
(``data_``) and says what to summarise (``quantities(compute=None)``, a dict of numbers); it refits
``clone()`` on each resample of those columns and imports no estimator module (the estimators
import it). Optional parts of the protocol: ``converged_`` (a refit that did not converge is
counted as failed), ``n_parameters()`` (a resample needs more distinct runs than this) and
``warm_start()`` (the ``start=`` of a warm-started refit, for ``start="warm"``).

For ``ChinchillaFit`` (Besiroglu et al. 2024, Epoch ``data_analysis.ipynb`` cell 21): draw
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

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from scalinglab.core.numbers import positive_float
from scalinglab.errors import ScalingLabError
from scalinglab.fit._data import columns, numeric
from scalinglab.fit.huber import single_threaded_blas

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


def _fit_chunk(args):
    """Worker: refit ``estimator`` on each index set; return (quantities or None, message) pairs."""
    estimator, data, index_sets, start, compute = args
    with single_threaded_blas():
        return _fit_all(estimator, data, index_sets, start, compute)


def _min_unique(estimator) -> int | None:
    """Distinct runs a resample needs: more than the fit's free parameters, as ``fit`` demands."""
    count = getattr(estimator, "n_parameters", None)
    return None if count is None else count() + 1


def _fit_all(estimator, data, index_sets, start, compute):
    need = _min_unique(estimator)
    extra = {} if start is None else {"start": start}
    out = []
    for idx in index_sets:
        # Duplicates pass fit()'s row count but carry no information: a resample of 7 runs with
        # only 4 distinct ones would "determine" 5 parameters. Refused, counted as failed.
        distinct = np.unique(idx).size
        if need is not None and distinct < need:
            out.append((None, f"resample has {distinct} distinct runs, fewer than the {need} needed; not refitted"))
            continue
        est = estimator.clone()
        try:
            est.fit({name: values[idx] for name, values in data.items()}, **extra)
        except ScalingLabError as exc:  # includes a refit whose every start ran away (diverged)
            out.append((None, str(exc)))
            continue
        if not getattr(est, "converged_", True):
            out.append((None, "; ".join(est.flags_) or "not converged"))
            continue
        # A converged but degenerate refit (E -> 0, a vanishing term) stays in the sample: dropping
        # it would make the intervals look narrower than the runs allow.
        try:
            out.append((est.quantities(compute), ""))
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


def bootstrap(estimator, runs=None, n_resamples: int = 1000, *, seed: int = 0, workers: int = 2,
              compute: float | None = None, start="warm", rng: str = "numpy") -> BootstrapResult:
    """Percentile bootstrap of an estimator over the runs.

    Parameters
    ----------
    estimator : an estimator instance with ``clone()``, ``fit()``, ``data_`` and ``quantities()``
        Settings to refit with (fitted or not; a fitted one supplies the warm start), e.g.
        ``ChinchillaFit()``, ``KaplanFit()``, ``SaturatingPowerLawFit()``.
    runs : runs table (DataFrame, mapping of arrays or run table), optional
        The runs to resample; None: the runs the (fitted) estimator was fitted on. Only the
        columns it fitted (the keys of its ``data_``) are resampled.
    n_resamples : int
    seed : int
    workers : int
        Processes; 1 runs in this process.
    compute : float, optional
        Budget in FLOPs (C = 6ND) at which to summarise N_opt, D_opt and tokens per parameter
        (passed to ``quantities``).
    start : "warm", "grid", ParametricLaw or (a, b, e, alpha, beta)
        "warm": every refit starts at ``estimator.warm_start()``; "grid": the estimator's own
        starts (``fit`` without ``start=``); anything else is passed as ``start=``.
    rng : "numpy" or "legacy" (Epoch's ``np.random.choice`` stream)
    """
    _check_bootstrappable(estimator)
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 2:
        raise ScalingLabError(f"n_resamples must be an integer ≥ 2, got {n_resamples!r}")
    if workers < 1:
        raise ScalingLabError(f"workers must be ≥ 1, got {workers!r}")
    if compute is not None:
        compute = positive_float(compute, "compute")
    fitted = hasattr(estimator, "data_")
    if runs is None and not fitted:
        raise ScalingLabError(f"bootstrap() needs runs, or a fitted {type(estimator).__name__}")
    full = estimator if fitted else estimator.clone().fit(runs)
    table = columns(runs) if runs is not None else None
    data = full.data_ if table is None else {k: numeric(table, k) for k in full.data_}
    if not getattr(full, "converged_", True):
        raise ScalingLabError("the full-data fit did not converge; bootstrap intervals would be meaningless")
    if isinstance(start, str):
        if start not in ("warm", "grid"):
            raise ScalingLabError(f"start must be 'warm', 'grid', a law or a parameter vector, got {start!r}")
        start_label = start
        start_value = None
        if start == "warm" and hasattr(full, "warm_start"):
            start_value = full.warm_start()
    else:
        start_label, start_value = "fixed", start
    n_points = len(next(iter(data.values())))

    indices = draw_indices(n_points, n_resamples, seed, rng)
    template = full.clone()
    min_unique = _min_unique(template)
    too_few = 0 if min_unique is None else int(sum(np.unique(row).size < min_unique for row in indices))
    n_chunks = min(n_resamples, workers * 8)
    chunks = [c for c in np.array_split(indices, n_chunks) if len(c)]
    jobs = [(template, data, list(c), start_value, compute) for c in chunks]
    if workers == 1:
        results = [r for job in jobs for r in _fit_chunk(job)]
    else:
        results = _run_pool(jobs, workers)

    good = [q for q, _ in results if q is not None]
    failures = [msg for q, msg in results if q is None]
    if len(good) < 2:
        skipped = (f"; {too_few} resamples had fewer than {min_unique} distinct runs and were not refitted "
                   f"(the table has {n_points} runs)" if too_few else "")
        raise ScalingLabError(f"only {len(good)} of {n_resamples} bootstrap refits converged{skipped}")
    samples = {k: np.array([q[k] for q in good]) for k in good[0]}
    return BootstrapResult(samples=samples, estimate=full.quantities(compute), n_resamples=n_resamples,
                           n_failed=len(failures), seed=seed, start=start_label, compute=compute,
                           failures=failures[:20],
                           flags=spread_flags(samples, len(failures), n_resamples, n_too_few_unique=too_few,
                                              min_unique=min_unique),
                           n_too_few_unique=too_few, min_unique=min_unique)


def _check_bootstrappable(estimator) -> None:
    """Refuse what :func:`bootstrap` cannot resample, saying what it takes."""
    if isinstance(estimator, type):
        raise ScalingLabError(f"bootstrap() resamples an estimator instance such as ChinchillaFit(), got the "
                              f"class {estimator.__name__} (write {estimator.__name__}())")
    if not all(hasattr(estimator, name) for name in ("clone", "fit", "quantities")):
        raise ScalingLabError(f"bootstrap() resamples an estimator with clone(), fit() and quantities(), such as "
                              f"a ChinchillaFit() instance; got {type(estimator).__name__} (EnvelopeFit bootstraps "
                              "itself, n_bootstrap=; IsoFLOPFit gives t-intervals on a and b)")


def spread_flags(samples: dict, n_failed: int, n_resamples: int, *, n_too_few_unique: int = 0,
                 min_unique: int | None = None) -> list:
    """Messages for a bootstrap spread too wide to trust the law (95% percentile intervals).

    Flags (for the quantities present in ``samples``): the interval of a = β/(α+β) wider than ``MAX_A_WIDTH``; an exponent interval spanning
    more than ``MAX_EXPONENT_RATIO`` (hi/lo, or reaching 0); more than ``MAX_FAILED_FRACTION`` of
    the refits failed (saying how many of those were resamples with too few distinct runs).
    """
    out = []
    if "a" in samples:
        lo, hi = np.percentile(samples["a"], [2.5, 97.5])
        if hi - lo > MAX_A_WIDTH:
            out.append(f"95% interval of a is ({lo:.3g}, {hi:.3g}), wider than {MAX_A_WIDTH:g}: "
                       "the runs do not determine the compute-optimal allocation")
    for name in [k for k in ("alpha", "beta") if k in samples]:
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
    # fork is cheapest where it exists (Linux); elsewhere the platform default (spawn) works too
    # because the worker is a module-level function with picklable arguments.
    method = "fork" if "fork" in mp.get_all_start_methods() else None
    ctx = mp.get_context(method)
    # Each worker limits BLAS to one thread itself (see huber.single_threaded_blas).
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        return [r for chunk in pool.map(_fit_chunk, jobs) for r in chunk]
