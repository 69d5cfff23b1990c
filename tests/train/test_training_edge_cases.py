"""QA fixes for ``train`` and ``sweep``: mistakes refused up front, in one line, before any work.

- ``train`` estimates a run's duration before it starts and refuses one over a week unless
  ``--force``; a token count beyond a 64-bit integer is refused outright.
- ``sweep --dry-run`` reports the folder conflict the real run would refuse on.
- ``sweep`` refuses options that only the other kind of sweep reads.
- the trainer checks its output folder before it loads the corpus.
"""

import json

import pytest

from clihelp import run as run_cli
from scalinglab.errors import ScalingLabError
from scalinglab.sweep.design import isoflop_design
from scalinglab.sweep.runner import run_sweep
from standins import SerialExecutor

# A 1-layer, 32-wide byte model on 32-token contexts: the smallest run the CLI can describe.
TINY_ARGS = ["--layers", "1", "--d-model", "32", "--ctx", "32", "--batch-size", "8",
             "--eval-tokens", "1024", "--device", "cpu", "--threads", "1"]


class TrainingStarted(Exception):
    """Raised by the stand-in trainer: the command got past its checks and began training."""


@pytest.fixture
def no_training(monkeypatch, tmp_path):
    """Replace the trainer (which the command imports when it runs) and fix the CPU peak at
    100 GFLOP/s, so the estimate is deterministic and nothing really trains."""
    pytest.importorskip("torch")
    from scalinglab.train import trainer
    from scalinglab.train.peak import Peak

    def refuse_to_train(*args, **kwargs):
        raise TrainingStarted

    monkeypatch.setenv("SCALINGLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(trainer, "train", refuse_to_train)
    monkeypatch.setattr(trainer, "device_peak", lambda device, dtype, threads=None: Peak(1e11, "test"))
    return trainer


# ----- 1. train: duration estimate and token ceiling --------------------------------------------
def test_train_refuses_a_run_estimated_over_a_week(no_training, corpus, capsys):
    code, out, err = run_cli(capsys, "train", *TINY_ARGS, "--corpus", str(corpus), "--tokens", "1e15",
                             "--json")
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert "years" in err and "7 days" in err and "--tokens" in err and "--force" in err


def test_train_force_starts_a_long_run(no_training, corpus, capsys):
    with pytest.raises(TrainingStarted):
        run_cli(capsys, "train", *TINY_ARGS, "--corpus", str(corpus), "--tokens", "1e15", "--force",
                "--json")


def test_resuming_a_long_run_needs_no_force(no_training, corpus, capsys, tmp_path):
    # A folder with a checkpoint holds a run that was started (and checked, or forced) before.
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"")
    with pytest.raises(TrainingStarted):
        run_cli(capsys, "train", *TINY_ARGS, "--corpus", str(corpus), "--tokens", "1e15", "--out", str(out),
                "--json")
    # Without the checkpoint the same command is refused.
    (out / "checkpoint.pt").unlink()
    code, _, err = run_cli(capsys, "train", *TINY_ARGS, "--corpus", str(corpus), "--tokens", "1e15",
                           "--out", str(out), "--json")
    assert code == 2 and "--force" in err


def test_train_refuses_a_token_count_beyond_64_bits(no_training, corpus, capsys):
    code, out, err = run_cli(capsys, "train", *TINY_ARGS, "--corpus", str(corpus), "--tokens", "1e30",
                             "--json")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "64-bit" in err


def test_config_token_ceiling_is_the_largest_int64():
    from scalinglab.train.config import TrainConfig

    assert TrainConfig(tokens=2**63 - 1).steps == (2**63 - 1) // (16 * 256)
    with pytest.raises(ScalingLabError, match="64-bit"):
        TrainConfig(tokens=2**63)


@pytest.mark.parametrize("device, share", [("cpu", 0.5), ("cuda", 0.4)])
def test_estimate_is_flops_over_a_share_of_the_peak(no_training, device, share):
    from scalinglab.train.config import TrainConfig

    config = TrainConfig(n_layer=1, d_model=32, n_head=1, ctx=32, batch_size=8, tokens=10_000,
                         device="cpu", threads=1)
    seconds, rate = no_training.estimate_seconds(config, device)
    assert rate == pytest.approx(share * 1e11)
    flops = config.trained_tokens * config.shape().flops_per_token("chinchilla")
    assert seconds == pytest.approx(flops / rate)


def test_no_estimate_without_a_known_peak(no_training, monkeypatch):
    from scalinglab.train.config import TrainConfig
    from scalinglab.train.peak import Peak

    # A GPU missing from the hardware catalog has no peak: no estimate, so no refusal.
    monkeypatch.setattr(no_training, "device_peak", lambda *args: Peak(None, "unknown GPU"))
    config = TrainConfig(n_layer=1, d_model=32, n_head=1, ctx=32, batch_size=8, tokens=10**15)
    assert no_training.estimate_seconds(config, "cuda") == (None, None)


