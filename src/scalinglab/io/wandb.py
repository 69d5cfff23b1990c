"""Runs from Weights & Biases, without the ``wandb`` package: a runs-table CSV export (one row per
run; an optional chart export ``Step, <run> - loss`` gives the curves) or offline run directories
(``files/config.yaml``, ``files/wandb-summary.json``, ``wandb-history.jsonl``).

The rules that turn a run into a row are those of :mod:`scalinglab.io.tracked`.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from scalinglab.errors import ScalingLabError
from scalinglab.io.runtable import RunTable
from scalinglab.io.tables import json_lines
from scalinglab.io.tracked import RawRun, assemble, pick_key, tracker_number

#: Columns of a W&B runs-table export that name the run, in order of preference.
WANDB_ID_COLUMNS = ("Name", "name", "ID", "id", "run_id")


def read_wandb_csv(path, *, history=None, loss_key="loss", params_key="params",
                   tokens_key="tokens", flops_key="flops", run_id_column=None,
                   on_invalid="raise") -> RunTable:
    """Read a W&B runs-table CSV export (Runs table → "Export as CSV": one row per run).

    Parameters
    ----------
    path : str or Path
        The runs-table export: ``Name``, ``State``, ... then one column per config key and
        summary metric. Rows whose ``State`` is not ``finished`` are skipped.
    history : str or Path, optional
        A chart export of the loss (``Step``, ``<run name> - <loss_key>``, and the ``__MIN`` /
        ``__MAX`` columns W&B adds, which are ignored): gives the step curves. Without it, each
        run's curve is its single final point.
    loss_key, params_key, tokens_key, flops_key : str
        Column names of the final loss (summary), parameter count, tokens and FLOPs (config);
        ``flops`` may be absent (then 6·N·D).
    run_id_column : str, optional
        Column naming the run; default: the first of :data:`WANDB_ID_COLUMNS` present.
    """
    table = _read_csv(path)
    where = str(path)
    id_col = pick_key(WANDB_ID_COLUMNS, table.columns, run_id_column, "run name column", where)
    for col in (loss_key, params_key, tokens_key):
        if col not in table.columns:
            raise ScalingLabError(f"{where}: no column {col!r}; columns: {', '.join(map(str, table.columns))}")
    if "State" in table.columns:
        table = table[table["State"].astype(str).str.lower() == "finished"]
        if table.empty:
            raise ScalingLabError(f"{where}: no run in state 'finished'")
    curves = _wandb_chart(history, loss_key) if history is not None else {}

    raw = []
    for index, row in table.iterrows():
        run_id = str(row[id_col])
        constants = {k: row[k] for k in (params_key, tokens_key, flops_key, "non_embedding_params")
                     if k in table.columns and not _missing(row[k])}
        if _missing(row[loss_key]):
            raise ScalingLabError(f"{where}: run {run_id!r} (row {index + 2}) has no {loss_key!r}")
        final = tracker_number(row[loss_key], loss_key, f"{where} run {run_id!r}")
        points = curves.pop(run_id, None)
        if points is None:
            step = tracker_number(row["_step"], "_step", where) if "_step" in table.columns and not _missing(row["_step"]) else 0
            points = [(int(step), final)]
        elif abs(points[-1][1] - final) > 1e-6 * abs(final):
            raise ScalingLabError(f"{history}: run {run_id!r} ends at loss {points[-1][1]!r} but the runs "
                                  f"table says {final!r}; are they exports of the same runs?")
        raw.append(RawRun(run_id=run_id, where=f"{where} run {run_id!r}", constants=constants,
                          series={loss_key: points}))
    if curves:
        raise ScalingLabError(f"{history}: runs {', '.join(sorted(curves))} are not in {where}")
    return assemble(raw, f"W&B export {where}", loss_key=loss_key, params_key=params_key,
                    tokens_key=tokens_key, flops_key=flops_key, tokens_series=None,
                    flops_series=None, tokens_per_step=None, on_invalid=on_invalid)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def _read_csv(path):
    import pandas as pd  # pandas stays off the planning path

    path = Path(path)
    if not path.is_file():
        raise ScalingLabError(f"{path}: no such file")
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ScalingLabError(f"{path}: empty CSV file") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ScalingLabError(f"{path}: malformed CSV ({str(exc).splitlines()[0]})") from None
    if table.empty:
        raise ScalingLabError(f"{path}: CSV has a header but no rows")
    return table


def _wandb_chart(path, loss_key) -> dict:
    """A W&B chart CSV export -> {run name: [(step, loss), ...]}."""
    table = _read_csv(path)
    if "Step" not in table.columns:
        raise ScalingLabError(f"{path}: no 'Step' column; not a W&B chart export")
    suffix = f" - {loss_key}"
    out = {}
    for col in table.columns:
        if col.endswith(suffix):
            name = col[: -len(suffix)]
            pts = table[["Step", col]].dropna()
            out[name] = [(int(s), float(v)) for s, v in zip(pts["Step"], pts[col], strict=True)]
    if not out:
        raise ScalingLabError(f"{path}: no '<run> - {loss_key}' columns")
    return out


def read_wandb_offline(path, *, loss_key=None, params_key="params", tokens_key="tokens",
                       flops_key="flops", tokens_series=None, flops_series=None,
                       tokens_per_step=None, on_invalid="raise") -> RunTable:
    """Read W&B run directories from disk, without the ``wandb`` package.

    Parameters
    ----------
    path : str or Path
        A run directory (``offline-run-<date>-<id>`` or ``run-<date>-<id>``) or a directory
        holding several (such as ``./wandb``). Each run needs ``files/config.yaml`` (the run
        constants; the ``{value: ...}`` wrapping W&B writes is unwrapped) and a history
        ``wandb-history.jsonl`` (in ``files/`` or the run directory: one JSON object per logged
        step with ``_step``). ``files/wandb-summary.json``, if present, must agree with the
        history's last loss.
    loss_key, ... tokens_per_step
        As in :func:`read_tensorboard`.
    """
    root = Path(path)
    if not root.is_dir():
        raise ScalingLabError(f"{root}: no such W&B run directory")
    run_dirs = [root] if is_wandb_run(root) else sorted(p for p in root.iterdir() if is_wandb_run(p))
    if not run_dirs:
        raise ScalingLabError(f"{root}: no W&B run directories (with files/config.yaml) found")
    raw = []
    for run_dir in run_dirs:
        constants = _wandb_config(run_dir / "files" / "config.yaml")
        history_path = next((p for p in (run_dir / "files" / "wandb-history.jsonl",
                                         run_dir / "wandb-history.jsonl") if p.is_file()), None)
        if history_path is None:
            raise ScalingLabError(f"{run_dir}: no wandb-history.jsonl (W&B writes the history of "
                                  "newer offline runs only into the binary .wandb file; "
                                  "export it with `wandb sync` or log to CSV)")
        series = _wandb_history(history_path)
        summary_path = run_dir / "files" / "wandb-summary.json"
        if summary_path.is_file():
            summary = _json(summary_path)
            for key, value in summary.items():
                if not key.startswith("_") and isinstance(value, (int, float)):
                    constants.setdefault(key, value)
        match = re.match(r"^(?:offline-)?run-\d{8}_\d{6}-(.+)$", run_dir.name)
        run_id = str(constants.pop("_run_id", None) or (match.group(1) if match else run_dir.name))
        raw.append(RawRun(run_id=run_id, where=str(history_path), constants=constants, series=series))
    return assemble(raw, f"W&B runs {root}", loss_key=loss_key, params_key=params_key,
                    tokens_key=tokens_key, flops_key=flops_key, tokens_series=tokens_series,
                    flops_series=flops_series, tokens_per_step=tokens_per_step,
                    on_invalid=on_invalid)


def is_wandb_run(path: Path) -> bool:
    return path.is_dir() and (path / "files" / "config.yaml").is_file()


def _json(path: Path):
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ScalingLabError(f"{path}: malformed JSON ({exc.msg} at line {exc.lineno})") from None


def _wandb_config(path: Path) -> dict:
    try:  # PyYAML is optional: only W&B offline runs need it
        import yaml
    except ImportError:
        raise ScalingLabError(f"{path}: reading a W&B config.yaml needs PyYAML (pip install pyyaml)") from None
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ScalingLabError(f"{path}: malformed YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ScalingLabError(f"{path}: W&B config is not a mapping")
    out = {}
    for key, value in data.items():
        if key in ("wandb_version", "_wandb"):
            continue
        out[str(key)] = value["value"] if isinstance(value, dict) and "value" in value else value
    return out


def _wandb_history(path: Path) -> dict:
    series: dict = {}
    count = 0
    for number, record in json_lines(path):
        if "_step" not in record:
            raise ScalingLabError(f"{path}:{number}: history record without '_step'")
        count += 1
        for key, value in record.items():
            if not key.startswith("_") and isinstance(value, (int, float)) and not isinstance(value, bool):
                series.setdefault(key, []).append((int(record["_step"]), value))
    if count == 0:
        raise ScalingLabError(f"{path}: empty W&B history file")
    return series


# --------------------------------------------------------------------------------------------
