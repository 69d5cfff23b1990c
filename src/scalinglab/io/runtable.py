"""The one result of every reader: :class:`RunTable`, a set of training runs and their curves.

Schema (units as everywhere in scalinglab; docs/conventions.md):

============================  =====  =============================================================
column                        req.   meaning (units)
============================  =====  =============================================================
``params``                    yes    total model parameters N (count)
``tokens``                    yes    training tokens D seen by the run (count); derived as
                                     C / (6·N) when only FLOPs are given
``flops``                     yes    training compute C (FLOPs); derived as 6·N·D when not given
``loss``                      yes    loss in nats per token (the final loss of the run)
``run_id``                    no     identifier of the run (str)
``non_embedding_params``      no     non-embedding parameters (Kaplan et al. 2020 §2.1's N)
``step``                      no     optimiser step of the row (the run's last step in ``runs``)
============================  =====  =============================================================

``runs`` holds one row per run with these columns (those present) first, then any other column
of the source as read (a sweep's ``budget``, ``group``, ``cfg_*``...). ``curves`` holds the
learning curves in the same schema, one row per evaluation (``run_id``, ``step``, ``params``,
``tokens``, ``flops``, ``loss``): a runs table in the long form, the input of
:class:`scalinglab.fit.envelope.EnvelopeFit` (Hoffmann et al. 2022 §3.1, Approach 1).

Each frame's ``attrs`` keep ``source`` and, per row, ``line`` (its line, row or record in the
input; ``line_kind`` says which) so that later steps (:func:`scalinglab.io.drop_highest_loss`)
still name the input line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The columns every runs table has.
REQUIRED = ("params", "tokens", "flops", "loss")
#: The columns a runs table may have, recognised by name like the required ones.
OPTIONAL = ("run_id", "non_embedding_params", "step")
#: The canonical order of the schema's columns.
CANONICAL = (*REQUIRED, *OPTIONAL)
#: The columns of a learning curve: one row per evaluation of a run.
CURVE_COLUMNS = ("run_id", "step", "tokens", "flops", "loss")


@dataclass(frozen=True)
class RunTable:
    """Training runs read from a file, a DataFrame, a sweep folder or an experiment tracker.

    Attributes
    ----------
    runs : pandas.DataFrame
        One row per run: ``params``, ``tokens``, ``flops``, ``loss`` and, where known, ``run_id``,
        ``non_embedding_params``, ``step`` (the run's last step), then the source's other columns.
    curves : pandas.DataFrame or None
        The learning curves, one row per evaluation (``run_id``, ``step``, ``params``, ``tokens``,
        ``flops``, ``loss``), or None when the source holds one point per run.
    source : str
        Where the runs were read from (path or URI, and how).
    notes : tuple of str
        What the reader dropped or assumed, one line each (a bad line left out with
        ``on_invalid="drop"``, an evaluation before training skipped, curves reduced to their
        final rows).
    design : dict or None
        The sweep's sealed design (``sweep.json``: its settings and planned runs) when the source
        is a sweep folder, else None.
    """

    runs: Any
    curves: Any = None
    source: str = ""
    notes: tuple[str, ...] = ()
    design: dict | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.runs)

    def __repr__(self) -> str:
        # The default repr would print both frames in full: a notebook cell of thousands of rows.
        curves = ("no curves" if self.curves is None
                  else f"curves={len(self.curves)} points of {self.curves['run_id'].nunique()} runs"
                  if "run_id" in self.curves.columns else f"curves={len(self.curves)} points")
        notes = f", {len(self.notes)} note(s)" if self.notes else ""
        return f"RunTable({len(self)} runs, {curves}, source={self.source!r}{notes})"

    def as_dict(self) -> dict:
        """JSON-ready: ``source``, ``notes``, ``runs`` (records) and ``curves`` (records or None)."""
        return {"source": self.source, "notes": list(self.notes),
                "runs": _records(self.runs),
                "curves": None if self.curves is None else _records(self.curves)}

    def with_runs(self, runs, *, note: str | None = None) -> RunTable:
        """The same table with ``runs`` replacing the run rows (curves kept only for those runs),
        and ``note`` added to the notes."""
        curves = self.curves
        if curves is not None and "run_id" in runs.columns and "run_id" in curves.columns:
            curves = curves[curves["run_id"].isin(runs["run_id"])].reset_index(drop=True)
        notes = self.notes + ((note,) if note else ())
        return RunTable(runs=runs, curves=curves, source=self.source, notes=notes, design=self.design)


def _records(frame) -> list[dict]:
    """Rows as plain Python values (NaN as None), for JSON."""
    import math

    out = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for key, value in row.items():
            value = value.item() if hasattr(value, "item") else value
            clean[str(key)] = None if isinstance(value, float) and not math.isfinite(value) else value
        out.append(clean)
    return out
