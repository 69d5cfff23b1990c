"""The sweep half of the Python API as a notebook or script uses it (user-level review findings).

What is checked and against what:
- design arguments take any whole number (``np.int64(5)``, ``5.0``) and refuse ``4.5``; sizes and
  budgets are checked up front (positive, finite) and one number is a one-element list;
- ``read_runs`` takes a DataFrame (same aliasing, options and validation as a file) and names
  options as the Python keyword and the CLI flag;
- a script that calls ``run_sweep`` without the ``__main__`` guard gets one clear error;
- designs, planned runs, training results and reports print in one short line;
- ``read_runs(sweep, curves=True)`` gives Approach 1 its learning curves;
- budgets the IsoFLOP fit would merge are refused; ladder sizes far from every shape are refused
  and sizes merged onto one shape are warned about;
- a report of too few runs to fit shows the runs and says how many the fit needs.

Nothing here trains: runs are stand-ins that report the loss Hoffmann et al. 2022 Eq. 10 gives.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

from scalinglab.errors import ScalingLabError
from scalinglab.io import read_runs
from scalinglab.laws.registry import get_law
from scalinglab.sweep.design import PlannedRun, SweepDesign, isoflop_design, ladder_design
from scalinglab.sweep.runner import make_executor, run_sweep
from standins import SerialExecutor

LAW = get_law("hoffmann2022")


def law_run(task):
    """A stand-in run: Eq. 10's loss at the run's N and D, with an eval curve (step 0 included)."""
    from scalinglab.train.config import TrainConfig

    cfg = task["config"]
    n = TrainConfig.from_dict(cfg).shape().total_params
    per_step = cfg["batch_size"] * cfg["ctx"]
    steps = cfg["tokens"] // per_step
    evals = sorted({*range(steps // 5, steps, max(1, steps // 5)), steps})
    curve = [{"step": 0, "tokens": 0, "loss": 5.5}] + [
        {"step": s, "tokens": s * per_step, "loss": float(LAW.predict(n, s * per_step)),
         "train_loss": float(LAW.predict(n, s * per_step)) + 0.01}
        for s in evals]
    loss = float(LAW.predict(n, cfg["tokens"]))
    return {"loss": loss, "best_loss": loss, "tokens": cfg["tokens"], "curve": curve}




@pytest.fixture(scope="module")
def grid_sweep(tmp_path_factory):
    """10 finished stand-in runs: two budgets, five sizes each, centred on Eq. 10's optimum."""
    design = isoflop_design([1e11, 1e12], sizes_per_budget=5, prior_law="hoffmann2022", check_corpus=False)
    folder = tmp_path_factory.mktemp("grid")
    run_sweep(design, folder, executor=SerialExecutor(), run_fn=law_run)
    return folder, design


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    """2 finished stand-in runs: fewer than the Chinchilla fit's 6."""
    design = ladder_design([4000], multiples=(5, 10), ctx=32, check_corpus=False)
    folder = tmp_path_factory.mktemp("small")
    run_sweep(design, folder, executor=SerialExecutor(), run_fn=law_run)
    return folder


# ----- 1. whole numbers of any type -----------------------------------------------------------
@pytest.mark.parametrize("count", [np.int64(5), 5.0, np.float64(5.0), np.int32(5), "5"])
def test_sizes_per_budget_takes_any_whole_number(count):
    # "5" is read as the CLI and a sweep file read it (scalinglab.core.numbers.whole_number).
    design = isoflop_design([1e11], sizes_per_budget=count, check_corpus=False)
    assert len(design.runs) == 5
    assert design.design_id == isoflop_design([1e11], sizes_per_budget=5, check_corpus=False).design_id
    assert type(design.settings["sizes_per_budget"]) is int


@pytest.mark.parametrize("count", [4.5, True, "4.5", "five", np.nan])
def test_sizes_per_budget_refuses_what_is_not_whole(count):
    with pytest.raises(ScalingLabError, match=r"sizes_per_budget: (must be a whole number|cannot read)"):
        isoflop_design([1e11], sizes_per_budget=count, check_corpus=False)


