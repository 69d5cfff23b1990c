"""Read training runs from the experiment trackers where they already live.

Three trackers, one result: every reader returns a :class:`TrackedRuns` whose ``runs`` table has
the run-table schema of :mod:`scalinglab.runs` (``run_id``, ``params``, ``tokens``, ``flops``,
``loss``, one row per run) and whose ``curves`` table holds the step curves (``run_id``, ``step``,
``tokens``, ``flops``, ``loss``), so ``scalinglab fit`` and ``scalinglab report`` accept them as
they accept a CSV.

=====================  =================================================================  ========
tracker                what is read                                                        reader
=====================  =================================================================  ========
TensorBoard            a log directory (one sub-directory per run) or one event file:      :func:`read_tensorboard`
                       scalar series for loss (and tokens/flops if logged), run constants
                       from scalars or the hparams plugin (``SummaryWriter.add_hparams``)
MLflow                 a local ``mlruns`` file store (parsed directly: MLflow 3 refuses    :func:`read_mlflow`
                       to open file stores without an opt-in), or any tracking URI
                       (``sqlite:///mlflow.db``, ``http://host:5000``) through
                       ``MlflowClient``
W&B                    a runs-table CSV export (one row per run; an optional chart CSV     :func:`read_wandb_csv`
                       export ``Step, <run> - loss`` gives the curves), or offline run     :func:`read_wandb_offline`
                       directories (``files/config.yaml``, ``files/wandb-summary.json``,
                       ``wandb-history.jsonl``); no ``wandb`` package needed
=====================  =================================================================  ========

How a run becomes a row (the same for every tracker):

- ``params`` comes from the run's constants (hparams, MLflow params, W&B config) under
  ``params_key``; ``non_embedding_params`` likewise if present.
- ``loss`` is the **last** logged value of the loss metric (the value at the largest step): the
  final loss that Chinchilla-style fits use.
- ``tokens`` is the run's constant ``tokens_key`` if present, else the tokens series at the last
  step. Curve tokens come from a logged tokens series; failing that from ``tokens_per_step`` ×
  step; failing that from the run's total tokens × step / last step (a constant batch size).
- ``flops`` is the run's constant ``flops_key``, else the logged flops series, else 6·N·D (the
  Kaplan §2.1 convention that :mod:`scalinglab.runs` uses for a table without FLOPs).

Every mistake — an empty or malformed event file, a store with no runs, a CSV without the loss
column — raises :class:`~scalinglab.errors.ScalingLabError` naming the file.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalinglab.errors import ScalingLabError

#: Loss metric names tried in order when ``loss_key`` is not given.
LOSS_KEYS = ("loss", "train/loss", "train_loss", "val/loss", "val_loss", "eval/loss", "eval_loss")
#: Tokens-seen series names tried in order when ``tokens_series`` is not given.
TOKENS_SERIES_KEYS = ("tokens", "train/tokens", "tokens_seen")
#: FLOPs series names tried in order when ``flops_series`` is not given.
FLOPS_SERIES_KEYS = ("flops", "train/flops", "flops_seen")

#: k in C = k·N·D when a run logs no FLOPs (Kaplan et al. 2020 §2.1: 6 FLOPs per parameter-token).
FLOPS_PER_PARAM_TOKEN = 6.0

RUN_COLUMNS = ("run_id", "params", "tokens", "flops", "loss")
CURVE_COLUMNS = ("run_id", "step", "tokens", "flops", "loss")


@dataclass
class TrackedRuns:
    """Runs read from a tracker.

    Attributes
    ----------
    runs : pandas.DataFrame
        One row per run: ``run_id``, ``params``, ``tokens``, ``flops`` (FLOPs), ``loss``
        (nats/token, final), ``step`` (last step) and ``non_embedding_params`` where known.
    curves : pandas.DataFrame
        One row per logged step: ``run_id``, ``step``, ``tokens``, ``flops``, ``loss``.
    source : str
        What was read (path or URI) and by which reader.
    """

    runs: Any
    curves: Any
    source: str

    def __len__(self) -> int:
        return len(self.runs)

    def as_table(self):
        """The curves as one runs table in the long form of :mod:`scalinglab.runs` (several rows
        per ``run_id``, one per logged ``step``; ``params`` repeated on each row), validated.

        This is what ``read_runs`` returns for a CSV of loss curves, so code that reads runs files
        (``scalinglab fit``) can take a tracker's runs unchanged; its last row per run is the run.
        """
        from scalinglab.runs import validate_runs

        extra = [c for c in ("non_embedding_params",) if c in self.runs.columns]
        table = self.curves.merge(self.runs[["run_id", "params", *extra]], on="run_id", how="left")
        table["step"] = table["step"].astype(float)
        # An evaluation before the first optimizer step has seen no tokens: not a point of a law.
        table = table[(table["tokens"] > 0) & (table["flops"] > 0)].reset_index(drop=True)
        table = table[["params", "tokens", "flops", "loss", "run_id", *extra, "step"]]
        table.attrs["source"] = self.source
        return validate_runs(table)


# --------------------------------------------------------------------------------------------
# The shared step: a run's constants and series -> one run row and its curve rows
# --------------------------------------------------------------------------------------------
@dataclass
class _RawRun:
    run_id: str
    where: str  # file or URI named in error messages
    constants: dict  # name -> value (numbers or strings)
    series: dict  # name -> list of (step, value)


def _number(value, name: str, where: str) -> float:
    """A finite float from a tracker value (MLflow params are strings, W&B may nest them)."""
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    try:
        out = float(str(value).strip().replace("_", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ScalingLabError(f"{where}: {name} = {value!r} is not a number") from None
    if not math.isfinite(out):
        raise ScalingLabError(f"{where}: {name} = {value!r} is not finite")
    return out


def _pick(keys, available, wanted: str | None, what: str, where: str, required: bool = True):
    """The first of ``keys`` present in ``available`` (or exactly ``wanted`` if given)."""
    if wanted is not None:
        if wanted in available:
            return wanted
        if required:
            raise ScalingLabError(
                f"{where}: no {what} named {wanted!r}; available: {', '.join(sorted(available)) or 'none'}")
        return None
    for key in keys:
        if key in available:
            return key
    if required:
        raise ScalingLabError(
            f"{where}: no {what} (tried {', '.join(keys)}); available: "
            f"{', '.join(sorted(available)) or 'none'}; name it with the {what} option")
    return None


def _assemble(raw: list[_RawRun], source: str, *, loss_key, params_key, tokens_key, flops_key,
              tokens_series, flops_series, tokens_per_step) -> TrackedRuns:
    """Turn raw runs into the run table and the curve table (the rules in the module docstring)."""
    import numpy as np
    import pandas as pd

    if not raw:
        raise ScalingLabError(f"{source}: no runs found")
    rows, curve_frames = [], []
    for run in raw:
        where = run.where
        key = _pick(LOSS_KEYS, run.series, loss_key, "loss metric", where)
        points = sorted(run.series[key])
        steps = np.array([p[0] for p in points], dtype=float)
        loss = np.array([_number(p[1], key, where) for p in points])
        if len(loss) == 0:
            raise ScalingLabError(f"{where}: loss metric {key!r} has no values")
        if np.any(loss <= 0):
            raise ScalingLabError(f"{where}: loss metric {key!r} has a non-positive value {loss.min()!r}")

        if params_key not in run.constants:
            raise ScalingLabError(
                f"{where}: no run constant {params_key!r} (parameter count); available: "
                f"{', '.join(sorted(run.constants)) or 'none'}")
        params = _number(run.constants[params_key], params_key, where)

        t_key = _pick(TOKENS_SERIES_KEYS, run.series, tokens_series, "tokens series", where,
                      required=tokens_series is not None)
        curve_tokens = None
        if t_key is not None:
            curve_tokens = _aligned(run.series[t_key], steps, t_key, where)
        elif tokens_per_step is not None:
            curve_tokens = steps * float(tokens_per_step)

        if tokens_key in run.constants:
            tokens = _number(run.constants[tokens_key], tokens_key, where)
            if curve_tokens is None and len(steps) == 1:
                curve_tokens = np.array([tokens])  # only the final point is known
            elif curve_tokens is None:
                if steps[-1] <= 0:
                    raise ScalingLabError(f"{where}: cannot spread {tokens_key} over steps ending at {steps[-1]:g}")
                curve_tokens = tokens * steps / steps[-1]  # constant batch size assumed
        elif curve_tokens is not None:
            tokens = float(curve_tokens[-1])
        else:
            raise ScalingLabError(
                f"{where}: no token count: log a tokens series, a run constant {tokens_key!r}, "
                "or give tokens_per_step")

        f_key = _pick(FLOPS_SERIES_KEYS, run.series, flops_series, "flops series", where,
                      required=flops_series is not None)
        if f_key is not None:
            curve_flops = _aligned(run.series[f_key], steps, f_key, where)
        else:
            curve_flops = FLOPS_PER_PARAM_TOKEN * params * curve_tokens
        if flops_key in run.constants:
            flops = _number(run.constants[flops_key], flops_key, where)
        elif f_key is not None:
            flops = float(curve_flops[-1])
        else:
            flops = FLOPS_PER_PARAM_TOKEN * params * tokens

        row = {"run_id": run.run_id, "params": params, "tokens": tokens, "flops": flops,
               "loss": float(loss[-1]), "step": float(steps[-1])}
        if "non_embedding_params" in run.constants:
            row["non_embedding_params"] = _number(run.constants["non_embedding_params"],
                                                  "non_embedding_params", where)
        for name, value in (("params", params), ("tokens", tokens), ("flops", flops)):
            if value <= 0:
                raise ScalingLabError(f"{where}: {name} must be positive, got {value!r}")
        rows.append(row)
        curve_frames.append(pd.DataFrame({
            "run_id": run.run_id, "step": steps.astype(np.int64), "tokens": curve_tokens,
            "flops": curve_flops, "loss": loss}))

    runs = pd.DataFrame(rows)
    if runs["run_id"].duplicated().any():
        dup = runs.loc[runs["run_id"].duplicated(), "run_id"].iloc[0]
        raise ScalingLabError(f"{source}: run id {dup!r} appears twice")
    curves = pd.concat(curve_frames, ignore_index=True)
    from scalinglab.runs import validate_runs  # the same checks as a runs file gets

    runs = runs.reset_index(drop=True)
    runs.attrs["source"] = source
    return TrackedRuns(runs=validate_runs(runs), curves=curves, source=source)


def _aligned(points, steps, key, where):
    """The values of series ``points`` at ``steps`` (exact step match; the series must cover them)."""
    import numpy as np

    table = {int(s): _number(v, key, where) for s, v in points}
    missing = [int(s) for s in steps if int(s) not in table]
    if missing:
        raise ScalingLabError(f"{where}: series {key!r} has no value at step {missing[0]} where loss is logged")
    return np.array([table[int(s)] for s in steps])


# --------------------------------------------------------------------------------------------
# TensorBoard
# --------------------------------------------------------------------------------------------
_EVENT_GLOB = "events.out.tfevents*"


def read_tensorboard(path, *, loss_key=None, params_key="params", tokens_key="tokens",
                     flops_key="flops", tokens_series=None, flops_series=None,
                     tokens_per_step=None) -> TrackedRuns:
    """Read runs from TensorBoard event files.

    Parameters
    ----------
    path : str or Path
        A log directory (every directory holding event files is one run, named by its path
        relative to ``path``) or a single event file.
    loss_key : str, optional
        Scalar tag of the loss (nats/token); default: the first of :data:`LOSS_KEYS` logged.
    params_key, tokens_key, flops_key : str
        Run constants: parameter count, total training tokens, training FLOPs. Read from the
        hparams plugin (``SummaryWriter.add_hparams``, which writes into a sub-directory of the
        run; that sub-directory is merged into the run) or, failing that, from a scalar of that
        name (its last value).
    tokens_series, flops_series : str, optional
        Scalar tags with tokens/FLOPs seen at each step; default: the first of
        :data:`TOKENS_SERIES_KEYS` / :data:`FLOPS_SERIES_KEYS` logged, if any.
    tokens_per_step : float, optional
        Tokens per optimizer step, when no tokens series is logged.

    Notes
    -----
    TensorBoard stores scalars as float32, so values come back rounded to ~7 significant digits.
    """
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.backend.event_processing import event_file_loader

    root = Path(path)
    if not root.exists():
        raise ScalingLabError(f"{root}: no such TensorBoard log directory or event file")
    files = [root] if root.is_file() else sorted(root.rglob(_EVENT_GLOB))
    if not files:
        raise ScalingLabError(f"{root}: no TensorBoard event files ({_EVENT_GLOB}) found")
    for file in files:  # the accumulator skips unreadable files silently; we do not
        if file.stat().st_size == 0:
            raise ScalingLabError(f"{file}: empty TensorBoard event file")
        if next(iter(event_file_loader.EventFileLoader(str(file)).Load()), None) is None:
            raise ScalingLabError(f"{file}: malformed TensorBoard event file (no readable event)")

    dirs = sorted({f.parent for f in files})
    parsed = {}
    for directory in dirs:
        target = str(root) if root.is_file() else str(directory)
        acc = ea.EventAccumulator(target, size_guidance={ea.SCALARS: 0, ea.TENSORS: 0})
        acc.Reload()
        series = {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
        parsed[directory] = (series, _tb_hparams(acc))

    raw, orphans = {}, {}
    for directory, (series, hparams) in parsed.items():
        has_loss = _pick(LOSS_KEYS, series, loss_key, "loss", str(directory), required=False)
        if has_loss:
            raw[directory] = (series, dict(hparams))
        else:
            orphans[directory] = (series, hparams)
    for directory, (_series, hparams) in orphans.items():
        parent = next((p for p in directory.parents if p in raw), None)
        if parent is None:
            if not hparams:
                # A directory of other scalars (e.g. a profiler): ignored only if runs exist.
                continue
            raise ScalingLabError(f"{directory}: hyper-parameters logged but no loss scalar "
                                  f"({loss_key or ', '.join(LOSS_KEYS)}) in this or a parent run")
        raw[parent][1].update(hparams)  # add_hparams writes a timestamped child directory
    if not raw:
        tags = sorted({t for s, _ in parsed.values() for t in s})
        raise ScalingLabError(f"{root}: no loss scalar ({loss_key or ', '.join(LOSS_KEYS)}) in "
                              f"any event file; scalars found: {', '.join(tags) or 'none'}")

    runs = []
    for directory, (series, constants) in sorted(raw.items()):
        # Constants logged as scalars (add_scalar("params", N)) count when hparams lack them.
        for key in (params_key, tokens_key, flops_key, "non_embedding_params"):
            if key not in constants and key in series and series[key]:
                constants[key] = sorted(series[key])[-1][1]
        run_id = root.name if root.is_file() else (directory.relative_to(root).as_posix()
                                                   if directory != root else root.name)
        where = str(files[0] if root.is_file() else directory)
        runs.append(_RawRun(run_id=run_id, where=where, constants=constants, series=series))
    return _assemble(runs, f"TensorBoard logs {root}", loss_key=loss_key, params_key=params_key,
                     tokens_key=tokens_key, flops_key=flops_key, tokens_series=tokens_series,
                     flops_series=flops_series, tokens_per_step=tokens_per_step)


def _tb_hparams(acc) -> dict:
    """Hyper-parameters of the hparams plugin's ``session_start_info``, if any."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    try:
        content = acc.PluginTagToContent("hparams")
    except KeyError:
        return {}
    out = {}
    for blob in content.values():
        data = plugin_data_pb2.HParamsPluginData.FromString(blob)
        if data.WhichOneof("data") != "session_start_info":
            continue
        for key, value in data.session_start_info.hparams.items():
            kind = value.WhichOneof("kind")
            out[key] = getattr(value, kind) if kind else None
    return out