# ----- 2. sweep --dry-run on a folder holding another design --------------------------------------
def fake_run(task):
    loss = 2.0 + 10.0 / task["config"]["d_model"]
    return {"loss": loss, "best_loss": loss, "tokens": task["config"]["tokens"], "curve": []}




@pytest.fixture
def existing_sweep(tmp_path):
    """A folder holding a finished IsoFLOP sweep of budgets 1e11 and 3e11 (3 sizes each)."""
    design = isoflop_design([1e11, 3e11], sizes_per_budget=3, check_corpus=False)
    run_sweep(design, tmp_path / "sweep", executor=SerialExecutor(), run_fn=fake_run)
    return tmp_path / "sweep"


def test_dry_run_refuses_a_folder_holding_another_design(existing_sweep, capsys):
    before = (existing_sweep / "sweep.json").read_bytes()
    code, out, err = run_cli(capsys, "sweep", "--budgets", "1e11,1e12", "--sizes-per-budget", "3",
                             "--out", str(existing_sweep), "--dry-run", "--json")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "different sweep" in err
    assert (existing_sweep / "sweep.json").read_bytes() == before


def test_dry_run_accepts_the_folder_of_its_own_design(existing_sweep, capsys):
    code, out, err = run_cli(capsys, "sweep", "--budgets", "1e11,3e11", "--sizes-per-budget", "3",
                             "--out", str(existing_sweep), "--dry-run", "--json")
    assert code == 0, err
    assert json.loads(out)["design"]["runs"] == 6


def test_dry_run_refuses_a_file_as_the_folder(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("not a sweep\n")
    code, out, err = run_cli(capsys, "sweep", "--budgets", "1e11,3e11", "--sizes-per-budget", "3",
                             "--out", str(path), "--dry-run", "--json")
    assert code == 2 and out == "" and err.count("\n") == 1 and "is a file" in err


# ----- 3. sweep options of the other kind ------------------------------------------------------------
@pytest.mark.parametrize("args, flag, owner", [
    (["--budgets", "1e11", "--sizes", "1e5"], "--sizes", "ladder"),
    (["--kind", "isoflop", "--budgets", "1e11", "--multiples", "5,10"], "--multiples", "ladder"),
    (["--kind", "ladder", "--sizes", "3e4", "--budgets", "1e11"], "--budgets", "isoflop"),
    (["--kind", "ladder", "--sizes", "3e4", "--sizes-per-budget", "4"], "--sizes-per-budget", "isoflop"),
    (["--kind", "ladder", "--sizes", "3e4", "--span", "2"], "--span", "isoflop"),
    (["--kind", "ladder", "--sizes", "3e4", "--prior-law", "hoffmann2022"], "--prior-law", "isoflop"),
])
def test_sweep_refuses_options_of_the_other_kind(tmp_path, capsys, args, flag, owner):
    code, out, err = run_cli(capsys, "sweep", *args, "--out", str(tmp_path / "s"), "--dry-run", "--json")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"{flag} applies only to {owner} sweeps" in err


def test_sweep_file_setting_of_the_other_kind_is_refused(tmp_path, capsys):
    config = tmp_path / "ladder.toml"
    config.write_text('kind = "ladder"\nsizes = [3e4]\nbudgets = [1e11]\n')
    code, out, err = run_cli(capsys, "sweep", str(config), "--dry-run", "--json")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "budgets (in " in err and "isoflop" in err


def test_ladder_options_are_accepted_on_a_ladder(capsys, tmp_path):
    code, out, err = run_cli(capsys, "sweep", "--kind", "ladder", "--sizes", "3e4", "--multiples", "5,10",
                             "--out", str(tmp_path / "s"), "--dry-run", "--json")
    assert code == 0, err
    assert json.loads(out)["design"]["runs"] == 2


# ----- 4. the trainer checks its output folder first --------------------------------------------------
@pytest.mark.parametrize("below, message", [("", "is a file"), ("sub", "cannot create")])
def test_trainer_checks_out_dir_before_loading_the_corpus(monkeypatch, tmp_path, below, message):
    pytest.importorskip("torch")
    from scalinglab.train import trainer
    from scalinglab.train.config import TrainConfig

    def no_corpus(*args, **kwargs):
        raise AssertionError("the corpus was loaded before out_dir was checked")

    monkeypatch.setattr(trainer, "load_tokens", no_corpus)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    config = TrainConfig(n_layer=1, d_model=32, n_head=1, ctx=32, batch_size=8, tokens=8_000,
                         device="cpu", threads=1)
    with pytest.raises(ScalingLabError, match=message):
        trainer.train(config, out_dir=blocker / below if below else blocker)