def test_every_integer_setting_takes_numpy_and_float_spellings():
    plain = isoflop_design([1e11], ctx=64, seed=1, eval_tokens=8192, check_corpus=False)
    spelled = isoflop_design([1e11], ctx=np.int64(64), seed=1.0, eval_tokens=np.float64(8192),
                             val_fraction=np.float64(0.01), check_corpus=False)
    assert spelled.design_id == plain.design_id
    ladder = ladder_design([1e4], ctx=np.int64(64), seed=np.int16(1), eval_tokens=8192.0, check_corpus=False)
    assert ladder.design_id == ladder_design([1e4], ctx=64, seed=1, eval_tokens=8192, check_corpus=False).design_id
    with pytest.raises(ScalingLabError, match=r"ctx: must be a whole number, got 64.5"):
        ladder_design([1e4], ctx=64.5, check_corpus=False)


# ----- 2. sizes and budgets checked up front; one number is a list ------------------------------
@pytest.mark.parametrize("bad", [np.inf, np.nan, -1e4, 0.0])
def test_ladder_sizes_must_be_positive_and_finite(bad):
    with pytest.raises(ScalingLabError, match=r"^sizes: must be positive and finite, got .* at index 1"):
        ladder_design([1e4, bad], check_corpus=False)


@pytest.mark.parametrize("bad", [np.inf, np.nan, -1e11])
def test_isoflop_budgets_must_be_positive_and_finite(bad):
    with pytest.raises(ScalingLabError, match=r"^budgets: .*positive"):
        isoflop_design([1e11, bad], check_corpus=False)


def test_ladder_multiples_must_be_positive_and_finite():
    with pytest.raises(ScalingLabError, match=r"^multiples: must be positive and finite, got nan at index 1"):
        ladder_design([1e4], multiples=(5, np.nan), check_corpus=False)


def test_one_number_is_a_one_element_list():
    assert isoflop_design(1e11, check_corpus=False).design_id == isoflop_design([1e11], check_corpus=False).design_id
    assert isoflop_design(np.float64(1e11), check_corpus=False).budgets == [1e11]
    assert isoflop_design(np.array([1e11, 1e12]), check_corpus=False).budgets == [1e11, 1e12]
    assert ladder_design(1e4, check_corpus=False).design_id == ladder_design([1e4], check_corpus=False).design_id
    assert ladder_design(1e4, multiples=20, check_corpus=False).settings["multiples"] == [20.0]
    assert isoflop_design("1e11", check_corpus=False).budgets == [1e11]  # read as the CLI reads it


# ----- 3. a DataFrame is a runs table ------------------------------------------------------------
def _runs_frame():
    rows = []
    for c in (1e18, 1e19):
        for f in (0.25, 1, 4):
            n = LAW.optimum(c).params * f
            rows.append({"Model Size": n, "Training Tokens": c / (6 * n), "Val Loss": float(LAW.predict(n, c / (6 * n))),
                         "Run Name": f"r{len(rows)}"})
    return pd.DataFrame(rows)


def test_read_runs_takes_a_dataframe_like_a_file(tmp_path):
    frame = _runs_frame()
    path = tmp_path / "runs.csv"
    frame.to_csv(path, index=False)
    from_frame, from_file = read_runs(frame).runs, read_runs(path).runs
    assert list(from_frame.columns) == list(from_file.columns) == ["params", "tokens", "flops", "loss", "run_id"]
    np.testing.assert_allclose(from_frame[["params", "tokens", "flops", "loss"]].to_numpy(),
                               from_file[["params", "tokens", "flops", "loss"]].to_numpy(), rtol=1e-12)
    assert from_frame.attrs["source"] == "DataFrame"


