"""Runs from MLflow: a local ``mlruns`` file store, parsed directly (MLflow 3 refuses to open file
stores without an opt-in, and no mlflow package is needed), or any tracking URI
(``sqlite:///mlflow.db``, ``http://host:5000``) through ``MlflowClient``.

Run constants come from MLflow params (failing that, a metric's last value), series from metric
histories; the rules are those of :mod:`scalinglab.io.tracked`.
"""

from __future__ import annotations

import re
from pathlib import Path

from scalinglab.errors import ScalingLabError
from scalinglab.io.runtable import RunTable
from scalinglab.io.tracked import RawRun, assemble


def read_mlflow(store, *, experiment=None, loss_key=None, params_key="params", tokens_key="tokens",
                flops_key="flops", tokens_series=None, flops_series=None,
                tokens_per_step=None, on_invalid="raise") -> RunTable:
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
    return assemble(raw, f"MLflow store {text}", loss_key=loss_key, params_key=params_key,
                    tokens_key=tokens_key, flops_key=flops_key, tokens_series=tokens_series,
                    flops_series=flops_series, tokens_per_step=tokens_per_step,
                    on_invalid=on_invalid)


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


def _mlflow_file_store(root: Path, experiment) -> list[RawRun]:
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
            raw.append(RawRun(run_id=name, where=str(run_dir), constants=constants, series=series))
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


def _mlflow_client(uri: str, experiment) -> list[RawRun]:
    try:  # mlflow is optional: only a tracking URI (not a local mlruns folder) needs it
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
        raw.append(RawRun(run_id=name, where=f"{uri} run {run.info.run_id}", constants=constants,
                           series=series))
    if not raw:
        raise ScalingLabError(f"{uri}: no finished runs in the MLflow store")
    return raw


# --------------------------------------------------------------------------------------------
