"""RunTable, the one result of read_runs: its shape, and a sweep folder read as the store holds it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scalinglab.errors import ScalingLabError
from scalinglab.io import RunTable, drop_highest_loss, read_runs
from standins import SerialExecutor


def _run(task):
    """A stand-in run: a deterministic loss from the config, an eval curve of three points."""
    cfg = task["config"]
    loss = 1.5 + 10.0 / cfg["d_model"] + 2e3 / cfg["tokens"] ** 0.5
    per_step = cfg["batch_size"] * cfg["ctx"]
    return {"loss": loss, "best_loss": loss, "tokens": cfg["tokens"], "wall_seconds": 0.0,
            "curve": [{"step": 0, "tokens": 0, "loss": 5.5},
                      {"step": 10, "tokens": 10 * per_step, "loss": loss + 0.5},
                      {"step": 20, "tokens": 20 * per_step, "loss": loss}]}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    from scalinglab.sweep.design import isoflop_design
    from scalinglab.sweep.runner import run_sweep

    design = isoflop_design([1e11, 3e11], sizes_per_budget=3, check_corpus=False)
    folder = tmp_path_factory.mktemp("sweep")
    run_sweep(design, folder, executor=SerialExecutor(), run_fn=_run)
    return folder, design


def test_a_sweep_folder_reads_as_the_store_holds_it(sweep):
    from scalinglab.sweep.store import RunStore

    folder, design = sweep
    store = RunStore(folder)
    table = read_runs(folder)
    assert isinstance(table, RunTable) and len(table) == 6 == len(design.runs)
    held = store.run_table()
    assert list(table.runs["run_id"]) == list(held["run_id"])
    for col in ("params", "non_embedding_params", "tokens", "flops", "loss", "budget", "group"):
        assert table.runs[col].tolist() == held[col].tolist(), col
    assert table.runs["step"].tolist() == held["steps"].astype(float).tolist()
    # the records are what the table was built from
    records, _, _ = store.scan()
    for row in table.runs.itertuples():
        assert records[row.run_id]["result"]["loss"] == row.loss
    assert table.design == store.read_design() and table.design["design_id"] == design.design_id
    # curves: the store's eval points after step 0 (6 skipped, each noted), params joined on
    curves = table.curves
    held_curves = store.curves()
    assert len(curves) == 12 == len(held_curves) - 6 and (curves["step"] > 0).all()
    assert sum("step 0 with no tokens seen" in n for n in table.notes) == 6
    sizes = dict(zip(table.runs["run_id"], table.runs["params"], strict=True))
    assert all(sizes[r] == p for r, p in zip(curves["run_id"], curves["params"], strict=True))
    # the analysis reads the same rows
    from scalinglab.sweep.analysis import _runs_frame

    pd.testing.assert_frame_equal(_runs_frame(store), read_runs(folder, curves=False).runs)
    assert read_runs(folder, curves=False).curves is None


def test_a_diverged_run_is_left_out_and_noted(tmp_path):
    pd.DataFrame({"run_id": ["a", "b", "c"], "params": [1e6, 2e6, 4e6], "tokens": [2e7, 4e7, 8e7],
                  "flops": [1.2e14, 4.8e14, 1.9e15], "loss": [3.0, None, 2.6]}).to_parquet(tmp_path / "runs.parquet")
    table = read_runs(tmp_path)
    assert list(table.runs["run_id"]) == ["a", "c"] and table.runs.attrs["line"] == [1, 3]
    assert len(table.notes) == 1 and "run b: no finite loss" in table.notes[0]


def test_repr_len_and_as_dict():
    frame = pd.DataFrame({"run_id": ["a", "a", "b", "b"], "step": [1, 2, 1, 2], "params": [1e6, 1e6, 4e6, 4e6],
                          "tokens": [1e7, 2e7, 1e7, 2e7], "loss": [3.2, 3.0, 2.9, 2.7]})
    table = read_runs(frame)
    assert len(table) == 2 and table.source == "DataFrame"
    assert repr(table) == ("RunTable(2 runs, curves=4 points of 2 runs, source='DataFrame', 1 note(s))")
    assert table.runs["loss"].tolist() == [3.0, 2.7] and table.runs["tokens"].tolist() == [2e7, 2e7]
    data = table.as_dict()
    json.dumps(data)  # JSON-ready
    assert data["runs"][1] == {"params": 4e6, "tokens": 2e7, "flops": 6 * 4e6 * 2e7, "loss": 2.7,
                               "run_id": "b", "step": 2.0}
    assert len(data["curves"]) == 4 and data["notes"] == list(table.notes)
    assert read_runs(table) is table  # a RunTable is already read
    one = read_runs(frame.iloc[[1, 3]])
    assert one.curves is None and repr(one).startswith("RunTable(2 runs, no curves")
    with pytest.raises(ScalingLabError, match="no learning curves"):
        read_runs(frame.iloc[[1, 3]], curves=True)


def test_drop_highest_loss_keeps_the_curves_of_the_kept_runs():
    frame = pd.DataFrame({"run_id": list("aabbcc"), "step": [1, 2] * 3, "params": np.repeat([1e6, 4e6, 1.6e7], 2),
                          "tokens": [1e7, 2e7] * 3, "loss": [3.5, 3.3, 3.0, 2.8, 2.9, 2.5]})
    kept = drop_highest_loss(read_runs(frame), 1)
    assert list(kept.runs["run_id"]) == ["b", "c"] and set(kept.curves["run_id"]) == {"b", "c"}
    assert "loss = 3.3 among the 1 largest" in kept.notes[-1]
