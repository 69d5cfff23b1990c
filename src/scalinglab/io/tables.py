"""Tables of runs: CSV/TSV (optionally gzipped), Parquet, JSON Lines, JSON arrays, DataFrames.

A table with one row per run is the run table; one with several rows per ``run_id`` holds loss
curves, and its last row per run (by ``step``, else by ``tokens``) is the run. Errors name the
input line: its line in a CSV/JSONL file (1-based, header = line 1), its row in Parquet, its
record in a JSON array, or its index label in a DataFrame.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from scalinglab.core.units import FLOP_PER_PARAM_TOKEN
from scalinglab.errors import ScalingLabError
from scalinglab.io.columns import option, pick_column, validate_runs
from scalinglab.io.runtable import CANONICAL, RunTable

#: File suffixes read as tables, and how their rows are named in errors.
LINE_KINDS = {".parquet": "row", ".pq": "row", ".json": "record"}


def read_raw(path: Path):
    """The raw table of a file and, per row, its input line (CSV/JSONL) or row number (Parquet)."""
    import pandas as pd  # pandas stays off the planning path (``import scalinglab`` is light)

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
            return _read_jsonl(path)
    except ScalingLabError:
        raise
    except (OSError, ValueError) as exc:
        raise ScalingLabError(f"cannot read {path}: {exc}") from None
    raise ScalingLabError(f"{path}: unknown format {path.suffix!r} (use .csv, .tsv, .parquet, .jsonl or .json)")


def json_lines(path: Path):
    """(line number, object) for every non-blank line of a JSON-lines file, each mistake one line."""
    with open(path, encoding="utf-8") as fh:
        for lineno, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                rec = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ScalingLabError(f"{path}:{lineno}: malformed JSON line ({exc.msg})") from None
            if not isinstance(rec, dict):
                raise ScalingLabError(f"{path}:{lineno}: expected a JSON object per line")
            yield lineno, rec


def _read_jsonl(path: Path):
    import pandas as pd  # see read_raw

    records, lines = [], []
    for lineno, rec in json_lines(path):
        records.append(rec)
        lines.append(lineno)
    return pd.DataFrame.from_records(records), np.array(lines, dtype=int)


def canonical_frame(raw, lines, *, source: str, line_kind: str, params_col=None, tokens_col=None,
                    loss_col=None, flops_col=None, run_id_col=None, step_col=None,
                    on_invalid: str = "raise", flops_per_param_token: float = FLOP_PER_PARAM_TOKEN):
    """The canonical table of a raw one (a file's content or a user's DataFrame), validated.

    The schema's columns come first (tokens = C/(k·N) or FLOPs = k·N·D derived when only one is
    given), then the raw table's other columns as read.
    """
    import pandas as pd  # see read_raw

    if raw.empty:
        raise ScalingLabError(f"{source}: no runs in it")
    cols = list(raw.columns)
    chosen = {
        "params": pick_column(cols, "params", params_col),
        "tokens": pick_column(cols, "tokens", tokens_col),
        "flops": pick_column(cols, "flops", flops_col),
        "loss": pick_column(cols, "loss", loss_col),
        "run_id": pick_column(cols, "run_id", run_id_col),
        "non_embedding_params": pick_column(cols, "non_embedding_params"),
        "step": pick_column(cols, "step", step_col),
    }
    # The same check serves the Python API and the CLI: name the option both ways.
    for need in ("params", "loss"):
        if chosen[need] is None:
            raise ScalingLabError(f"{source}: no {need} column found (columns: {', '.join(map(str, cols))}); "
                                  f"name it with {option(need)}")
    if chosen["tokens"] is None and chosen["flops"] is None:
        raise ScalingLabError(f"{source}: need a tokens or a flops column (columns: {', '.join(map(str, cols))}); "
                              f"name one with {option('tokens')} or {option('flops')}")

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
    out = out[[c for c in CANONICAL if c in out]]
    used = {c for c in chosen.values() if c is not None}
    for col in cols:  # the source's other columns, as read (a sweep's budget, group, cfg_*...)
        if col not in used and col not in out.columns:
            out[col] = raw[col].to_numpy()
    out.attrs["source"] = source
    out.attrs["line"] = [int(x) for x in lines]
    out.attrs["line_kind"] = line_kind
    return validate_runs(out, on_invalid=on_invalid)


def final_rows(table):
    """``(one row per run, the curves or None)`` of a canonical table.

    A table with several rows per ``run_id`` holds loss curves: the run is its last row by
    ``step`` (else by ``tokens``), and the whole table is the curves. A table with one row per
    run is the run table and has no curves.
    """
    if "run_id" not in table.columns or table["run_id"].is_unique:
        return table, None
    key = "step" if "step" in table.columns else "tokens"
    attrs = dict(table.attrs)
    lines = np.asarray(attrs.get("line") or range(1, len(table) + 1))
    order = np.lexsort((np.arange(len(table)), table[key].to_numpy(float)))
    last = table.iloc[order].groupby("run_id", sort=False).tail(1).sort_index()
    runs = last.reset_index(drop=True)
    runs.attrs = {**attrs, "line": [int(x) for x in lines[last.index.to_numpy()]]}
    return runs, table


def table_from_frame(raw, lines, *, source: str, line_kind: str, curves=None, **options) -> RunTable:
    """A :class:`RunTable` of a raw table (see :func:`canonical_frame` and :func:`final_rows`)."""
    table = canonical_frame(raw, lines, source=source, line_kind=line_kind, **options)
    dropped = tuple(table.attrs.get("dropped", []))
    runs, curve_table = final_rows(table)
    notes = dropped
    if curve_table is not None:
        notes += (f"table holds loss curves: used the final row of each of {len(runs)} runs",)
    if curves is False:
        curve_table = None
    elif curves and curve_table is None:
        raise ScalingLabError(f"{source}: no learning curves (one row per run; curves need several "
                              "rows per run_id, one per evaluation)")
    return RunTable(runs=runs, curves=curve_table, source=source, notes=notes)


def read_table_file(path: Path, **options) -> RunTable:
    """A runs file (``.csv``/``.tsv``[``.gz``], ``.parquet``/``.pq``, ``.jsonl``/``.ndjson``, ``.json``)."""
    raw, lines = read_raw(path)
    if raw.empty:
        raise ScalingLabError(f"{path}: no runs in the file")
    line_kind = LINE_KINDS.get(path.suffix.lower(), "line")
    return table_from_frame(raw, lines, source=str(path), line_kind=line_kind, **options)


def read_frame(frame, **options) -> RunTable:
    """A DataFrame already in memory, read like a file; errors name a row by its index label
    (``df.loc[label]``) when the index is integer, else by its 1-based position."""
    import pandas as pd  # see read_raw

    if pd.api.types.is_integer_dtype(frame.index):
        lines, kind = frame.index.to_numpy(), "index"
    else:
        lines, kind = np.arange(1, len(frame) + 1), "row"
    return table_from_frame(frame.reset_index(drop=True), lines, source="DataFrame", line_kind=kind,
                            **options)
