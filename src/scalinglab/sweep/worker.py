"""What an executor runs for one task: train a config in its run folder and return the result.

A *task* is a plain dict, so it crosses process and Ray boundaries unchanged::

    {"run_id": str, "config": TrainConfig.to_dict(), "out_dir": str, "threads": int | None}

A *run function* takes a task and returns a JSON-friendly dict. :func:`train_task` is the real
one; executors accept any other (tests use cheap stand-ins), which keeps them independent of torch.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from scalinglab.errors import ScalingLabError


def note_attempt(out_dir, run_id: str) -> int:
    """Append a line to ``out_dir/attempts.log`` and return how many attempts it now records.

    The log is how the store tells a run that was started (and perhaps killed) from one that was
    never started, and how a test proves a finished run was not trained again.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "attempts.log"
    with open(log, "a") as handle:
        handle.write(f"{time.time():.3f} pid={os.getpid()} host={socket.gethostname()} run={run_id}\n")
        handle.flush()
        os.fsync(handle.fileno())
    return sum(1 for line in log.read_text().splitlines() if line.strip())


def hold_run_lock(out_dir):
    """Take an exclusive flock on ``out_dir/run.lock`` so that one run is never trained twice at once.

    Returns the open file (keep it alive for the run). Raises ScalingLabError if another process
    holds it, e.g. a worker orphaned by a killed sweep that has not exited yet.
    """
    import fcntl

    handle = open(Path(out_dir) / "run.lock", "a+")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise ScalingLabError(f"run folder {out_dir} is being trained by another process") from exc
    return handle


def train_task(task: dict) -> dict:
    """Train one run (resuming from its checkpoint in ``out_dir``) and return its result.

    Returns
    -------
    dict
        ``TrainResult.as_dict()`` plus ``attempts`` (starts of this run so far) and ``host``.
    """
    from scalinglab.train.config import TrainConfig
    from scalinglab.train.trainer import train  # torch is imported here, in the worker only

    config = dict(task["config"])
    if task.get("threads"):
        config["threads"] = int(task["threads"])
    cfg = TrainConfig.from_dict(config)
    out_dir = Path(task["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = hold_run_lock(out_dir)
    try:
        attempts = note_attempt(out_dir, task["run_id"])
        result = train(cfg, out_dir=out_dir).as_dict()
    finally:
        lock.close()
    result["attempts"] = attempts
    result["host"] = socket.gethostname()
    return result
