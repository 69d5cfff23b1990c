"""Read tables of training runs (CSV, Parquet, JSONL, JSON) into one canonical pandas DataFrame.

Schema of a runs table — every reader in scalinglab (this module, ``trackers.py`` for
TensorBoard/MLflow/W&B, the sweep store) returns a DataFrame with these columns:

============================  =====  =============================================================
column                        req.   meaning (units)
============================  =====  =============================================================
``params``                    yes    total model parameters N (count)
``tokens``                    yes    training tokens D seen by the run (count); derived as
                                     C / (6·N) when only FLOPs are given
``flops``                     yes    training compute C (FLOPs); derived as 6·N·D when not given
``loss``                      yes    loss in nats per token (final loss, or the loss at ``step``)
``run_id``                    no     identifier of the run (str); several rows per run = a curve
``non_embedding_params``      no     non-embedding parameters (Kaplan's N)
``step``                      no     optimiser step of the row, for loss curves
============================  =====  =============================================================

Rows are kept in file order. ``df.attrs["source"]`` names the file and ``df.attrs["line"]`` gives,
for each row, its line in a CSV/JSONL file (1-based, header = line 1), its row number in Parquet,
its record number in a JSON array or its index label in a DataFrame given directly
(``df.attrs["line_kind"]`` says which), so errors point at the input. Rows logged at ``step`` 0 with zero tokens or FLOPs (an evaluation before
training) are skipped and listed in ``df.attrs["dropped"]``. Missing, non-positive or non-finite
values are never dropped silently: :func:`validate_runs`
raises a :class:`ScalingLabError` listing the offending lines, or, with ``on_invalid="drop"``,
drops them and records each in ``df.attrs["dropped"]``.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from scalinglab.errors import ScalingLabError

#: FLOPs per parameter per token used to derive tokens from FLOPs and back (Kaplan 2020 §2.1).
FLOPS_PER_PARAM_TOKEN = 6.0

REQUIRED = ("params", "tokens", "flops", "loss")
OPTIONAL = ("run_id", "non_embedding_params", "step")

# Column names recognised without a mapping option (compared lower-case, spaces/dashes as "_").
_ALIASES = {
    "params": ("params", "n", "n_params", "num_params", "parameters", "model_size", "model_params",
               "total_params", "nparams"),
    "tokens": ("tokens", "d", "n_tokens", "num_tokens", "train_tokens", "training_tokens", "data_size"),
    "flops": ("flops", "c", "compute", "training_flop", "training_flops", "train_flops"),
    "loss": ("loss", "l", "final_loss", "val_loss", "eval_loss", "validation_loss", "train_loss"),
    "run_id": ("run_id", "run", "run_name", "name", "id"),
    "non_embedding_params": ("non_embedding_params", "non_embedding_parameters", "n_non_embedding"),
    "step": ("step", "steps", "iteration", "iter", "global_step"),
}


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


#: The command-line flag of each ``*_col`` option (``scalinglab fit``); errors name both.
_CLI_FLAGS = {"params": "--params-col", "tokens": "--tokens-col", "loss": "--loss-col",
              "flops": "--flops-col"}


def _option(canonical: str) -> str:
    """How the option that names ``canonical``'s column is spelled: Python keyword (CLI flag)."""
    flag = _CLI_FLAGS.get(canonical)
    return f"{canonical}_col=" + (f" ({flag})" if flag else "")


def _pick(columns, canonical, explicit):
    if explicit is not None:
        if explicit not in columns:
            raise ScalingLabError(f"column {explicit!r} (given by {_option(canonical)}) not found; "
                                  f"columns are: {', '.join(map(str, columns))}")
        return explicit
    normed = {_norm(c): c for c in columns}
    for alias in _ALIASES[canonical]:
        if alias in normed:
            return normed[alias]
    return None


