"""Reading runs: one :func:`read_runs` for every source, one :class:`RunTable` as its result.

Sources: tables (CSV/TSV, Parquet, JSON Lines, JSON; :mod:`~scalinglab.io.tables`), DataFrames,
sweep folders (:mod:`~scalinglab.io.sweep_folder`, the read side of the sweep's run store),
TensorBoard (:mod:`~scalinglab.io.tensorboard`), MLflow (:mod:`~scalinglab.io.mlflow`) and W&B
(:mod:`~scalinglab.io.wandb`); column recognition and row checks are :mod:`~scalinglab.io.columns`.

This package imports only :mod:`scalinglab.core` and :mod:`scalinglab.errors`; pandas, pyarrow
and the trackers' own packages load when something is read.
"""

from scalinglab.io.columns import drop_highest_loss, validate_runs
from scalinglab.io.mlflow import read_mlflow
from scalinglab.io.reader import read_runs
from scalinglab.io.runtable import CURVE_COLUMNS, OPTIONAL, REQUIRED, RunTable
from scalinglab.io.tensorboard import read_tensorboard
from scalinglab.io.trackers import detect_tracker, read_tracker
from scalinglab.io.wandb import read_wandb_csv, read_wandb_offline

__all__ = [
    "CURVE_COLUMNS", "OPTIONAL", "REQUIRED", "RunTable", "detect_tracker", "drop_highest_loss",
    "read_mlflow", "read_runs", "read_tensorboard", "read_tracker", "read_wandb_csv",
    "read_wandb_offline", "validate_runs",
]
