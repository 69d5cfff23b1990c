"""Reading run tables (CSV, TSV, Parquet, JSONL, JSON, DataFrames): formats, column mapping, derived
columns, line-numbered errors, loss curves split into runs and curves."""

import json

import numpy as np
import pandas as pd
import pytest

from scalinglab.errors import ScalingLabError
from scalinglab.io import RunTable, drop_highest_loss, read_runs, validate_runs
from standins import write_wandb_offline


def test_epoch_csv_loads_and_outlier_rule(chinchilla_fig4_csv):
    # TEST_VECTORS F1 / Besiroglu et al. 2024: 245 rows; the 5 largest losses 3.447, 3.766, 3.794,
    # 4.665, 5.006
    # are dropped -> 240; D = C/(6N) spans 2.45e8 … 3.18e11.
    table = read_runs(chinchilla_fig4_csv)  # "Model Size", "Training FLOP", "loss" recognised by name
    assert isinstance(table, RunTable) and table.curves is None and table.notes == ()
    df = table.runs
    assert len(table) == len(df) == 245
    assert list(df.columns[:4]) == ["params", "tokens", "flops", "loss"]
    assert df["tokens"].min() == pytest.approx(2.45e8, rel=2e-3)
    assert df["tokens"].max() == pytest.approx(3.18e11, rel=2e-3)
    kept = drop_highest_loss(df, 5)
    assert len(kept) == 240
    dropped = np.sort(df["loss"].to_numpy())[-5:]
    np.testing.assert_allclose(dropped, [3.447, 3.766, 3.794, 4.665, 5.006], atol=1e-3)
    assert kept["loss"].max() < 3.447
    assert len(kept.attrs["dropped"]) == 5 and "line 2:" in kept.attrs["dropped"][0]
    # a RunTable is dropped from likewise, its notes saying which lines
    kept_table = drop_highest_loss(table, 5)
    assert len(kept_table) == 240 and len(kept_table.notes) == 5 and "line 2:" in kept_table.notes[0]