# --------------------------------------------------------------------------------------------
# MLflow
# --------------------------------------------------------------------------------------------
def read_mlflow(store, *, experiment=None, loss_key=None, params_key="params", tokens_key="tokens",
                flops_key="flops", tokens_series=None, flops_series=None,
                tokens_per_step=None) -> TrackedRuns:
    """Read runs from MLflow.

    Parameters
    ----------
    store : str or Path
        A local ``mlruns`` directory or ``file://`` URI (the file store, parsed directly), or a
        tracking URI that ``mlflow.tracking.MlflowClient`` opens (``sqlite:///mlflow.db``,
        ``http://host:5000``).
    experiment : str, optional
        Experiment name or id; default: every active experiment.
    loss_key, params_key, tokens_key, flops_key, tokens_series, flops_series, tokens_per_step
        As in :func:`read_tensorboard`; run constants come from MLflow params (and, failing that,
        from a metric's last value), series from metric histories.

    Only finished runs in the ``active`` lifecycle stage are read; a failed or running run's last
    loss is not a final loss.
    """
    text = str(store)
    local = None
    if text.startswith("file:"):
        from urllib.parse import unquote, urlparse

        local = Path(unquote(urlparse(text).path))
    elif "://" not in text and not re.match(r"^[a-z][a-z0-9+.-]*:", text):
        local = Path(text)
    raw = _mlflow_file_store(local, experiment) if local is not None else _mlflow_client(text, experiment)
    return _assemble(raw, f"MLflow store {text}", loss_key=loss_key, params_key=params_key,
                     tokens_key=tokens_key, flops_key=flops_key, tokens_series=tokens_series,
                     flops_series=flops_series, tokens_per_step=tokens_per_step)


