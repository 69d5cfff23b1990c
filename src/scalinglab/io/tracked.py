"""The step every tracker reader shares: a run's constants and series -> a run row and its curve.

How a run becomes a row (the same for TensorBoard, MLflow and W&B):

- ``params`` comes from the run's constants (hparams, MLflow params, W&B config) under
  ``params_key``; ``non_embedding_params`` likewise if present.
- ``loss`` is the **last** logged value of the loss metric (the value at the largest step): the
  final loss that Chinchilla-style fits use.
- ``tokens`` is the run's constant ``tokens_key`` if present, else the tokens series at the last
  step. Curve tokens come from a logged tokens series; failing that from ``tokens_per_step`` ×
  step; failing that from the run's total tokens × step / last step (a constant batch size).
- ``flops`` is the run's constant ``flops_key``, else the logged flops series, else 6·N·D (the
  C = 6·N·D of Kaplan et al. 2020 §2.1, :data:`scalinglab.core.units.FLOP_PER_PARAM_TOKEN`).

Tracker values may be strings (MLflow params: ``"1.2e9"``, ``"1_000_000"``) or W&B's
``{"value": ...}`` wrapping; :func:`tracker_number` reads both with :mod:`scalinglab.core.numbers`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scalinglab.core.numbers import parse_number
from scalinglab.core.units import FLOP_PER_PARAM_TOKEN
from scalinglab.errors import ScalingLabError
from scalinglab.io.columns import validate_runs
from scalinglab.io.runtable import CANONICAL, RunTable

#: Loss metric names tried in order when ``loss_key`` is not given.
LOSS_KEYS = ("loss", "train/loss", "train_loss", "val/loss", "val_loss", "eval/loss", "eval_loss")
#: Tokens-seen series names tried in order when ``tokens_series`` is not given.
TOKENS_SERIES_KEYS = ("tokens", "train/tokens", "tokens_seen")
#: FLOPs series names tried in order when ``flops_series`` is not given.
FLOPS_SERIES_KEYS = ("flops", "train/flops", "flops_seen")


@dataclass
class RawRun:
    """One run as a tracker holds it."""

    run_id: str
    where: str  # file or URI named in error messages
    constants: dict  # name -> value (numbers or strings)
    series: dict  # name -> list of (step, value)


def tracker_number(value, name: str, where: str) -> float:
    """A finite, non-negative float from a tracker value (a number, a string such as ``"1.2e9"``,
    or W&B's ``{"value": ...}``); errors name the file or run."""
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    if value is None:
        raise ScalingLabError(f"{where}: {name} = None is not a number")
    return parse_number(value, name=f"{where}: {name}", allow_zero=True)


def pick_key(keys, available, wanted: str | None, what: str, where: str, required: bool = True):
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


def _aligned(points, steps, key, where):
    """The values of series ``points`` at ``steps`` (exact step match; the series must cover them)."""
    table = {int(s): tracker_number(v, key, where) for s, v in points}
    missing = [int(s) for s in steps if int(s) not in table]
    if missing:
        raise ScalingLabError(f"{where}: series {key!r} has no value at step {missing[0]} where loss is logged")
    return np.array([table[int(s)] for s in steps])


def _one_run(run: RawRun, *, loss_key, params_key, tokens_key, flops_key, tokens_series,
             flops_series, tokens_per_step):
    """(the run's row, its curve as columns) by the rules of the module docstring."""
    where = run.where
    key = pick_key(LOSS_KEYS, run.series, loss_key, "loss metric", where)
    points = sorted(run.series[key])
    steps = np.array([p[0] for p in points], dtype=float)
    loss = np.array([tracker_number(p[1], key, where) for p in points])
    if len(loss) == 0:
        raise ScalingLabError(f"{where}: loss metric {key!r} has no values")
    if np.any(loss <= 0):
        raise ScalingLabError(f"{where}: loss metric {key!r} has a non-positive value {loss.min()!r}")
    if params_key not in run.constants:
        raise ScalingLabError(
            f"{where}: no run constant {params_key!r} (parameter count); available: "
            f"{', '.join(sorted(run.constants)) or 'none'}")
    params = tracker_number(run.constants[params_key], params_key, where)

    t_key = pick_key(TOKENS_SERIES_KEYS, run.series, tokens_series, "tokens series", where,
                     required=tokens_series is not None)
    curve_tokens = None
    if t_key is not None:
        curve_tokens = _aligned(run.series[t_key], steps, t_key, where)
    elif tokens_per_step is not None:
        curve_tokens = steps * float(tokens_per_step)
    if tokens_key in run.constants:
        tokens = tracker_number(run.constants[tokens_key], tokens_key, where)
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

    f_key = pick_key(FLOPS_SERIES_KEYS, run.series, flops_series, "flops series", where,
                     required=flops_series is not None)
    if f_key is not None:
        curve_flops = _aligned(run.series[f_key], steps, f_key, where)
    else:
        curve_flops = FLOP_PER_PARAM_TOKEN * params * curve_tokens
    if flops_key in run.constants:
        flops = tracker_number(run.constants[flops_key], flops_key, where)
    elif f_key is not None:
        flops = float(curve_flops[-1])
    else:
        flops = FLOP_PER_PARAM_TOKEN * params * tokens

    row = {"run_id": run.run_id, "params": params, "tokens": tokens, "flops": flops,
           "loss": float(loss[-1]), "step": float(steps[-1])}
    if "non_embedding_params" in run.constants:
        row["non_embedding_params"] = tracker_number(run.constants["non_embedding_params"],
                                                     "non_embedding_params", where)
    for name, value in (("params", params), ("tokens", tokens), ("flops", flops)):
        if value <= 0:
            raise ScalingLabError(f"{where}: {name} must be positive, got {value!r}")
    curve = {"run_id": run.run_id, "step": steps.astype(np.int64), "params": params,
             "tokens": curve_tokens, "flops": curve_flops, "loss": loss}
    if "non_embedding_params" in row:
        curve["non_embedding_params"] = row["non_embedding_params"]
    return row, curve


def assemble(raw: list[RawRun], source: str, *, on_invalid: str = "raise", **keys) -> RunTable:
    """Raw runs -> a :class:`RunTable`: one row per run and the curves (module docstring rules).

    ``keys``: ``loss_key``, ``params_key``, ``tokens_key``, ``flops_key``, ``tokens_series``,
    ``flops_series``, ``tokens_per_step``.
    """
    import pandas as pd  # pandas stays off the planning path

    if not raw:
        raise ScalingLabError(f"{source}: no runs found")
    rows, frames = [], []
    for run in raw:
        row, curve = _one_run(run, **keys)
        rows.append(row)
        frames.append(pd.DataFrame(curve))
    runs = pd.DataFrame(rows)
    if runs["run_id"].duplicated().any():
        dup = runs.loc[runs["run_id"].duplicated(), "run_id"].iloc[0]
        raise ScalingLabError(f"{source}: run id {dup!r} appears twice")
    runs = runs[[c for c in CANONICAL if c in runs.columns]].reset_index(drop=True)
    runs.attrs["source"] = source
    runs = validate_runs(runs)  # the same checks as a runs file gets

    curves = pd.concat(frames, ignore_index=True)
    curves = curves[[c for c in CANONICAL if c in curves.columns]]
    notes = []
    # An evaluation at step 0 with no tokens seen is skipped by validate_runs (and noted); a
    # later point with no tokens or FLOPs is no point of a law either.
    late_zero = (curves["step"] > 0) & ((curves["tokens"] <= 0) | (curves["flops"] <= 0))
    if late_zero.any():
        notes.append(f"{source}: {int(late_zero.sum())} curve point(s) after step 0 with no tokens "
                     "or FLOPs: skipped")
        curves = curves[~late_zero].reset_index(drop=True)
    curves.attrs["source"] = f"{source} (curves)"
    curves = validate_runs(curves, on_invalid=on_invalid)
    notes = list(curves.attrs.get("dropped", [])) + notes
    return RunTable(runs=runs, curves=curves, source=source, notes=tuple(notes))
