"""The read side of a sweep folder (the run store of :mod:`scalinglab.sweep.store`).

The file names, the sealed-file format and the tables live here so that reading a sweep needs
nothing from the sweep package (which writes the folder and imports these names from here)::

    DIR/sweep.json                  the design, sealed (format scalinglab.sweep/1)
    DIR/records/<run_id>-<attempt>.json
                                    one finished run, sealed (format scalinglab.run/1)
    DIR/failures/<run_id>.json      the last error of a failed run, sealed
    DIR/runs.parquet                the run table, one row per finished run (rebuilt from records)
    DIR/curves.parquet              every eval point: run_id, step, tokens, flops, loss

A sealed file is ``{"format": kind, "sha256": ..., "payload": ...}``; the SHA-256 is taken over the
payload's canonical JSON (sorted keys, no whitespace), so a truncated or edited file is detected
instead of read.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from scalinglab.core.units import FLOP_PER_PARAM_TOKEN
from scalinglab.errors import ScalingLabError
from scalinglab.io.runtable import RunTable
from scalinglab.io.tables import canonical_frame

RECORD_FORMAT = "scalinglab.run/1"
DESIGN_FORMAT = "scalinglab.sweep/1"

DESIGN_FILE = "sweep.json"
RECORDS_DIR = "records"
FAILURES_DIR = "failures"
RUNS_DIR = "runs"
RUNS_TABLE = "runs.parquet"
CURVES_TABLE = "curves.parquet"
LOCK_FILE = ".lock"


class CorruptFileError(ScalingLabError):
    """A store file that is truncated, not JSON, or whose content does not match its seal."""


def canonical_json(obj) -> str:
    """JSON with sorted keys and no whitespace: the bytes that IDs and seals are computed over."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def unseal(path: Path, kind: str) -> dict:
    """Read a sealed file (see the module docstring), or raise :class:`CorruptFileError`."""
    path = Path(path)
    try:
        envelope = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptFileError(f"{path}: not a complete JSON file ({exc.__class__.__name__}); "
                               "it was probably cut short by a crash") from exc
    if not isinstance(envelope, dict) or envelope.get("format") != kind:
        raise CorruptFileError(f"{path}: not a {kind} file")
    payload = envelope.get("payload")
    digest = hashlib.sha256(canonical_json(payload).encode()).hexdigest()
    if digest != envelope.get("sha256"):
        raise CorruptFileError(f"{path}: content does not match its SHA-256 seal")
    return payload


def read_parquet(path: Path):
    """A store table as a DataFrame; a missing or damaged file is one clear error."""
    import pyarrow as pa  # pyarrow stays off the planning path
    import pyarrow.parquet as pq

    if not Path(path).exists():
        raise ScalingLabError(f"{path}: no such run table (has the sweep finished any run?)")
    try:
        return pq.read_table(path).to_pandas()
    except (pa.ArrowInvalid, OSError) as exc:
        raise CorruptFileError(
            f"{path}: damaged Parquet file ({exc}); rebuild it from the records with "
            "`scalinglab sweep status DIR --rebuild`"
        ) from exc


def is_sweep_folder(path) -> bool:
    """Whether ``path`` is a sweep folder (it holds a design or a run table)."""
    p = Path(path)
    return p.is_dir() and ((p / DESIGN_FILE).exists() or (p / RUNS_TABLE).is_file())


def read_design(folder) -> dict | None:
    """The sealed design in ``sweep.json``, or None when the folder has none yet."""
    path = Path(folder) / DESIGN_FILE
    if not path.exists():
        return None
    return unseal(path, DESIGN_FORMAT)


def read_sweep(folder, *, curves=None, on_invalid: str = "raise",
               flops_per_param_token: float = FLOP_PER_PARAM_TOKEN, **columns) -> RunTable:
    """The finished runs of a sweep folder and their learning curves.

    ``runs`` is ``runs.parquet`` in the canonical schema with its other columns (``budget``,
    ``group``, ``cfg_*``, ``flops_<convention>``...) kept; a run whose loss is not finite
    (training diverged: the store writes it as missing) is left out and noted. ``curves`` is
    ``curves.parquet`` (FLOPs under the design's convention, as the sweep budgets) with each run's
    ``params`` joined on; its step-0 evaluations (no tokens seen) are skipped and noted. With
    ``curves=True`` a sweep without curves is an error, with ``curves=False`` they are not read.
    """
    folder = Path(folder)
    options = dict(on_invalid=on_invalid, flops_per_param_token=flops_per_param_token, **columns)
    table_path = folder / RUNS_TABLE
    if not table_path.is_file():
        raise ScalingLabError(f"{folder}: the sweep has no {RUNS_TABLE} yet (no run has finished)")
    raw = read_parquet(table_path)
    notes: list[str] = []
    if "loss" in raw.columns and raw["loss"].isna().any():
        gone = raw.loc[raw["loss"].isna(), "run_id"] if "run_id" in raw.columns else raw.index[raw["loss"].isna()]
        notes += [f"{table_path}: run {rid}: no finite loss (training diverged): left out" for rid in gone]
        lines = np.flatnonzero(raw["loss"].notna().to_numpy()) + 1
        raw = raw[raw["loss"].notna()].reset_index(drop=True)
    else:
        lines = np.arange(1, len(raw) + 1)
    if raw.empty:
        raise ScalingLabError(f"{folder}: the sweep has no finished run with a loss yet")
    runs = canonical_frame(raw, lines, source=str(table_path), line_kind="row", **options)
    notes += runs.attrs.get("dropped", [])

    curve_table = None
    curves_path = folder / CURVES_TABLE
    if curves is not False:
        if curves_path.is_file():
            curve_table = _sweep_curves(folder, runs, options)
        if curve_table is not None:
            notes += curve_table.attrs.get("dropped", [])
        elif curves:
            raise ScalingLabError(f"{folder}: the sweep has no {CURVES_TABLE} with a learning curve yet "
                                  "(no run has finished)")
    return RunTable(runs=runs, curves=curve_table, source=str(table_path), notes=tuple(notes),
                    design=read_design(folder))


def _sweep_curves(folder: Path, runs, options: dict):
    """``curves.parquet`` with each run's ``params`` (and ``non_embedding_params``) joined on,
    validated like a runs table; None when it holds no point yet."""
    path = folder / CURVES_TABLE
    table = read_parquet(path)
    if len(table) == 0:
        return None
    keep = [c for c in ("run_id", "params", "non_embedding_params") if c in runs.columns]
    if "run_id" not in keep:
        raise ScalingLabError(f"{folder / RUNS_TABLE}: no run_id column to join the curves on")
    # one row per run in runs.parquet; drop_duplicates guards the join against a hand-edited table
    joined = table.merge(runs[keep].drop_duplicates("run_id"), on="run_id", how="inner")
    if len(joined) == 0:
        return None
    cols = [c for c in ("run_id", "step", "params", "non_embedding_params", "tokens", "flops", "loss")
            if c in joined.columns]
    options = {k: v for k, v in options.items() if k in ("on_invalid", "flops_per_param_token")}
    return canonical_frame(joined[cols], np.arange(1, len(joined) + 1), source=str(path),
                           line_kind="row", **options)
