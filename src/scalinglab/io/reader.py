"""``read_runs``: the one entry point that reads training runs from wherever they are."""

from __future__ import annotations

from pathlib import Path

from scalinglab.core.units import FLOP_PER_PARAM_TOKEN
from scalinglab.errors import ScalingLabError
from scalinglab.io.runtable import RunTable
from scalinglab.io.sweep_folder import CURVES_TABLE, RUNS_TABLE, is_sweep_folder, read_sweep
from scalinglab.io.tables import read_frame, read_table_file
from scalinglab.io.trackers import TRACKING_URI, detect_tracker, read_tracker


def read_runs(path, *, params_col=None, tokens_col=None, loss_col=None, flops_col=None,
              run_id_col=None, step_col=None, on_invalid: str = "raise",
              flops_per_param_token: float = FLOP_PER_PARAM_TOKEN, curves: bool | None = None) -> RunTable:
    """Read training runs into a :class:`~scalinglab.io.RunTable` (schema: :mod:`scalinglab.io.runtable`).

    Parameters
    ----------
    path : str, Path, pandas.DataFrame or RunTable
        - a runs file: ``.csv``/``.tsv`` (optionally gzipped), ``.parquet``/``.pq``,
          ``.jsonl``/``.ndjson`` (one object per line) or ``.json`` (one array of objects). Several
          rows per ``run_id`` are loss curves: the last row of each (by ``step``, else ``tokens``)
          is the run, and the whole table is ``curves``;
        - a DataFrame already in memory, read like a file (errors name a row by its index label;
          the source is ``"DataFrame"``); a RunTable is returned as it is;
        - a sweep folder (:mod:`scalinglab.sweep.store`): ``runs.parquet`` with all its columns,
          and ``curves.parquet`` with each run's ``params`` joined on;
        - an experiment tracker's store: a TensorBoard log dir or event file, an MLflow ``mlruns``
          folder or tracking URI, a W&B runs CSV export or offline-run dir
          (:func:`scalinglab.io.detect_tracker`). The column options then name its keys:
          ``loss_col`` the loss metric, ``params_col``/``tokens_col``/``flops_col`` the run constants.
    params_col, tokens_col, loss_col, flops_col, run_id_col, step_col : str, optional
        Column names in the file. Without them common names are recognised (``params``, ``N``,
        ``Model Size``; ``tokens``, ``D``; ``flops``, ``C``, ``Training FLOP``; ``loss``, ...).
    on_invalid : {"raise", "drop"}
        What to do with rows whose values are missing, non-positive or non-finite: raise one error
        naming every bad line, or leave them out and list them in ``notes``.
    flops_per_param_token : float
        k in C = k·N·D, used to derive tokens or FLOPs when a table gives only one (default 6,
        :data:`scalinglab.core.units.FLOP_PER_PARAM_TOKEN`; trackers always use 6).
    curves : bool, optional
        ``None`` (default): read the learning curves where the source has them. ``True``: the
        curves are needed (an error if the source has none, e.g. a sweep without
        ``curves.parquet``). ``False``: do not read them (``curves`` is None). Evaluations at
        step 0 (no tokens seen) are skipped and listed in ``notes``.

    Returns
    -------
    RunTable
        ``runs`` (one row per run, input order), ``curves`` (or None), ``source`` and ``notes``.

    Raises
    ------
    ScalingLabError
        For a missing or unreadable file, an unknown format, a required column not found, or
        invalid values (with ``on_invalid="raise"``); the message names the file and line.

    Examples
    --------
    >>> table = read_runs("runs.csv", params_col="Model Size")   # doctest: +SKIP
    >>> ChinchillaFit().fit(table.runs)                           # doctest: +SKIP
    >>> EnvelopeFit().fit(read_runs("sweep-out", curves=True).curves)   # doctest: +SKIP
    """
    import pandas as pd  # pandas stays off the planning path (``import scalinglab`` is light)

    options = dict(params_col=params_col, tokens_col=tokens_col, loss_col=loss_col,
                   flops_col=flops_col, run_id_col=run_id_col, step_col=step_col,
                   on_invalid=on_invalid, flops_per_param_token=flops_per_param_token)
    if isinstance(path, RunTable):
        return path
    if isinstance(path, pd.DataFrame):
        return read_frame(path, curves=curves, **options)
    if not isinstance(path, (str, Path)) and not hasattr(path, "__fspath__"):
        raise ScalingLabError(f"read_runs: expected a path (str or Path) or a pandas DataFrame, "
                              f"got {type(path).__name__}")
    text = str(path)
    p = Path(text)
    if is_sweep_folder(p):
        return read_sweep(p, curves=curves, **options)
    table = _read_tracked(text, curves=curves, params_col=params_col, tokens_col=tokens_col,
                          loss_col=loss_col, flops_col=flops_col, on_invalid=on_invalid)
    if table is not None:
        return table
    if not p.exists():
        raise ScalingLabError(f"runs file not found: {p}")
    if p.is_dir():
        raise ScalingLabError(f"{p} is a folder but not a TensorBoard log dir, MLflow store, W&B "
                              "offline-run dir or sweep folder; give a runs file (.csv, .parquet, .jsonl)")
    try:
        return read_table_file(p, curves=curves, **options)
    except ScalingLabError as exc:
        if p.name == CURVES_TABLE and (p.parent / RUNS_TABLE).is_file():
            # a sweep's curve table holds no run constants (they live in runs.parquet)
            raise ScalingLabError(f"{exc}; for a sweep's learning curves use "
                                  f"read_runs({str(p.parent)!r}, curves=True)") from None
        raise


def _read_tracked(text: str, *, curves, params_col, tokens_col, loss_col, flops_col, on_invalid):
    """The runs of the experiment tracker's store at ``text``, or None when it is not one (only
    folders, URIs, event files and CSVs are probed)."""
    p = Path(text)
    probe = bool(TRACKING_URI.match(text)) or p.is_dir() or (
        p.is_file() and (p.name.startswith("events.out.tfevents") or p.suffix.lower() == ".csv"))
    if not probe:
        return None
    kind = detect_tracker(text)
    if kind is None:
        return None
    # The column options name the tracker's keys (the loss metric, the run constants).
    options = {key: value for key, value in (("loss_key", loss_col), ("params_key", params_col),
                                             ("tokens_key", tokens_col), ("flops_key", flops_col))
               if value is not None}
    table = read_tracker(text, kind, on_invalid=on_invalid, **options)
    source = f"{text} ({kind})"
    table.runs.attrs["source"] = source
    # A tracker holds loss curves; the run is each curve's final row (its last logged loss).
    note = f"{kind} store holds loss curves: used the final row of each of {len(table)} runs"
    return RunTable(runs=table.runs, curves=None if curves is False else table.curves,
                    source=source, notes=(*table.notes, note))