def _read_table(path: Path):
    """The raw table and, per row, the input line (CSV/JSONL) or row number (Parquet)."""
    import pandas as pd

    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".csv.gz", ".tsv.gz"):
            sep = "\t" if ".tsv" in suffix else ","
            raw = pd.read_csv(path, sep=sep, skip_blank_lines=False)
            raw = raw.dropna(how="all")  # blank lines are not runs; their line numbers stay skipped
            lines = raw.index.to_numpy() + 2
            return raw.reset_index(drop=True), lines
        if suffix in (".parquet", ".pq"):
            raw = pd.read_parquet(path)
            return raw.reset_index(drop=True), np.arange(1, len(raw) + 1)
        if suffix == ".json":  # one JSON array of run objects
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise ScalingLabError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
                raise ScalingLabError(f"{path}: expected a JSON array of run objects (or use .jsonl)")
            return pd.DataFrame.from_records(data), np.arange(1, len(data) + 1)
        if suffix in (".jsonl", ".ndjson"):
            records, lines = [], []
            with open(path, encoding="utf-8") as fh:
                for lineno, text in enumerate(fh, start=1):
                    if not text.strip():
                        continue
                    try:
                        rec = json.loads(text)
                    except json.JSONDecodeError as exc:
                        raise ScalingLabError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
                    if not isinstance(rec, dict):
                        raise ScalingLabError(f"{path}:{lineno}: expected a JSON object per line")
                    records.append(rec)
                    lines.append(lineno)
            return pd.DataFrame.from_records(records), np.array(lines, dtype=int)
    except ScalingLabError:
        raise
    except (OSError, ValueError) as exc:
        raise ScalingLabError(f"cannot read {path}: {exc}") from None
    raise ScalingLabError(f"{path}: unknown format {path.suffix!r} (use .csv, .tsv, .parquet, .jsonl or .json)")


def read_runs(path, *, params_col=None, tokens_col=None, loss_col=None, flops_col=None,
              run_id_col=None, step_col=None, on_invalid: str = "raise",
              flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN, curves: bool = False):
    """Read a runs table and return it in the canonical schema (see the module docstring).

    Parameters
    ----------
    path : str, Path or pandas.DataFrame
        ``.csv``/``.tsv`` (optionally gzipped), ``.parquet``/``.pq``, ``.jsonl``/``.ndjson`` (one
        object per line) or ``.json`` (one array of objects; errors name the record). Also an
        experiment tracker's store — a TensorBoard log dir or event file, an MLflow ``mlruns``
        folder or URI, a W&B runs CSV export or offline-run dir (:func:`scalinglab.trackers.detect_tracker`)
        — read as loss curves (one row per logged step, ``run_id`` repeated), and a sweep folder
        (its ``runs.parquet``, or with ``curves=True`` its ``curves.parquet``). For a tracker the
        column options name its keys: ``loss_col`` the loss metric, ``params_col``/``tokens_col``/
        ``flops_col`` the run constants. A DataFrame already in memory is read like a file: the
        same column names are recognised, the ``*_col`` options apply, and errors name a row by
        its index label (``df.attrs["source"]`` is ``"DataFrame"``).
    params_col, tokens_col, loss_col, flops_col, run_id_col, step_col : str, optional
        Column names in the file. Without them common names are recognised (``params``, ``N``,
        ``Model Size``; ``tokens``, ``D``; ``flops``, ``C``, ``Training FLOP``; ``loss``, ...).
    on_invalid : {"raise", "drop"}
        What to do with rows whose values are missing, non-positive or non-finite.
    flops_per_param_token : float
        k in C = k·N·D, used to derive tokens or FLOPs when only one is given (default 6).
    curves : bool
        For a sweep folder: return its learning curves, one row per evaluation of every finished
        run (``run_id``, ``step``, ``params``, ``tokens``, ``flops``, ``loss``), instead of one row
        per run; the input of :class:`scalinglab.fit.envelope.EnvelopeFit` (Approach 1). The
        evaluation at step 0 (no tokens seen) is skipped and listed in ``df.attrs["dropped"]``.
        Other sources are returned as read: tracker stores are curves already, and a file or
        DataFrame with several rows per ``run_id`` is one.

    Returns
    -------
    pandas.DataFrame
        The canonical columns (``params``, ``tokens``, ``flops``, ``loss`` and those of
        ``run_id``, ``non_embedding_params``, ``step`` present), in input order.

    Raises
    ------
    ScalingLabError
        For a missing or unreadable file, an unknown format, a required column not found, or
        invalid values (with ``on_invalid="raise"``); the message names the file and line.

    Examples
    --------
    >>> runs = read_runs("runs.csv", params_col="Model Size")     # doctest: +SKIP
    >>> runs = read_runs(pd.read_csv("runs.csv"))                # doctest: +SKIP
    >>> curves = read_runs("sweep-out", curves=True)             # doctest: +SKIP
    >>> EnvelopeFit().fit(curves)                                # doctest: +SKIP
    """
    import pandas as pd

    options = dict(params_col=params_col, tokens_col=tokens_col, loss_col=loss_col,
                   flops_col=flops_col, run_id_col=run_id_col, step_col=step_col,
                   on_invalid=on_invalid, flops_per_param_token=flops_per_param_token)
    if isinstance(path, pd.DataFrame):
        # Errors name a row by the frame's own index label (df.loc[label]) when it is integer,
        # else by its 1-based position.
        if pd.api.types.is_integer_dtype(path.index):
            lines, kind = path.index.to_numpy(), "index"
        else:
            lines, kind = np.arange(1, len(path) + 1), "row"
        return _from_frame(path.reset_index(drop=True), lines, source="DataFrame", line_kind=kind,
                           **options)
    if not isinstance(path, (str, Path)) and not hasattr(path, "__fspath__"):
        raise ScalingLabError(f"read_runs: expected a path (str or Path) or a pandas DataFrame, "
                              f"got {type(path).__name__}")
    tracked = _read_tracked(path, params_col=params_col, tokens_col=tokens_col, loss_col=loss_col,
                            flops_col=flops_col, on_invalid=on_invalid)
    if tracked is not None:
        return tracked
    path = Path(path)
    if path.is_dir() and (path / "runs.parquet").is_file():
        # a sweep folder (scalinglab.sweep.store): its run table is runs.parquet
        if curves:
            return _sweep_curves(path, options)
        return read_runs(path / "runs.parquet", **options)
    if not path.exists():
        raise ScalingLabError(f"runs file not found: {path}")
    if path.is_dir():
        raise ScalingLabError(f"{path} is a folder but not a TensorBoard log dir, MLflow store, W&B "
                              "offline-run dir or sweep folder; give a runs file (.csv, .parquet, .jsonl)")
    raw, lines = _read_table(path)
    if raw.empty:
        raise ScalingLabError(f"{path}: no runs in the file")
    line_kind = {".parquet": "row", ".pq": "row", ".json": "record"}.get(path.suffix.lower(), "line")
    try:
        return _from_frame(raw, lines, source=str(path), line_kind=line_kind, **options)
    except ScalingLabError as exc:
        if path.name == "curves.parquet" and (path.parent / "runs.parquet").is_file():
            # a sweep's curve table holds no run constants (they live in runs.parquet)
            raise ScalingLabError(f"{exc}; for a sweep's learning curves use "
                                  f"read_runs({str(path.parent)!r}, curves=True)") from None
        raise


