"""Sweep execution: does one run per core beat one run at a time with all cores? And the store's cost.

Trains the same small IsoFLOP sweep (real ``train()``, default corpus, byte-level) twice into fresh
folders:

- reference: ``LocalExecutor(workers=1, threads=cores)``: runs one after another, each with every
  core (what a naive loop over ``train()`` does);
- measured: ``LocalExecutor(workers=cores, threads=1)``: one run per core (the sweep's default).

It prints both wall times and their ratio (reference / measured: above 1 means the sweep's layout is
faster), then the store's own cost per finished run (seal + atomic write of the record and the
rebuild of both Parquet tables) at 100 stored runs, against the median training time of a run.

Usage::

    python benchmarks/sweep_executor.py [--budgets 3e10,6e10] [--sizes 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from _timing import machine


def timed_sweep(design, folder: Path, workers: int, threads: int):
    from scalinglab.sweep.runner import run_sweep
    from scalinglab.sweep.store import RunStore

    start = time.perf_counter()
    outcome = run_sweep(design, folder, executor="local", workers=workers, threads=threads)
    wall = time.perf_counter() - start
    if outcome.failed:
        raise SystemExit(f"runs failed: {outcome.failed}")
    table = RunStore(folder).run_table()
    return wall, table


def store_cost(record: dict, n: int = 100) -> float:
    """Seconds per finished run spent by the store (record write + table rebuild) at ``n`` runs."""
    from scalinglab.sweep.store import RunStore

    folder = Path(tempfile.mkdtemp(prefix="store-bench-"))
    try:
        store = RunStore(folder)
        for i in range(n - 1):
            store.write_record(dict(record, run_id=f"{record['run_id']}-{i}"))
        start = time.perf_counter()
        store.write_record(dict(record, run_id=f"{record['run_id']}-last"))
        store.rebuild_tables()
        return time.perf_counter() - start
    finally:
        shutil.rmtree(folder)


def main() -> None:
    from scalinglab.sweep.design import isoflop_design
    from scalinglab.sweep.local import available_cores
    from scalinglab.sweep.store import RunStore, unseal

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="3e10,6e10")
    parser.add_argument("--sizes", type=int, default=3)
    args = parser.parse_args()
    cores = available_cores()
    budgets = [float(b) for b in args.budgets.split(",")]
    design = isoflop_design(budgets, sizes_per_budget=args.sizes, device="cpu")
    print(f"machine: {machine()}")
    print(f"sweep: {len(design.runs)} runs, budgets {budgets}, {design.total_flops:.3g} FLOPs (full)")
    root = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    try:
        ref_wall, ref_table = timed_sweep(design, root / "serial", workers=1, threads=cores)
        new_wall, new_table = timed_sweep(design, root / "parallel", workers=cores, threads=1)
        print(f"reference  1 worker x {cores} threads: {ref_wall:7.1f} s")
        print(f"measured   {cores} workers x 1 thread : {new_wall:7.1f} s")
        print(f"ratio reference/measured: {ref_wall / new_wall:.2f}x")
        merged = ref_table.merge(new_table, on="run_id", suffixes=("_ref", "_new"))
        diff = (merged["loss_ref"] - merged["loss_new"]).abs().max()
        print(f"largest loss difference between the two layouts: {diff:.2e} nats (thread count only)")
        median_run = statistics.median(new_table["wall_seconds"])
        store = RunStore(root / "parallel")
        record = unseal(next(store.records_dir.glob("*.json")), "scalinglab.run/1")
        per_run = store_cost(record)
        print(f"store cost per finished run at 100 runs: {per_run * 1e3:.1f} ms "
              f"({per_run / median_run:.2%} of a median run's {median_run:.1f} s)")
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