_MLFLOW_FINISHED = 3  # RunStatus.FINISHED in mlflow/protos/service.proto


def _simple_yaml(path: Path) -> dict:
    """Read an MLflow ``meta.yaml`` (flat ``key: value`` YAML) without a YAML dependency."""
    out = {}
    try:
        text = path.read_text()
    except OSError as exc:
        raise ScalingLabError(f"{path}: cannot read ({exc.strerror})") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith((" ", "-", "#")):
            continue
        if ":" not in line:
            raise ScalingLabError(f"{path}:{number}: malformed MLflow meta.yaml line {line!r}")
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip().strip("'\"")
    return out


def _mlflow_file_store(root: Path, experiment) -> list[_RawRun]:
    if not root.is_dir():
        raise ScalingLabError(f"{root}: no such MLflow store directory")
    experiments = [p.parent for p in sorted(root.glob("*/meta.yaml")) if p.parent.name != ".trash"]
    if not experiments:
        raise ScalingLabError(f"{root}: not an MLflow file store (no <experiment>/meta.yaml)")
    chosen = []
    for exp_dir in experiments:
        meta = _simple_yaml(exp_dir / "meta.yaml")
        if meta.get("lifecycle_stage", "active") != "active":
            continue
        if experiment is None or str(experiment) in (meta.get("name"), meta.get("experiment_id"), exp_dir.name):
            chosen.append(exp_dir)
    if not chosen:
        raise ScalingLabError(f"{root}: no active MLflow experiment {experiment!r}")

    raw = []
    for exp_dir in chosen:
        for meta_path in sorted(exp_dir.glob("*/meta.yaml")):
            run_dir = meta_path.parent
            meta = _simple_yaml(meta_path)
            if meta.get("lifecycle_stage", "active") != "active":
                continue
            if meta.get("status") and meta["status"] != str(_MLFLOW_FINISHED):
                continue
            constants = {}
            for p in sorted((run_dir / "params").glob("*")) if (run_dir / "params").is_dir() else []:
                constants[p.name] = p.read_text().strip()
            series = {}
            metrics_dir = run_dir / "metrics"
            for m in sorted(metrics_dir.rglob("*")) if metrics_dir.is_dir() else []:
                if m.is_file():
                    series[m.relative_to(metrics_dir).as_posix()] = _mlflow_metric_file(m)
            for key, points in series.items():
                constants.setdefault(key, sorted(points)[-1][1] if points else None)
            name = meta.get("run_name") or run_dir.name
            raw.append(_RawRun(run_id=name, where=str(run_dir), constants=constants, series=series))
    if not raw:
        raise ScalingLabError(f"{root}: no finished runs in the MLflow store")
    return raw