def test_read_runs_dataframe_honours_the_column_options():
    frame = _runs_frame().rename(columns={"Model Size": "size", "Val Loss": "metric"})
    runs = read_runs(frame, params_col="size", loss_col="metric").runs
    assert runs["params"].tolist() == frame["size"].tolist()
    assert runs["loss"].tolist() == frame["metric"].tolist()


def test_read_runs_dataframe_is_validated_and_names_the_index_label():
    frame = _runs_frame().set_index(pd.Index([10, 11, 12, 13, 14, 15]))
    frame.loc[13, "Val Loss"] = np.nan
    with pytest.raises(ScalingLabError, match=r"DataFrame index 13: loss missing"):
        read_runs(frame)
    kept = read_runs(frame, on_invalid="drop")
    assert len(kept) == 5 and "DataFrame index 13" in kept.notes[0]


@pytest.mark.parametrize("bad", [42, [1, 2, 3], {"params": [1]}, None])
def test_read_runs_refuses_other_types_clearly(bad):
    with pytest.raises(ScalingLabError, match=r"^read_runs: expected a path .* or a pandas DataFrame, got"):
        read_runs(bad)


# ----- 4. errors name the Python keyword (and the CLI flag) -------------------------------------
def test_read_runs_errors_name_the_keyword_and_the_flag():
    with pytest.raises(ScalingLabError, match=r"params_col= \(--params-col\)"):
        read_runs(pd.DataFrame({"x": [1.0], "loss": [3.0], "tokens": [1e9]}))
    with pytest.raises(ScalingLabError, match=r"tokens_col= \(--tokens-col\) or flops_col= \(--flops-col\)"):
        read_runs(pd.DataFrame({"params": [1e6], "loss": [3.0]}))
    with pytest.raises(ScalingLabError, match=r"column 'nope' \(given by loss_col= \(--loss-col\)\) not found"):
        read_runs(pd.DataFrame({"params": [1e6], "loss": [3.0], "tokens": [1e9]}), loss_col="nope")


def test_executor_errors_name_the_keyword():
    with pytest.raises(ScalingLabError, match=r"^workers= \(--workers\): must be a whole number"):
        make_executor("local", workers=0)
    with pytest.raises(ScalingLabError, match=r"address= \(--address\) is for the Ray executor; use executor='ray'"):
        make_executor("local", address="ray://x:1")


# ----- 5. the __main__ guard --------------------------------------------------------------------
def test_run_sweep_docstring_shows_the_main_guard():
    doc = inspect.getdoc(run_sweep)
    assert 'if __name__ == "__main__":' in doc and "run_sweep(design" in doc


def test_unguarded_script_gets_one_clear_error(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(f"""
        import scalinglab as sl

        def stand_in(task):
            return {{"loss": 3.0}}

        design = sl.ladder_design([4000], multiples=(5,), ctx=32, check_corpus=False)
        sl.run_sweep(design, {str(tmp_path / "out")!r}, run_fn=stand_in, workers=1, threads=1)
        print("finished")
    """))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240,
                            cwd=tmp_path)
    last = result.stderr.strip().splitlines()[-1]
    assert result.returncode != 0 and "finished" not in result.stdout
    assert last.startswith("scalinglab.errors.ScalingLabError: run_sweep was called again inside a worker")
    assert 'if __name__ == "__main__":' in last
    assert "worker process died 3 times" not in result.stdout + result.stderr
    assert not (tmp_path / "out" / "failures").exists()  # nothing ran, so no run is marked failed


