"""Column recognition and row checks shared by every reader.

:func:`pick_column` finds a schema column among a source's columns (common names such as ``N``,
``Model Size``, ``Training FLOP`` are recognised; a ``*_col`` option names it exactly),
:func:`validate_runs` checks the values (present, positive, finite) and :func:`drop_highest_loss`
applies Epoch's outlier rule (Besiroglu et al. 2024: the 5 largest losses of the Chinchilla Fig. 4
digitisation are dropped before fitting; docs/fitting.md).
"""

from __future__ import annotations

import math
import re

import numpy as np

from scalinglab.errors import ScalingLabError
from scalinglab.io.runtable import REQUIRED

# Column names recognised without a mapping option (compared lower-case, spaces/dashes as "_").
ALIASES = {
    "params": ("params", "n", "n_params", "num_params", "parameters", "model_size", "model_params",
               "total_params", "nparams"),
    "tokens": ("tokens", "d", "n_tokens", "num_tokens", "train_tokens", "training_tokens", "data_size"),
    "flops": ("flops", "c", "compute", "training_flop", "training_flops", "train_flops"),
    "loss": ("loss", "l", "final_loss", "val_loss", "eval_loss", "validation_loss", "train_loss"),
    "run_id": ("run_id", "run", "run_name", "name", "id"),
    "non_embedding_params": ("non_embedding_params", "non_embedding_parameters", "n_non_embedding"),
    "step": ("step", "steps", "iteration", "iter", "global_step"),
}

#: The command-line flag of each ``*_col`` option (``scalinglab fit``); errors name both.
CLI_FLAGS = {"params": "--params-col", "tokens": "--tokens-col", "loss": "--loss-col",
             "flops": "--flops-col"}


def normalise(name) -> str:
    """A column name as compared with :data:`ALIASES`: lower case, spaces and dashes as ``_``."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def option(canonical: str) -> str:
    """How the option that names ``canonical``'s column is spelled: Python keyword (CLI flag)."""
    flag = CLI_FLAGS.get(canonical)
    return f"{canonical}_col=" + (f" ({flag})" if flag else "")


def pick_column(columns, canonical: str, explicit=None):
    """The column of ``columns`` that holds ``canonical``: ``explicit`` if given (it must exist),
    else the first alias present, else None."""
    if explicit is not None:
        if explicit not in columns:
            raise ScalingLabError(f"column {explicit!r} (given by {option(canonical)}) not found; "
                                  f"columns are: {', '.join(map(str, columns))}")
        return explicit
    normed = {normalise(c): c for c in columns}
    for alias in ALIASES[canonical]:
        if alias in normed:
            return normed[alias]
    return None


def _keep(df, keep, note_lines: list[str]):
    """``df`` restricted to the rows ``keep``, its ``attrs`` carried over with ``line`` filtered
    and ``note_lines`` appended to ``dropped``."""
    attrs = dict(df.attrs)
    lines = attrs.get("line") or list(range(1, len(df) + 1))
    out = df.loc[keep].reset_index(drop=True)
    attrs["line"] = [ln for ln, k in zip(lines, keep, strict=True) if k]
    attrs["dropped"] = list(attrs.get("dropped", [])) + note_lines
    out.attrs = attrs
    return out


def validate_runs(df, *, on_invalid: str = "raise"):
    """Check a runs table: required columns present, values positive and finite.

    Rows logged at ``step`` 0 with zero tokens or FLOPs (an evaluation before training) are
    skipped and listed in ``df.attrs["dropped"]``. Other bad rows raise a
    :class:`ScalingLabError` naming each bad line (up to 10), or with ``on_invalid="drop"`` are
    left out and listed in ``df.attrs["dropped"]``.
    """
    if on_invalid not in ("raise", "drop"):
        raise ScalingLabError(f"on_invalid must be 'raise' or 'drop', got {on_invalid!r}")
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ScalingLabError(f"runs table lacks column(s) {', '.join(missing)}")
    if len(df) == 0:
        raise ScalingLabError("runs table is empty")
    source = df.attrs.get("source", "runs")
    kind = df.attrs.get("line_kind", "row")
    lines = df.attrs.get("line") or list(range(1, len(df) + 1))
    if "step" in df.columns:
        # An evaluation logged at step 0, before any training, has seen 0 tokens and spent 0 FLOPs:
        # not a point of any scaling law (and log 0 downstream). Skipped and listed, never an error.
        step0 = np.asarray(df["step"], dtype=float) == 0
        zero = (np.asarray(df["tokens"], dtype=float) == 0) | (np.asarray(df["flops"], dtype=float) == 0)
        pre = step0 & zero
        if pre.any():
            df = _keep(df, ~pre, [f"{source} {kind} {lines[i]}: step 0 with no tokens seen "
                                  "(evaluation before training): skipped" for i in np.flatnonzero(pre)])
            lines = df.attrs["line"]
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
        df = _keep(df, ~bad_rows, problems)
        if len(df) == 0:
            raise ScalingLabError(f"every run was invalid: {problems[0]}")
    return df


def drop_highest_loss(runs, k: int):
    """Drop the ``k`` runs with the largest loss, recording each (Epoch's outlier rule drops 5).

    Parameters
    ----------
    runs : pandas.DataFrame or RunTable
        A runs table (``RunTable.runs``) or a :class:`~scalinglab.io.RunTable`, whose curves are
        then kept for the remaining runs only.
    k : int
        How many runs to drop.

    Returns
    -------
    The same kind as ``runs``; a DataFrame lists the dropped lines in ``attrs["dropped"]``, a
    RunTable in its ``notes`` as well.
    """
    from scalinglab.io.runtable import RunTable

    if isinstance(runs, RunTable):
        kept = drop_highest_loss(runs.runs, k)
        new = kept.attrs.get("dropped", [])[len(runs.runs.attrs.get("dropped", [])):]
        table = runs.with_runs(kept)
        return RunTable(runs=table.runs, curves=table.curves, source=table.source,
                        notes=table.notes + tuple(new), design=table.design)
    df = runs
    if k < 0 or k >= len(df):
        raise ScalingLabError(f"cannot drop {k} of {len(df)} runs")
    if k == 0:
        return df
    lines = df.attrs.get("line") or list(range(1, len(df) + 1))
    order = np.argsort(df["loss"].to_numpy(), kind="stable")
    drop = set(order[-k:].tolist())
    keep = np.array([i not in drop for i in range(len(df))])
    return _keep(df, keep, [
        f"{df.attrs.get('source', 'runs')} {df.attrs.get('line_kind', 'row')} {lines[i]}: loss = "
        f"{df['loss'].iloc[i]:.6g} among the {k} largest (dropped on request)" for i in sorted(drop)])