def _from_frame(raw, lines, *, source: str, line_kind: str, params_col, tokens_col, loss_col,
                flops_col, run_id_col, step_col, on_invalid, flops_per_param_token):
    """The canonical table from a raw one (a file's content or a user's DataFrame)."""
    import pandas as pd

    if raw.empty:
        raise ScalingLabError(f"{source}: no runs in it")
    cols = list(raw.columns)
    chosen = {
        "params": _pick(cols, "params", params_col),
        "tokens": _pick(cols, "tokens", tokens_col),
        "flops": _pick(cols, "flops", flops_col),
        "loss": _pick(cols, "loss", loss_col),
        "run_id": _pick(cols, "run_id", run_id_col),
        "non_embedding_params": _pick(cols, "non_embedding_params", None),
        "step": _pick(cols, "step", step_col),
    }
    # The same check serves the Python API and the CLI: name the option both ways.
    for need in ("params", "loss"):
        if chosen[need] is None:
            raise ScalingLabError(f"{source}: no {need} column found (columns: {', '.join(map(str, cols))}); "
                                  f"name it with {_option(need)}")
    if chosen["tokens"] is None and chosen["flops"] is None:
        raise ScalingLabError(f"{source}: need a tokens or a flops column (columns: {', '.join(map(str, cols))}); "
                              f"name one with {_option('tokens')} or {_option('flops')}")

    out = pd.DataFrame(index=range(len(raw)))
    for canon in ("params", "tokens", "flops", "loss", "non_embedding_params", "step"):
        if chosen[canon] is not None:
            out[canon] = pd.to_numeric(raw[chosen[canon]], errors="coerce").astype(float).to_numpy()
    if chosen["run_id"] is not None:
        out["run_id"] = raw[chosen["run_id"]].astype(str).to_numpy()
    k = float(flops_per_param_token)
    if "tokens" not in out:
        out["tokens"] = out["flops"] / (k * out["params"])
    if "flops" not in out:
        out["flops"] = k * out["params"] * out["tokens"]
    order = [c for c in (*REQUIRED, *OPTIONAL) if c in out]
    out = out[order]
    out.attrs["source"] = source
    out.attrs["line"] = [int(x) for x in lines]
    out.attrs["line_kind"] = line_kind
    return validate_runs(out, on_invalid=on_invalid)


