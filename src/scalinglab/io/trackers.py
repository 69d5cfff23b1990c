"""Read training runs from the experiment trackers where they already live.

=====================  =================================================================  ========
tracker                what is read                                                        reader
=====================  =================================================================  ========
TensorBoard            a log directory (one sub-directory per run) or one event file       :func:`~scalinglab.io.tensorboard.read_tensorboard`
MLflow                 a local ``mlruns`` file store, or any tracking URI                  :func:`~scalinglab.io.mlflow.read_mlflow`
W&B                    a runs-table CSV export (plus an optional chart export), or         :func:`~scalinglab.io.wandb.read_wandb_csv`,
                       offline run directories; no ``wandb`` package needed                :func:`~scalinglab.io.wandb.read_wandb_offline`
=====================  =================================================================  ========

Every reader returns a :class:`~scalinglab.io.RunTable` (one row per run, and the step curves) by
the rules of :mod:`scalinglab.io.tracked`. Every mistake (an empty or malformed event file, a
store with no runs, a CSV without the loss column) raises a ScalingLabError naming the file.
The trackers' own packages are imported only when their store is read.
"""

from __future__ import annotations

import re
from pathlib import Path

from scalinglab.errors import ScalingLabError
from scalinglab.io.mlflow import read_mlflow
from scalinglab.io.runtable import RunTable
from scalinglab.io.tensorboard import EVENT_GLOB, read_tensorboard
from scalinglab.io.wandb import is_wandb_run, read_wandb_csv, read_wandb_offline

#: Tracking URIs (MLflow's schemes): read as an MLflow store.
TRACKING_URI = re.compile(r"^(sqlite|https?|databricks|postgresql|mysql|mssql|file):")


def detect_tracker(path) -> str | None:
    """Which tracker wrote ``path``: ``"tensorboard"``, ``"mlflow"``, ``"wandb-offline"``,
    ``"wandb-csv"`` or ``None`` (not a tracker layout: a plain runs file or a sweep directory)."""
    text = str(path)
    if TRACKING_URI.match(text):
        return "mlflow"
    p = Path(text)
    if p.is_file():
        if p.name.startswith("events.out.tfevents"):
            return "tensorboard"
        if p.suffix.lower() == ".csv":
            import pandas as pd  # pandas stays off the planning path

            try:
                header = pd.read_csv(p, nrows=0).columns
            except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError):
                return None
            return "wandb-csv" if {"Name", "State"} <= set(header) else None
        return None
    if p.is_dir():
        if any(p.glob("*/meta.yaml")) and any(p.glob("*/*/meta.yaml")):
            return "mlflow"
        if is_wandb_run(p) or any(is_wandb_run(c) for c in p.iterdir()):
            return "wandb-offline"
        if next(p.rglob(EVENT_GLOB), None) is not None:
            return "tensorboard"
    return None


READERS = {
    "tensorboard": read_tensorboard,
    "mlflow": read_mlflow,
    "wandb-csv": read_wandb_csv,
    "wandb-offline": read_wandb_offline,
}


def read_tracker(path, kind: str | None = None, **options) -> RunTable:
    """Read runs with the reader for ``kind`` (default: :func:`detect_tracker`)."""
    kind = kind or detect_tracker(path)
    if kind is None:
        raise ScalingLabError(f"{path}: not a TensorBoard log dir, MLflow store or W&B export")
    if kind not in READERS:
        raise ScalingLabError(f"unknown tracker {kind!r}; known: {', '.join(READERS)}")
    return READERS[kind](path, **options)