def _mlflow_metric_file(path: Path) -> list:
    """A file-store metric history: lines ``timestamp value step``."""
    points = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            value, step = float(parts[1]), int(parts[2]) if len(parts) > 2 else 0
        except (IndexError, ValueError):
            raise ScalingLabError(f"{path}:{number}: malformed MLflow metric line {line!r}") from None
        points.append((step, value))
    if not points:
        raise ScalingLabError(f"{path}: empty MLflow metric file")
    return points


def _mlflow_client(uri: str, experiment) -> list[_RawRun]:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ScalingLabError(f"{uri}: reading an MLflow tracking URI needs the mlflow package "
                              "(pip install mlflow); a local mlruns directory does not") from None
    from mlflow.entities import ViewType

    try:
        client = MlflowClient(tracking_uri=uri)
        experiments = client.search_experiments(view_type=ViewType.ACTIVE_ONLY)
    except Exception as exc:  # mlflow raises many types for a bad URI; the user needs one line
        raise ScalingLabError(f"{uri}: cannot open MLflow tracking store ({str(exc).splitlines()[0]})") from None
    if experiment is not None:
        experiments = [e for e in experiments if str(experiment) in (e.name, e.experiment_id)]
    if not experiments:
        raise ScalingLabError(f"{uri}: no active MLflow experiment {experiment or ''}".rstrip())
    raw = []
    runs = client.search_runs([e.experiment_id for e in experiments],
                              filter_string="attributes.status = 'FINISHED'",
                              run_view_type=ViewType.ACTIVE_ONLY, max_results=50_000)
    for run in runs:
        constants = dict(run.data.params)
        for key, value in run.data.metrics.items():
            constants.setdefault(key, value)
        series = {key: [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, key)]
                  for key in run.data.metrics}
        name = run.info.run_name or run.info.run_id
        raw.append(_RawRun(run_id=name, where=f"{uri} run {run.info.run_id}", constants=constants,
                           series=series))
    if not raw:
        raise ScalingLabError(f"{uri}: no finished runs in the MLflow store")
    return raw