def _sweep_curves(folder: Path, options: dict):
    """A sweep folder's learning curves with each run's constants (``params``...) joined on.

    ``curves.parquet`` holds ``run_id, step, tokens, flops, loss`` per evaluation (FLOPs under the
    design's convention, as the sweep budgets); the model size comes from ``runs.parquet``.
    """
    from scalinglab.sweep.store import RunStore

    store = RunStore(folder)
    if not store.curves_path.is_file():
        raise ScalingLabError(f"{folder}: the sweep has no curves.parquet (no run has finished yet)")
    table = store.curves()
    if len(table) == 0:
        raise ScalingLabError(f"{folder}: the sweep has no finished run with a learning curve yet")
    constants = store.run_table()
    keep = [c for c in ("run_id", "params", "non_embedding_params") if c in constants.columns]
    if "run_id" not in keep or "params" not in keep:
        raise ScalingLabError(f"{store.table_path}: no run_id/params columns to join the curves on")
    # one row per run in runs.parquet; drop_duplicates guards the join against a hand-edited table
    joined = table.merge(constants[keep].drop_duplicates("run_id"), on="run_id", how="left")
    cols = [c for c in ("run_id", "step", "params", "non_embedding_params", "tokens", "flops", "loss")
            if c in joined.columns]
    return _from_frame(joined[cols], np.arange(1, len(joined) + 1), source=str(store.curves_path),
                       line_kind="row", **options)


_URI = re.compile(r"^(sqlite|https?|databricks|postgresql|mysql|mssql|file):")


def _read_tracked(path, *, params_col, tokens_col, loss_col, flops_col, on_invalid):
    """Runs from an experiment tracker's store at ``path`` (long form, one row per logged step), or
    None when ``path`` is not one. Only folders, URIs, event files and CSVs are probed, and
    :mod:`scalinglab.trackers` is imported only then (it stays an optional, lazy dependency)."""
    text = str(path)
    p = Path(text)
    probe = bool(_URI.match(text)) or p.is_dir() or (
        p.is_file() and (p.name.startswith("events.out.tfevents") or p.suffix.lower() == ".csv"))
    if not probe:
        return None
    from scalinglab.trackers import detect_tracker, read_tracker

    kind = detect_tracker(text)
    if kind is None:
        return None
    # The column options name the tracker's keys (the loss metric, the run constants).
    options = {key: value for key, value in (("loss_key", loss_col), ("params_key", params_col),
                                             ("tokens_key", tokens_col), ("flops_key", flops_col))
               if value is not None}
    table = read_tracker(text, kind, **options).as_table()
    table.attrs["source"] = f"{text} ({kind})"
    return validate_runs(table, on_invalid=on_invalid)