def test_explicit_columns_and_tokens_from_flops(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("size,compute,val\n1e8,6e17,3.5\n4e8,2.4e18,3.1\n")
    df = read_runs(path, params_col="size", flops_col="compute", loss_col="val").runs
    # tokens = C / (6 N): 6e17 / 6e8 = 1e9
    np.testing.assert_allclose(df["tokens"], [1e9, 1e9])
    with pytest.raises(ScalingLabError, match="'nope'"):
        read_runs(path, params_col="nope", flops_col="compute", loss_col="val")


def test_flops_from_tokens_parquet_and_jsonl_agree(tmp_path):
    frame = pd.DataFrame({"params": [1e8, 2e8, 4e8], "tokens": [2e9, 4e9, 8e9], "loss": [3.3, 3.0, 2.8],
                          "run_id": ["a", "b", "c"]})
    pq = tmp_path / "runs.parquet"
    frame.to_parquet(pq)
    jl = tmp_path / "runs.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in frame.to_dict(orient="records")) + "\n")
    a, b = read_runs(pq).runs, read_runs(jl).runs
    for df in (a, b):
        np.testing.assert_allclose(df["flops"], 6 * frame["params"] * frame["tokens"])
        assert list(df["run_id"]) == ["a", "b", "c"]


def test_bad_rows_reported_by_line(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("params,tokens,loss\n1e8,2e9,3.3\n-5,2e9,3.1\n1e8,,3.0\n1e8,2e9,inf\n")
    with pytest.raises(ScalingLabError) as info:
        read_runs(path)
    msg = str(info.value)
    assert "3 invalid" in msg and "line 3" in msg and "line 4" in msg and "line 5" in msg
    assert "params = -5 is not positive" in msg and "tokens missing" in msg and "not finite" in msg
    kept = read_runs(path, on_invalid="drop")
    assert len(kept) == 1 and len(kept.notes) == 3 and kept.runs.attrs["line"] == [2]
    assert "line 3: params = -5 is not positive" in kept.notes[0]


def test_jsonl_errors_name_the_line(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text('{"params": 1e8, "tokens": 2e9, "loss": 3.3}\n\n{"params": 1e8, "tokens": 2e9, "loss": 0}\n')
    with pytest.raises(ScalingLabError, match=r"line 3: loss = 0 is not positive"):
        read_runs(path)
    path.write_text('{"params": 1e8, "tokens": 2e9, "loss": 3.3}\n{oops\n')
    with pytest.raises(ScalingLabError, match=r"runs.jsonl:2: malformed JSON line"):
        read_runs(path)


@pytest.mark.parametrize("text, match", [
    ("params,loss\n1e8,3.3\n", "need a tokens or a flops column"),
    ("tokens,loss\n1e8,3.3\n", "no params column"),
])
def test_missing_columns(tmp_path, text, match):
    path = tmp_path / "runs.csv"
    path.write_text(text)
    with pytest.raises(ScalingLabError, match=match):
        read_runs(path)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(ScalingLabError, match="not found"):
        read_runs(tmp_path / "missing.csv")
    odd = tmp_path / "runs.xlsx"
    odd.write_text("x")
    with pytest.raises(ScalingLabError, match="unknown format"):
        read_runs(odd)


def test_validate_runs_on_a_built_frame():
    df = pd.DataFrame({"params": [1e8, 1e8], "tokens": [1e9, np.nan], "flops": [6e17, 6e17], "loss": [3.0, 3.0]})
    with pytest.raises(ScalingLabError, match="row 2: tokens missing"):
        validate_runs(df)
    with pytest.raises(ScalingLabError, match="lacks column"):
        validate_runs(df.drop(columns="loss"))


def test_json_array(tmp_path):
    path = tmp_path / "runs.json"
    path.write_text(json.dumps([{"params": 1e8, "tokens": 2e9, "loss": 3.3}, {"params": 2e8, "tokens": 4e9, "loss": -1}]))
    with pytest.raises(ScalingLabError, match="record 2: loss = -1 is not positive"):
        read_runs(path)
    path.write_text('{"params": 1}')
    with pytest.raises(ScalingLabError, match="JSON array"):
        read_runs(path)


@pytest.mark.parametrize("steps", [
    np.array([0, 100, 200], dtype=np.int64),            # numpy integers
    pd.array([0, 100, 200], dtype="Int64"),              # pandas nullable integers
    pd.Series([0, 100, 200], dtype=object),              # Python ints (e.g. from JSON records)
])
def test_integer_steps_are_accepted(steps):
    df = pd.DataFrame({"params": [1e6] * 3, "tokens": [1e7, 2e7, 3e7], "flops": [6e13, 1.2e14, 1.8e14],
                       "loss": [3.0, 2.9, 2.8], "run_id": ["r"] * 3, "step": steps})
    out = validate_runs(df)
    assert list(out["step"]) == [0, 100, 200]
    bad = df.assign(step=pd.Series([0, -1, 200], dtype=object))
    with pytest.raises(ScalingLabError, match="row 2: step = -1.0 is not a non-negative number"):
        validate_runs(bad)


def test_integer_steps_from_jsonl(tmp_path):
    path = tmp_path / "curves.jsonl"
    path.write_text("".join(json.dumps({"run": "a", "N": 1e6, "D": d, "loss": loss, "step": s}) + "\n"
                            for s, d, loss in ((10, 1e6, 3.1), (20, 2e6, 3.0))))
    table = read_runs(path)
    df = table.curves
    assert list(df["step"]) == [10, 20] and list(df["tokens"]) == [1e6, 2e6]
    assert len(table) == 1 and table.runs["step"].tolist() == [20]


def test_read_runs_takes_a_tracker_store(tmp_path):
    # A W&B offline-run dir: read as loss curves, the step-0 evaluation (0 tokens) left out.
    runs = [(1e6, 2e7, [5.0, 3.5, 3.1]), (4e6, 8e7, [5.0, 3.2, 2.7]), (1.6e7, 3.2e8, [5.0, 3.0, 2.4])]
    write_wandb_offline(tmp_path / "wandb", runs)
    table = read_runs(tmp_path / "wandb")
    assert "wandb-offline" in table.source and "wandb-offline" in table.runs.attrs["source"]
    curves = table.curves
    assert len(curves) == 6 and curves["run_id"].nunique() == 3  # 2 logged points per run after step 0
    assert sum("step 0 with no tokens seen" in n for n in table.notes) == 3
    assert len(table) == 3
    last = table.runs.sort_values("params")
    np.testing.assert_allclose(last["params"], [1e6, 4e6, 1.6e7])
    np.testing.assert_allclose(last["tokens"], [2e7, 8e7, 3.2e8])
    np.testing.assert_allclose(last["loss"], [3.1, 2.7, 2.4])
    np.testing.assert_allclose(last["flops"], 6 * last["params"] * last["tokens"])
    # the curves' last points are the runs
    tail = curves.sort_values("tokens").groupby("run_id").tail(1).sort_values("params")
    np.testing.assert_allclose(tail["loss"], [3.1, 2.7, 2.4])


def test_read_runs_takes_a_sweep_folder_and_rejects_other_folders(tmp_path):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    pd.DataFrame({"run_id": ["a", "b"], "params": [1e6, 2e6], "tokens": [2e7, 4e7],
                  "flops": [1.2e14, 4.8e14], "loss": [3.0, 2.8], "wall_seconds": [1.0, 2.0]}
                 ).to_parquet(sweep / "runs.parquet")
    table = read_runs(sweep)
    assert list(table.runs["loss"]) == [3.0, 2.8] and table.source.endswith("runs.parquet")
    assert list(table.runs["wall_seconds"]) == [1.0, 2.0]  # the store's other columns are kept
    assert table.curves is None  # no curves.parquet
    with pytest.raises(ScalingLabError, match="no curves.parquet"):
        read_runs(sweep, curves=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScalingLabError, match="is a folder but not a TensorBoard log dir"):
        read_runs(tmp_path / "empty")


def test_plain_files_do_not_import_the_trackers():
    import subprocess
    import sys

    code = ("import sys, tempfile, pathlib; from scalinglab.io import read_runs; "
            "p = pathlib.Path(tempfile.mkdtemp()) / 'r.jsonl'; "
            "p.write_text('{\"N\": 1e6, \"D\": 1e7, \"loss\": 3}\\n'); read_runs(p); "
            "print(sorted(m for m in ('tensorboard', 'mlflow', 'yaml', 'scalinglab.sweep') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_step_zero_evaluations_are_skipped_and_listed(tmp_path):
    path = tmp_path / "curves.csv"
    path.write_text("run_id,params,tokens,loss,step\n"
                    "a,1e6,0,5.5,0\n" "a,1e6,1e7,3.0,10\n" "a,1e6,2e7,2.9,20\n"
                    "b,4e6,0,5.5,0\n" "b,4e6,1e7,2.8,10\n")
    table = read_runs(path)
    df = table.curves
    assert list(df["tokens"]) == [1e7, 2e7, 1e7] and list(df["step"]) == [10, 20, 10]
    assert df.attrs["line"] == [3, 4, 6]
    dropped = [n for n in table.notes if "step 0" in n]
    assert len(dropped) == 2 and "line 2: step 0 with no tokens seen" in dropped[0]
    # the runs are the last rows of the curves: a at step 20 (line 4), b at step 10 (line 6)
    assert list(table.runs["step"]) == [20, 10] and table.runs.attrs["line"] == [4, 6]
    assert "used the final row of each of 2 runs" in table.notes[-1]
    # zero tokens at a later step is still an error
    path.write_text("run_id,params,tokens,loss,step\na,1e6,0,5.5,5\na,1e6,1e7,3.0,10\n")
    with pytest.raises(ScalingLabError, match="line 2: tokens = 0 is not positive"):
        read_runs(path)