# --------------------------------------------------------------------------------------------
# Weights & Biases
# --------------------------------------------------------------------------------------------
#: Columns of a W&B runs-table export that name the run, in order of preference.
WANDB_ID_COLUMNS = ("Name", "name", "ID", "id", "run_id")


def read_wandb_csv(path, *, history=None, loss_key="loss", params_key="params",
                   tokens_key="tokens", flops_key="flops", run_id_column=None) -> TrackedRuns:
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
    id_col = _pick(WANDB_ID_COLUMNS, table.columns, run_id_column, "run name column", where)
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
        final = _number(row[loss_key], loss_key, f"{where} run {run_id!r}")
        points = curves.pop(run_id, None)
        if points is None:
            step = _number(row["_step"], "_step", where) if "_step" in table.columns and not _missing(row["_step"]) else 0
            points = [(int(step), final)]
        elif abs(points[-1][1] - final) > 1e-6 * abs(final):
            raise ScalingLabError(f"{history}: run {run_id!r} ends at loss {points[-1][1]!r} but the runs "
                                  f"table says {final!r}; are they exports of the same runs?")
        raw.append(_RawRun(run_id=run_id, where=f"{where} run {run_id!r}", constants=constants,
                           series={loss_key: points}))
    if curves:
        raise ScalingLabError(f"{history}: runs {', '.join(sorted(curves))} are not in {where}")
    return _assemble(raw, f"W&B export {where}", loss_key=loss_key, params_key=params_key,
                     tokens_key=tokens_key, flops_key=flops_key, tokens_series=None,
                     flops_series=None, tokens_per_step=None)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def _read_csv(path):
    import pandas as pd

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
                       tokens_per_step=None) -> TrackedRuns:
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
    run_dirs = [root] if _is_wandb_run(root) else sorted(p for p in root.iterdir() if _is_wandb_run(p))
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
        raw.append(_RawRun(run_id=run_id, where=str(history_path), constants=constants, series=series))
    return _assemble(raw, f"W&B runs {root}", loss_key=loss_key, params_key=params_key,
                     tokens_key=tokens_key, flops_key=flops_key, tokens_series=tokens_series,
                     flops_series=flops_series, tokens_per_step=tokens_per_step)


