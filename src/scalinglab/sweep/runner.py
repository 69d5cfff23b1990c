"""Run a designed sweep into its store: skip what is finished, resume what is not, stream results.

:func:`run_sweep` is the whole execution half of ``scalinglab sweep``: it takes the folder's lock,
checks the folder holds this design (or none), sets corrupt records aside, hands the unfinished
runs to an executor and writes each run's record the moment it finishes, rebuilding the Parquet
tables after each. Nothing here imports torch or Ray; the executors and the run function do, in
the processes that train.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scalinglab.errors import ScalingLabError
from scalinglab.sweep.design import SweepDesign
from scalinglab.sweep.store import RunStore, StoreStatus


@dataclass
class SweepOutcome:
    """What one call of :func:`run_sweep` did.

    Attributes
    ----------
    trained : list of str
        Run IDs that finished during this call.
    skipped : list of str
        Run IDs already finished before it (not trained again).
    failed : dict
        ``{run_id: error line}`` for runs that failed during this call.
    quarantined : list of str
        Corrupt record files found and moved to ``records/corrupt/`` (their runs were re-run).
    """

    directory: str
    design_id: str
    executor: str
    trained: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    quarantined: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    status: StoreStatus | None = None

    def as_dict(self) -> dict:
        return {"directory": self.directory, "design_id": self.design_id, "executor": self.executor,
                "trained": len(self.trained), "skipped": len(self.skipped),
                "failed": dict(self.failed), "quarantined": list(self.quarantined),
                "wall_seconds": self.wall_seconds,
                "status": self.status.as_dict() if self.status else None}


def make_executor(name: str, *, address: str | None = None, workers: int | None = None,
                  threads: int | None = None, num_cpus: int | None = None):
    """The executor named ``name`` (``"local"`` or ``"ray"``) with its settings.

    Errors name each option as :func:`run_sweep` takes it and as ``scalinglab sweep`` does.
    """
    for option, value in (("workers= (--workers)", workers), ("threads=", threads),
                          ("num_cpus=", num_cpus)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ScalingLabError(f"{option}: must be a whole number of at least 1, got {value!r}")
    if name == "local":
        if address:
            raise ScalingLabError("address= (--address) is for the Ray executor; "
                                  "use executor='ray' (--executor ray)")
        from scalinglab.sweep.local import LocalExecutor

        return LocalExecutor(workers=workers, threads=threads)
    if name == "ray":
        from scalinglab.sweep.ray_exec import RayExecutor

        return RayExecutor(address=address, num_cpus=num_cpus or workers, cpus_per_run=threads or 1)
    raise ScalingLabError(f"executor {name!r}: expected 'local' or 'ray' (or an executor object)")


def build_record(planned: dict, result: dict, executor: str) -> dict:
    """A store record from a planned run (``PlannedRun.as_dict()``) and the run function's result.

    The eval curve is stored per point with the FLOPs spent so far under the design's convention
    (the run's FLOPs per token times the tokens seen).
    """
    result = dict(result)
    result.pop("config", None)  # the record holds the planned config once
    curve = result.pop("curve", None) or []
    attempts = result.pop("attempts", None)
    per_token = planned["flops"] / planned["tokens"]
    points = []
    for point in curve:
        tokens = float(point["tokens"])
        entry = {"step": int(point["step"]), "tokens": tokens, "flops": per_token * tokens,
                 "loss": float(point["loss"])}
        if point.get("train_loss") is not None:
            entry["train_loss"] = float(point["train_loss"])
        points.append(entry)
    record = {key: planned[key] for key in (
        "run_id", "group", "budget", "config", "params", "non_embedding_params", "tokens", "steps",
        "flops", "convention", "flops_by_convention", "params_by_convention", "hyperparameters")}
    record.update({"result": _finite(result), "curve": _finite(points), "attempts": attempts,
                   "executor": executor})
    return record


def _finite(value):
    """``value`` with non-finite floats replaced by None (JSON has no NaN; a record must be JSON)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


#: Environment variable through which a spawned worker tells its parent sweep that it re-ran the
#: script's top level (see :func:`_unguarded_main`).
_SPAWN_PROBE = "SCALINGLAB_SWEEP_SPAWN_PROBE"

_GUARD_MESSAGE = (
    "run_sweep was called again inside a worker process while it started: the local executor "
    "starts workers with 'spawn', which re-runs the top level of your script in each of them; "
    "put the code that calls run_sweep under `if __name__ == \"__main__\":`"
)


def _in_spawned_bootstrap() -> bool:
    """Whether this process is a spawned worker still importing its parent's main module.

    ``multiprocessing`` sets ``_inheriting`` on the current process while a ``spawn`` (or
    ``forkserver``) child runs the parent's ``__main__`` as ``__mp_main__``; its own "bootstrapping
    phase" check reads the same flag. A call of run_sweep at that moment can only come from a
    script whose top level calls it without the ``__main__`` guard.
    """
    import multiprocessing.process

    return bool(getattr(multiprocessing.process.current_process(), "_inheriting", False))


def _unguarded_main() -> None:
    """Refuse, in a spawned worker, a run_sweep reached by re-running an unguarded script.

    Without this each worker would go on to take the sweep folder's lock, fail on it, and die; the
    parent would then report every run as "worker process died 3 times". The marker file (named
    by the parent in the environment) lets the parent raise the same clear error.
    """
    if not _in_spawned_bootstrap():
        return
    marker = os.environ.get(_SPAWN_PROBE)
    if marker:
        try:
            Path(marker).touch()
        except OSError:  # the parent's temp folder is gone: the child's own error still says why
            pass
    raise ScalingLabError(_GUARD_MESSAGE)


def run_sweep(
    design: SweepDesign,
    directory,
    *,
    executor="local",
    run_fn: Callable[[dict], dict] | None = None,
    progress: bool = False,
    **executor_options,
) -> SweepOutcome:
    """Train every unfinished run of ``design`` into the store at ``directory``.

    Parameters
    ----------
    design : SweepDesign
    directory : path
        The sweep folder; created if needed. It must hold this design or none.
    executor : {"local", "ray"} or executor object
    run_fn : callable, optional
        ``fn(task) -> dict``; defaults to :func:`scalinglab.sweep.worker.train_task`.
    progress : bool
        Draw a Rich progress view (runs done, FLOPs done, ETA) on stderr.
    **executor_options
        ``address``, ``workers``, ``threads``, ``num_cpus`` for :func:`make_executor`.

    Returns
    -------
    SweepOutcome
        What this call trained, skipped and failed, and the folder's status afterwards.

    Raises
    ------
    ScalingLabError
        Before any training: if another sweep holds the folder, or the folder holds another design.
        Also when the local executor's workers re-ran a script that calls run_sweep without the
        ``if __name__ == "__main__":`` guard (see the note below).

    Notes
    -----
    The local executor starts its workers with ``spawn`` (no inherited torch state), and a spawned
    worker first re-runs the top level of the script that started it. In a script (not in a
    notebook or the REPL), put the call under the ``__main__`` guard, as ``multiprocessing``
    requires::

        if __name__ == "__main__":
            design = isoflop_design([1e11, 3e11])
            run_sweep(design, "sweep-out")

    Without it every worker would start the sweep again; run_sweep detects that and raises a
    ScalingLabError that says so.
    """
    from scalinglab.sweep.worker import train_task

    _unguarded_main()
    run_fn = run_fn or train_task
    runner = make_executor(executor, **executor_options) if isinstance(executor, str) else executor
    store = RunStore(directory)
    with store.lock():
        started = time.perf_counter()
        # A spawned worker that re-runs an unguarded script touches this file (see _unguarded_main).
        marker = Path(tempfile.gettempdir()) / f"scalinglab-spawn-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        previous = os.environ.get(_SPAWN_PROBE)
        os.environ[_SPAWN_PROBE] = str(marker)
        try:
            store.write_design(design.as_dict())
            records, _, corrupt = store.scan()
            store.quarantine(corrupt)
            outcome = SweepOutcome(directory=str(store.directory), design_id=design.design_id,
                                   executor=runner.name, quarantined=corrupt)
            planned = {run.run_id: run.as_dict() for run in design.runs}
            outcome.skipped = [rid for rid in planned if rid in records]
            todo = [rid for rid in planned if rid not in records]
            tasks = [{"run_id": rid, "config": planned[rid]["config"],
                      "out_dir": str(store.run_dir(rid))} for rid in todo]
            if corrupt or not store.table_path.exists():
                store.rebuild_tables()

            view = _Progress(design, set(outcome.skipped)) if progress else None

            def on_done(task, result, error):
                rid = task["run_id"]
                if error is not None and marker.exists():
                    # the workers died re-running the user's script, not training: nothing to record
                    raise ScalingLabError(_GUARD_MESSAGE)
                if error is None:
                    store.write_record(build_record(planned[rid], result, runner.name))
                    store.rebuild_tables()
                    outcome.trained.append(rid)
                else:
                    store.write_failure(rid, error)
                    outcome.failed[rid] = error
                if view:
                    view.advance(planned[rid]["flops"], failed=error is not None)

            if view:
                with view:
                    runner.execute(tasks, run_fn, on_done)
            else:
                runner.execute(tasks, run_fn, on_done)
            outcome.wall_seconds = time.perf_counter() - started
            outcome.status = store.status()
            return outcome
        finally:
            if previous is None:
                os.environ.pop(_SPAWN_PROBE, None)
            else:
                os.environ[_SPAWN_PROBE] = previous
            marker.unlink(missing_ok=True)


class _Progress:
    """A Rich progress view on stderr: runs done of planned, FLOPs done, elapsed time and ETA."""

    def __init__(self, design: SweepDesign, done_ids: set[str]):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        from scalinglab.core.units import format_number

        self._fmt = format_number
        self.total_runs = len(design.runs)
        self.runs_done = len(done_ids)
        self.failed = 0
        self.flops_total = design.total_flops
        self.flops_done = float(sum(r.flops for r in design.runs if r.run_id in done_ids))
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(),
            TextColumn("{task.fields[runs]}"), TextColumn("{task.fields[flops]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(stderr=True), transient=False,
        )
        self.task = self.progress.add_task("sweep", total=self.flops_total,
                                           completed=self.flops_done, **self._fields())

    def _fields(self) -> dict:
        failed = f", {self.failed} failed" if self.failed else ""
        return {"runs": f"{self.runs_done}/{self.total_runs} runs{failed}",
                "flops": f"{self._fmt(self.flops_done)}/{self._fmt(self.flops_total)} FLOPs"}

    def advance(self, flops: float, failed: bool = False) -> None:
        if failed:
            self.failed += 1
        else:
            self.runs_done += 1
            self.flops_done += flops
        self.progress.update(self.task, completed=self.flops_done, **self._fields())

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)