def validate_runs(df, *, on_invalid: str = "raise"):
    """Check a runs table: required columns present, values positive and finite.

    Raises :class:`ScalingLabError` naming each bad line (up to 10), or with ``on_invalid="drop"``
    returns the table without them and lists them in ``df.attrs["dropped"]``.
    """
    if on_invalid not in ("raise", "drop"):
        raise ScalingLabError(f"on_invalid must be 'raise' or 'drop', got {on_invalid!r}")
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ScalingLabError(f"runs table lacks column(s) {', '.join(missing)}")
    if len(df) == 0:
        raise ScalingLabError("runs table is empty")
    source = df.attrs.get("source", "runs")
    lines = df.attrs.get("line") or list(range(1, len(df) + 1))
    kind = df.attrs.get("line_kind", "row")
    if "step" in df.columns:
        # An evaluation logged at step 0, before any training, has seen 0 tokens and spent 0 FLOPs:
        # not a point of any scaling law (and log 0 downstream). Skipped and listed, never an error.
        step0 = np.asarray(df["step"], dtype=float) == 0
        zero = (np.asarray(df["tokens"], dtype=float) == 0) | (np.asarray(df["flops"], dtype=float) == 0)
        pre = step0 & zero
        if pre.any():
            attrs = dict(df.attrs)
            attrs["line"] = [ln for ln, p in zip(lines, pre, strict=True) if not p]
            attrs["dropped"] = list(attrs.get("dropped", [])) + [
                f"{source} {kind} {lines[i]}: step 0 with no tokens seen (evaluation before training): skipped"
                for i in np.flatnonzero(pre)]
            df = df.loc[~pre].reset_index(drop=True)
            df.attrs = attrs
            lines = attrs["line"]
            if len(df) == 0:
                raise ScalingLabError("runs table holds only step-0 evaluations (no tokens seen)")
    checks = [c for c in ("params", "tokens", "flops", "loss", "non_embedding_params") if c in df.columns]
    values = {c: np.asarray(df[c], dtype=float) for c in checks}
    bad_rows = np.zeros(len(df), dtype=bool)
    for arr in values.values():
        bad_rows |= ~np.isfinite(arr) | (arr <= 0)
    if "step" in df.columns:
        step = np.asarray(df["step"], dtype=float)
        bad_rows |= ~np.isfinite(step) | (step < 0)
    problems = []  # messages are built only for the bad rows (tables of curves can be long)
    for i in np.flatnonzero(bad_rows):
        reasons = []
        for name in checks:
            value = values[name][i]
            if math.isnan(value):
                reasons.append(f"{name} missing or not a number")
            elif not math.isfinite(value):
                reasons.append(f"{name} = {value} is not finite")
            elif value <= 0:
                reasons.append(f"{name} = {value:g} is not positive")
        if "step" in df.columns and not (math.isfinite(step[i]) and step[i] >= 0):
            reasons.append(f"step = {step[i]} is not a non-negative number")
        problems.append(f"{source} {kind} {lines[i]}: {'; '.join(reasons)}")
    if problems and on_invalid == "raise":
        shown = " | ".join(problems[:10])
        more = f" | and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise ScalingLabError(f"{len(problems)} invalid run(s): {shown}{more}")
    if problems:
        keep = ~bad_rows
        attrs = dict(df.attrs)
        df = df.loc[keep].reset_index(drop=True)
        attrs["line"] = [ln for ln, k in zip(lines, keep, strict=True) if k]
        attrs["dropped"] = list(attrs.get("dropped", [])) + problems
        df.attrs = attrs
        if len(df) == 0:
            raise ScalingLabError(f"every run was invalid: {problems[0]}")
    return df


def drop_highest_loss(df, k: int):
    """Drop the ``k`` runs with the largest loss, recording them (Epoch's outlier rule drops 5).

    Besiroglu et al. 2024 (arXiv 2404.10102) drop the 5 largest losses of the Chinchilla Figure 4
    digitisation before fitting.
    """
    if k < 0 or k >= len(df):
        raise ScalingLabError(f"cannot drop {k} of {len(df)} runs")
    if k == 0:
        return df
    lines = df.attrs.get("line") or list(range(1, len(df) + 1))
    order = np.argsort(df["loss"].to_numpy(), kind="stable")
    drop = set(order[-k:].tolist())
    keep = np.array([i not in drop for i in range(len(df))])
    attrs = dict(df.attrs)
    out = df.loc[keep].reset_index(drop=True)
    attrs["line"] = [ln for ln, kk in zip(lines, keep, strict=True) if kk]
    attrs["dropped"] = list(attrs.get("dropped", [])) + [
        f"{attrs.get('source', 'runs')} {attrs.get('line_kind', 'row')} {lines[i]}: loss = "
        f"{df['loss'].iloc[i]:.6g} among the {k} largest (dropped on request)" for i in sorted(drop)
    ]
    out.attrs = attrs
    return out