def _is_wandb_run(path: Path) -> bool:
    return path.is_dir() and (path / "files" / "config.yaml").is_file()


def _json(path: Path):
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ScalingLabError(f"{path}: malformed JSON ({exc.msg} at line {exc.lineno})") from None


def _wandb_config(path: Path) -> dict:
    try:
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
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ScalingLabError(f"{path}:{number}: malformed JSON line ({exc.msg})") from None
        if not isinstance(record, dict) or "_step" not in record:
            raise ScalingLabError(f"{path}:{number}: history record without '_step'")
        count += 1
        for key, value in record.items():
            if not key.startswith("_") and isinstance(value, (int, float)) and not isinstance(value, bool):
                series.setdefault(key, []).append((int(record["_step"]), value))
    if count == 0:
        raise ScalingLabError(f"{path}: empty W&B history file")
    return series


# --------------------------------------------------------------------------------------------
# One entry point
# --------------------------------------------------------------------------------------------
def detect_tracker(path) -> str | None:
    """Which tracker wrote ``path``: ``"tensorboard"``, ``"mlflow"``, ``"wandb-offline"``,
    ``"wandb-csv"`` or ``None`` (not a tracker layout: a plain runs file or a sweep directory)."""
    text = str(path)
    if re.match(r"^(sqlite|https?|databricks|postgresql|mysql|mssql|file):", text):
        return "mlflow"
    p = Path(text)
    if p.is_file():
        if p.name.startswith("events.out.tfevents"):
            return "tensorboard"
        if p.suffix.lower() == ".csv":
            import pandas as pd

            try:
                header = pd.read_csv(p, nrows=0).columns
            except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError):
                return None
            return "wandb-csv" if {"Name", "State"} <= set(header) else None
        return None
    if p.is_dir():
        if any(p.glob("*/meta.yaml")) and any(p.glob("*/*/meta.yaml")):
            return "mlflow"
        if _is_wandb_run(p) or any(_is_wandb_run(c) for c in p.iterdir()):
            return "wandb-offline"
        if next(p.rglob(_EVENT_GLOB), None) is not None:
            return "tensorboard"
    return None


READERS = {
    "tensorboard": read_tensorboard,
    "mlflow": read_mlflow,
    "wandb-csv": read_wandb_csv,
    "wandb-offline": read_wandb_offline,
}


def read_tracker(path, kind: str | None = None, **options) -> TrackedRuns:
    """Read runs with the reader for ``kind`` (default: :func:`detect_tracker`)."""
    kind = kind or detect_tracker(path)
    if kind is None:
        raise ScalingLabError(f"{path}: not a TensorBoard log dir, MLflow store or W&B export")
    if kind not in READERS:
        raise ScalingLabError(f"unknown tracker {kind!r}; known: {', '.join(READERS)}")
    return READERS[kind](path, **options)