# ----- 6. short reprs ---------------------------------------------------------------------------
def test_design_and_run_reprs_are_one_short_line():
    design = isoflop_design([1e11, 3e11], check_corpus=False)
    text = repr(design)
    assert len(text) < 300 and "\n" not in text
    assert "kind='isoflop'" in text and "runs=10" in text and "budgets=[1e+11, 3e+11]" in text
    assert f"total_flops={design.total_flops:.3g}" in text
    run = design.runs[0]
    assert len(repr(run)) < 300 and run.run_id in repr(run) and f"params={run.params:,}" in repr(run)
    ladder = repr(ladder_design([1e4, 3e4], check_corpus=False))
    assert "kind='ladder'" in ladder and "runs=8" in ladder and "multiples=[5, 10, 20, 40]" in ladder
    # the data is all still there
    assert isinstance(run, PlannedRun) and run.as_dict()["config"] == run.config
    assert set(design.as_dict()) == {"design_id", "kind", "settings", "notes", "total_flops", "runs"}
    table = design._repr_html_()
    assert table.count("<tr>") == 11 and run.run_id in table


def _train_result(**changes):
    from scalinglab.train.config import TrainConfig
    from scalinglab.train.trainer import TrainResult

    fields = dict(
        config=TrainConfig(n_layer=1, d_model=32, n_head=1, ctx=32).to_dict(), params=20_000,
        non_embedding_params=12_000, tokens=1_000_000, steps=400, flops=1.2e11,
        flops_by_convention={"chinchilla": 1.2e11, "6N": 1.0e11}, loss=2.345678, best_loss=2.3,
        bits_per_byte=3.3842, unigram_entropy=4.5, tokens_per_s=123_456.7, achieved_flops_per_s=1e10,
        peak_flops_per_s=1e11, peak_source="measured", mfu=0.1234, wall_seconds=12.3,
        train_seconds=10.0, device="cpu", device_name="a cpu", dtype="fp32", threads=1,
        resumed_from_step=0,
        curve=[{"step": s, "tokens": s * 2500, "flops": s * 3e8, "loss": 3.0, "train_loss": 3.1}
               for s in range(0, 401, 4)])
    fields.update(changes)
    return TrainResult(**fields)


def test_train_result_repr_is_short_and_as_dict_unchanged():
    result = _train_result()
    text = repr(result)
    assert len(text) < 300 and "\n" not in text
    for part in ("params=20,000", "tokens=1,000,000", "loss=2.3457", "bits_per_byte=3.3842",
                 "tokens_per_s=123,457", "mfu=12.34%", "curve=101 points"):
        assert part in text, part
    assert "n/a" in repr(_train_result(mfu=None, bits_per_byte=None))
    out = result.as_dict()
    assert out["curve"] == result.curve and out["config"] == result.config
    assert out["flops_6N"] == 1.0e11 and out["flops_convention"] == "chinchilla"


def test_train_result_documents_train_loss_as_a_mean():
    from scalinglab.train.trainer import TrainResult

    assert "mean training loss over the optimizer steps since the previous evaluation" in \
        " ".join(inspect.getdoc(TrainResult).replace("*", "").split())


def test_report_repr_is_short():
    from scalinglab.report import Report

    body = "<h2>Fitted parameters</h2>" + "x" * 500_000 + "<h2>Data</h2>"
    report = Report(html=body, figures={"loss_vs_params": b"png"}, summary={"output": "r.html", "n_runs": 7})
    text = repr(report)
    assert len(text) < 300 and "output='r.html'" in text and "runs=7" in text
    assert "sections=['Fitted parameters', 'Data']" in text and report.html == body


# ----- 7. learning curves of a sweep --------------------------------------------------------------
def test_read_runs_gives_a_sweeps_learning_curves(grid_sweep):
    from scalinglab.fit.envelope import EnvelopeFit

    folder, design = grid_sweep
    final = read_runs(folder).runs
    table = read_runs(folder, curves=True)
    curves = table.curves
    assert len(final) == 10
    assert {"params", "tokens", "flops", "loss", "run_id", "step"} <= set(curves.columns)
    assert curves["run_id"].nunique() == 10 and len(curves) > 4 * 10
    # the step-0 evaluation (no tokens seen) is skipped and said so, never fitted on a log axis
    assert (curves["step"] > 0).all() and len(curves.attrs["dropped"]) == 10
    assert sum("step 0 with no tokens seen" in n for n in table.notes) == 10
    sizes = dict(zip(final["run_id"], final["params"], strict=True))
    assert all(sizes[r] == p for r, p in zip(curves["run_id"], curves["params"], strict=True))
    # the last point of every curve is the run itself
    last = curves.sort_values("step").groupby("run_id").tail(1).set_index("run_id")
    for run in design.runs:
        assert last.loc[run.run_id, "tokens"] == run.tokens
        assert last.loc[run.run_id, "flops"] == pytest.approx(run.flops, rel=1e-12)
    fit = EnvelopeFit(n_bootstrap=10).fit(curves)
    assert 0.2 < fit.a_ < 0.8


