"""Regression tests for problems found by a QA pass over the command line (user mistakes that
gave a traceback, a silently wrong file name, conflicting options accepted, noise on stderr)."""

import json
import subprocess
import sys

import pytest

from scalinglab.cli import main
from scalinglab.errors import ScalingLabError


def _mistake(capsys, *argv):
    """Run ``argv`` (with and without --json): exit 2, one line on stderr, nothing on stdout."""
    for extra in ([], ["--json"]):
        code = main([*argv, *extra])
        captured = capsys.readouterr()
        assert code == 2, captured.err
        lines = captured.err.strip("\n").split("\n")
        assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
        assert "Traceback" not in captured.err and captured.out == ""
    return lines[0]


# ----- plan: params × tokens and --compute are two answers for one quantity ----------------------
def test_plan_params_tokens_and_compute_conflict(capsys):
    line = _mistake(capsys, "plan", "--params", "65B", "--tokens", "1.4T", "--compute", "1e24")
    assert "--compute" in line
    # each of the two valid forms still works
    assert main(["plan", "--params", "65B", "--compute", "1e24", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == pytest.approx(1e24 / (6 * 65e9))
    assert main(["plan", "--params", "65B", "--tokens", "1.4T", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["flops"] == pytest.approx(6 * 65e9 * 1.4e12)


# ----- --plot: a folder, no extension or an unknown one (matplotlib added .png or raised) --------
@pytest.mark.parametrize("name", ["", "figure", "figure.txt", "missing/figure.png"])
def test_explain_gap_plot_bad_path(capsys, tmp_path, name):
    path = tmp_path / name if name else tmp_path
    _mistake(capsys, "explain-gap", "--plot", str(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written anywhere
    assert not (tmp_path.parent / (tmp_path.name + ".png")).exists()


def _runs_csv(tmp_path):
    rows = ["params,tokens,loss"]
    for n in (1e6, 3e6, 1e7, 3e7):
        for d in (2e7, 1e8, 5e8):
            rows.append(f"{n},{d},{1.8 + 400 / n ** 0.34 + 400 / d ** 0.28}")
    path = tmp_path / "runs.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("name", ["", "fit", "fit.txt", "missing/fit.png"])
def test_fit_plot_bad_path(capsys, tmp_path, name):
    runs = _runs_csv(tmp_path)
    path = tmp_path / name if name else tmp_path
    _mistake(capsys, "fit", str(runs), "--plot", str(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.csv"]


def test_fit_plot_good_path(capsys, tmp_path):
    runs = _runs_csv(tmp_path)
    assert main(["fit", str(runs), "--plot", str(tmp_path / "fit.svg"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["plot"] == str(tmp_path / "fit.svg")
    assert (tmp_path / "fit.svg").stat().st_size > 0


# ----- train: checks before the progress bar, the tokenising and the allocation -------------------
TRAIN = ["train", "--params", "20K", "--tokens", "300K", "--threads", "1"]


def test_train_out_is_a_file(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert "--out" in _mistake(capsys, *TRAIN, "--out", str(blocker))


def test_train_out_cannot_be_created(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert "--out" in _mistake(capsys, *TRAIN, "--out", str(blocker / "run"))


def test_train_short_corpus_prints_no_progress_bar(capsys, tmp_path):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("too short for one context")
    assert "shorter than one context" in _mistake(capsys, *TRAIN, "--corpus", str(corpus))


def test_train_model_too_large_for_memory(capsys):
    # 200B total parameters is the shape rule's largest model (~2.3e11): 16 bytes a parameter of
    # weights, gradients and Adam state is ~3.7 TB.
    assert "too large" in _mistake(capsys, *TRAIN[:2], "200B", *TRAIN[3:], "--device", "cpu")
    # beyond the rule's largest shape, the size itself is refused before anything else
    assert "no shape of the family is within 2x" in _mistake(capsys, *TRAIN[:2], "1e30", *TRAIN[3:])


# ----- sweep and demo: bad folders and counts fail at once, as one line ---------------------------
SWEEP = ["sweep", "--budgets", "3e10,6e10", "--sizes-per-budget", "3"]


def test_sweep_out_is_a_file(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _mistake(capsys, *SWEEP, "--out", str(blocker))
    _mistake(capsys, *SWEEP, "--out", str(blocker / "sweep"))
    assert blocker.read_text() == "x"


@pytest.mark.parametrize(("option", "value"), [("--workers", "0"), ("--holdout", "-1")])
def test_sweep_bad_counts(capsys, tmp_path, option, value):
    assert option in _mistake(capsys, *SWEEP, "--out", str(tmp_path / "s"), option, value, "--dry-run")


def test_sweep_report_is_a_folder_fails_before_training(capsys, tmp_path):
    assert "--report" in _mistake(capsys, *SWEEP, "--out", str(tmp_path / "s"), "--report", str(tmp_path))
    assert not (tmp_path / "s").exists()


def test_demo_workers_zero(capsys, tmp_path):
    assert "--workers" in _mistake(capsys, "demo", "--out", str(tmp_path / "d"), "--workers", "0")
    assert not (tmp_path / "d" / "records").exists()  # nothing trained


def test_make_executor_rejects_zero_workers():
    from scalinglab.sweep.runner import make_executor

    for bad in (0, -1, 1.5):
        with pytest.raises(ScalingLabError):
            make_executor("local", workers=bad)
    assert make_executor("local", workers=1).workers == 1


def test_store_lock_on_a_file_is_a_user_mistake(tmp_path):
    from scalinglab.sweep.store import RunStore

    blocker = tmp_path / "file"
    blocker.write_text("x")
    for folder in (blocker, blocker / "sub"):
        with pytest.raises(ScalingLabError):
            with RunStore(folder).lock():
                pass


# ----- emergence --fit: scipy's covariance warning is not printed --------------------------------
def test_emergence_fit_keeps_stderr_clean(capsys, tmp_path):
    path = tmp_path / "acc.csv"
    path.write_text("loss,accuracy\n2.5,0.3\n2.2,0.5\n2.0,0.6\n3.0,0.26\n")
    # in a real process: pytest would capture the warning itself and hide the bug
    code = "import sys; from scalinglab.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run([sys.executable, "-c", code, "emergence", "--fit", str(path), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["fit"]["n_points"] == 4
    assert result.stderr == ""


def test_plan_params_disagreeing_with_shape(capsys):
    # 7B stated, but 80 x 8192 holds ~65B: FLOPs came from the shape, memory from --params.
    line = _mistake(capsys, "plan", "--params", "7B", "--tokens", "1T", "--layers", "80", "--d-model", "8192")
    assert "disagrees" in line
    assert main(["plan", "--params", "65B", "--tokens", "1.4T", "--layers", "80", "--d-model", "8192",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["params"] == 65e9 and out["memory_per_gpu"]["activations_bytes"] > 0


# ----- fit --approach 1 on a sweep folder uses its eval curves, as `sweep` and `report` do ---------
def test_fit_approach1_reads_a_sweep_folders_curves(capsys, tmp_path):
    from scalinglab.laws.registry import get_law
    from scalinglab.sweep.analysis import analyze_sweep
    from scalinglab.sweep.design import isoflop_design
    from scalinglab.sweep.runner import run_sweep
    from scalinglab.train.config import TrainConfig

    law = get_law("hoffmann2022")

    def law_run(task):
        cfg = task["config"]
        n = TrainConfig.from_dict(cfg).shape().total_params
        per_step = cfg["batch_size"] * cfg["ctx"]
        steps = cfg["tokens"] // per_step
        curve = [{"step": s, "tokens": s * per_step, "loss": float(law.predict(n, s * per_step))}
                 for s in range(steps // 5, steps + 1, max(1, steps // 5))]
        loss = float(law.predict(n, cfg["tokens"]))
        return {"loss": loss, "best_loss": loss, "tokens": cfg["tokens"], "curve": curve}

    class Serial:
        name = "serial"

        def execute(self, tasks, fn, on_done):
            for task in tasks:
                on_done(task, fn(task), None)

    design = isoflop_design([1e11, 3e11, 1e12], sizes_per_budget=3, prior_law="hoffmann2022",
                            check_corpus=False)
    run_sweep(design, tmp_path, executor=Serial(), run_fn=law_run)
    assert main(["fit", str(tmp_path), "--approach", "1", "--json"]) == 0
    fitted = json.loads(capsys.readouterr().out)
    expected = analyze_sweep(tmp_path, target_compute=1e15)["fits"]["approach1"]
    assert fitted["a"] == pytest.approx(expected["a"], rel=1e-9)


# ----- fit on degenerate runs (the loss does not fall): one line, not a traceback or NaN JSON -----
@pytest.mark.parametrize("form", ["chinchilla", "kaplan", "saturating"])
def test_fit_flat_losses_is_a_user_mistake(capsys, tmp_path, form):
    rows = ["params,tokens,loss"] + [f"{n},{d},3.0" for n in (1e6, 3e6, 1e7, 3e7) for d in (2e7, 1e8, 5e8)]
    path = tmp_path / "flat.csv"
    path.write_text("\n".join(rows) + "\n")
    assert "fit" in _mistake(capsys, "fit", str(path), "--form", form)


def test_train_checkpoint_every_needs_out(capsys):
    assert "--out" in _mistake(capsys, *TRAIN, "--checkpoint-every", "10")


def test_report_on_noise_has_one_line_on_stderr(tmp_path):
    import random

    rng = random.Random(1)
    rows = ["params,tokens,loss"] + [f"{n},{d},{rng.uniform(2, 4)}" for n in (1e6, 3e6, 1e7, 3e7)
                                     for d in (2e7, 1e8, 5e8)]
    path = tmp_path / "noise.csv"
    path.write_text("\n".join(rows) + "\n")
    code = "import sys; from scalinglab.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run([sys.executable, "-c", code, "report", str(path), "-o", str(tmp_path / "r.html"),
                             "--bootstrap", "0", "--json"], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr, result.stderr
    if result.returncode == 2:
        assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""
    else:
        assert result.returncode == 0 and json.loads(result.stdout)


def test_sigmoid_fit_needs_distinct_losses():
    # Four identical losses cannot determine a 4-parameter sigmoid (OLMo ladder step 2).
    from scalinglab.errors import ScalingLabError
    from scalinglab.laws.downstream import SigmoidAccuracyFit

    with pytest.raises(ScalingLabError, match="distinct"):
        SigmoidAccuracyFit().fit([2.0, 2.0, 2.0, 2.0], [0.3, 0.4, 0.5, 0.6])


def test_degenerate_law_has_no_finite_optimum_message():
    # beta -> 0 makes G = (alpha*A/(beta*B))**(1/(alpha+beta)) overflow: a clear error, not inf.
    from scalinglab.errors import ScalingLabError
    from scalinglab.laws.chinchilla import ParametricLaw

    law = ParametricLaw(E=1.0, A=400.0, B=400.0, alpha=0.3, beta=1e-300, name="collapsed")
    with pytest.raises(ScalingLabError, match="no finite compute-optimal allocation"):
        law.optimum(1e24)


def test_train_reports_the_requested_size(capsys):
    # --params (total parameters) picks depth, width and heads by the shape rule, so the trained
    # size differs from the request; the JSON says both (the shape is exactly what
    # TransformerShape counts, and the one the rule gives).
    import json

    from scalinglab.cli import main
    from scalinglab.core.architecture import TransformerShape
    from scalinglab.core.shapes import shape_for_params

    assert main(["train", "--params", "20K", "--tokens", "200K", "--eval-every", "0", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["requested_params"] == 20_000
    c = payload["config"]
    shape = TransformerShape(n_layer=c["n_layer"], d_model=c["d_model"], n_head=c["n_head"],
                             vocab=256, ctx=c["ctx"])
    assert payload["non_embedding_params"] == shape.non_embedding_params
    assert payload["params"] == shape.total_params == shape_for_params(20_000, vocab=256, ctx=c["ctx"]).total_params
