"""Approach-3 fit speed: scalinglab's fit against the straightforward reference, in one process.

Reference (``FITTING.md`` §2.4, §6; Epoch ``data_analysis.ipynb`` cell 18): scipy L-BFGS-B started
from each of Hoffmann's 4,500 grid points, finite-difference gradients, default tolerances, one
start at a time; keep the best objective among starts that report success.
scalinglab: :class:`scalinglab.fit.parametric.ChinchillaFit` (batched LM steps over the grid, then
L-BFGS-B with the analytic gradient and tight tolerances on the best few starts).

Also times 1,000 warm-started bootstrap refits on 2 worker processes and compares their intervals
with intervals from full-grid refits of the same resamples (``--grid-check`` of them).

Usage::

    .venv/bin/python benchmarks/fit_speed.py [--reference-starts 4500] [--bootstrap 1000] [--grid-check 100]

Data: ``../shared/reference/chinchilla_fig4_epoch.csv`` (or ``$SCALINGLAB_REFERENCE_DIR``), the 5
largest losses dropped (240 points), D = C/(6N).
"""

from __future__ import annotations

import os

# Single-threaded BLAS for both sides: many tiny fits (FITTING.md §6 measured the reference so).
for _k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_k, "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402


def load():
    from scalinglab.io import drop_highest_loss, read_runs

    ref = Path(os.environ.get("SCALINGLAB_REFERENCE_DIR", Path(__file__).resolve().parents[2] / "shared" / "reference"))
    df = drop_highest_loss(read_runs(ref / "chinchilla_fig4_epoch.csv").runs, 5)
    return df


def reference_fit(df, n_starts):
    """Epoch's "replicate exactly" grid: L-BFGS-B, finite differences, default tolerances."""
    from scipy.optimize import minimize
    from scipy.special import huber, logsumexp

    log_n = np.log(df["params"].to_numpy())
    log_d = np.log(df["tokens"].to_numpy())
    log_l = np.log(df["loss"].to_numpy())

    def objective(p):
        a, b, e, alpha, beta = p
        pred = logsumexp([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)], axis=0)
        return np.sum(huber(1e-3, pred - log_l))

    grid = list(itertools.product([0, 5, 10, 15, 20, 25], [0, 5, 10, 15, 20, 25], [-1, -0.5, 0, 0.5, 1],
                                  [0, 0.5, 1, 1.5, 2], [0, 0.5, 1, 1.5, 2]))
    if n_starts < len(grid):  # an evenly spread subset, for a quick run; the time is then scaled
        grid = [grid[i] for i in np.linspace(0, len(grid) - 1, n_starts).astype(int)]
    best, n_success = None, 0
    t0 = time.perf_counter()
    for start in grid:
        res = minimize(objective, np.array(start, dtype=float), method="L-BFGS-B")
        if res.success:
            n_success += 1
            if best is None or res.fun < best.fun:
                best = res
    return time.perf_counter() - t0, best, n_success, len(grid)


def law_of(x):
    a, b, e, alpha, beta = x
    return {"A": float(np.exp(a)), "B": float(np.exp(b)), "E": float(np.exp(e)), "alpha": float(alpha),
            "beta": float(beta)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference-starts", type=int, default=4500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--grid-check", type=int, default=100)
    args = parser.parse_args()

    from scalinglab.fit.bootstrap import bootstrap, draw_indices
    from scalinglab.fit.parametric import ChinchillaFit

    df = load()
    print(f"data: {len(df)} runs; load average {os.getloadavg()[0]:.2f} at start")

    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        fit = ChinchillaFit().fit(df)
        times.append(time.perf_counter() - t0)
    ours = min(times)
    print(f"scalinglab fit: {ours:.3f} s (best of {args.repeats}: {', '.join(f'{t:.3f}' for t in times)}); "
          f"f* = {fit.objective_!r}; {fit.law_}")

    t_ref, best, n_ok, n_run = reference_fit(df, args.reference_starts)
    scale = 4500 / n_run
    t_ref_full = t_ref * scale
    print(f"reference grid: {t_ref:.1f} s for {n_run} starts ({n_ok} success)"
          + (f" -> {t_ref_full:.1f} s scaled to 4,500 starts" if n_run < 4500 else "")
          + f"; f = {float(best.fun)!r}; {law_of(best.x)}")
    rel = abs(fit.objective_ - best.fun) / best.fun
    print(f"speed-up: {t_ref_full / ours:.0f}x; optimum relative difference {rel:.2e} "
          f"(scalinglab {'lower' if fit.objective_ <= best.fun else 'HIGHER'})")

    t0 = time.perf_counter()
    boot = bootstrap(fit, df, n_resamples=args.bootstrap, seed=0, workers=2, compute=5.88e23)
    t_boot = time.perf_counter() - t0
    print(f"bootstrap: {args.bootstrap} warm-started refits on 2 workers in {t_boot:.2f} s "
          f"({boot.n_failed} failed)")
    epoch = {"E": (1.769, 1.871), "alpha": (0.317, 0.373), "beta": (0.331, 0.415), "A": (285.214, 743.626),
             "B": (1042.357, 5810.344)}
    for k in ("E", "A", "B", "alpha", "beta", "a", "b", "tokens_per_param"):
        lo, hi = boot.interval(k)
        ref = f"   Epoch 95% CI {epoch[k]}" if k in epoch else ""
        print(f"  {k:>16}: {boot.estimate[k]:.5g}  95% ({lo:.5g}, {hi:.5g})  SE {boot.se(k):.4g}{ref}")

    if args.grid_check:
        m = args.grid_check
        idx = draw_indices(len(df), m, seed=1)
        n, d, y = (df[c].to_numpy() for c in ("params", "tokens", "loss"))
        t0 = time.perf_counter()
        warm = [ChinchillaFit().fit(params=n[i], tokens=d[i], loss=y[i], start=fit.law_).law_ for i in idx]
        t_warm = time.perf_counter() - t0
        t0 = time.perf_counter()
        grid = [ChinchillaFit().fit(params=n[i], tokens=d[i], loss=y[i]).law_ for i in idx]
        t_grid = time.perf_counter() - t0
        print(f"warm vs grid refits of the same {m} resamples (1 process): warm {t_warm:.2f} s, grid {t_grid:.2f} s")
        for k in ("E", "A", "B", "alpha", "beta"):
            w = np.array([getattr(law, k) for law in warm])
            g = np.array([getattr(law, k) for law in grid])
            print(f"  {k:>6}: max |warm - grid| / grid = {np.max(np.abs(w - g) / np.abs(g)):.2e}; "
                  f"95% interval warm ({np.percentile(w, 2.5):.5g}, {np.percentile(w, 97.5):.5g}) "
                  f"grid ({np.percentile(g, 2.5):.5g}, {np.percentile(g, 97.5):.5g})")


if __name__ == "__main__":
    main()