def test_a_sweeps_curve_file_points_to_curves_true(grid_sweep):
    folder, _ = grid_sweep
    with pytest.raises(ScalingLabError, match=r"curves=True"):
        read_runs(folder / "curves.parquet")


# ----- 8. budgets the fit would merge, sizes the family misses ----------------------------------
def test_budgets_the_isoflop_fit_would_merge_are_refused():
    with pytest.raises(ScalingLabError, match=r"budgets 1e\+11 and 1.02e\+11 differ by less than 5%"):
        isoflop_design([1e11, 1.02e11], check_corpus=False)
    assert len(isoflop_design([1e11, 1.2e11], check_corpus=False).budgets) == 2


def test_ladder_sizes_on_one_shape_are_warned_about():
    with pytest.warns(UserWarning, match=r"sizes 1e\+04, 1.01e\+04 all map to the same shape"):
        design = ladder_design([1e4, 1.01e4], check_corpus=False)
    assert len(design.runs) == 4 and "same shape" in design.notes[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ladder_design([1e4, 3e4], check_corpus=False)  # distinct shapes: nothing to say


@pytest.mark.parametrize("size", [1e12, 1.0])
def test_ladder_size_far_from_every_shape_is_refused(size):
    with pytest.raises(ScalingLabError, match=r"no shape of the family is within 2x of .* the family spans"):
        ladder_design([size], check_corpus=False)


# ----- 9. a report of too few runs ----------------------------------------------------------------
def test_report_of_too_few_runs_shows_them_and_says_what_is_needed(small_sweep, tmp_path):
    from scalinglab.report import MIN_FIT_RUNS, write_report

    out = tmp_path / "r.html"
    report = write_report(small_sweep, out)
    assert out.read_text(encoding="utf-8") == report.html
    s = report.summary
    assert s["fitted"] is False and s["n_runs"] == 2 and s["min_runs"] == MIN_FIT_RUNS == 6
    assert "2 run(s)" in s["notes"][0] and "at least 6 runs" in s["notes"][0]
    assert set(s["figures"]) == {"loss_vs_params", "training_curves"} and s["output"] == str(out)
    for run_id in read_runs(small_sweep).runs["run_id"]:
        assert run_id in report.html
    assert "Too few runs to fit" in report.html and "not fitted" in repr(report)


def test_write_report_docstring_says_what_it_takes_and_writes():
    from scalinglab.report import write_report

    doc = " ".join(inspect.getdoc(write_report).split())
    for part in ("sweep folder", "runs file", "RunTable", "Returns", "self-contained HTML", "Raises"):
        assert part in doc, part


def test_design_reprs_keep_dataclass_fields():
    # the concise repr replaces the printing only: the classes are still plain dataclasses
    import dataclasses

    assert [f.name for f in dataclasses.fields(SweepDesign)] == ["kind", "runs", "settings", "notes"]


def test_report_command_on_too_few_runs_says_so_without_a_traceback(small_sweep, tmp_path, capsys):
    from scalinglab.cli import main

    code = main(["report", str(small_sweep), "-o", str(tmp_path / "r.html")])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert "no law fitted: 2 runs, a fit needs at least 6" in " ".join(out.split())
