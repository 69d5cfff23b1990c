"""``scalinglab sweep`` on the command line: one JSON object, and bad configs refused up front.

A bad config (a budget too small for one batch, an unknown corpus, a second sweep aimed at a
folder that holds another) must give exit code 2 and one line on stderr before any training
starts; ``sweep status`` counts finished, unfinished, failed and duplicate runs.
"""

import json

import pytest

from clihelp import run as run_cli
from scalinglab.sweep.design import isoflop_design
from scalinglab.sweep.runner import run_sweep
from scalinglab.sweep.store import RunStore
from standins import SerialExecutor


def fake_run(task):
    cfg = task["config"]
    loss = 1.5 + 10.0 / cfg["d_model"] + 2e3 / cfg["tokens"] ** 0.5
    return {"loss": loss, "best_loss": loss, "tokens": cfg["tokens"], "curve": []}




def test_status_counts_runs(tmp_path, capsys):
    design = isoflop_design([1e11, 3e11], sizes_per_budget=3, check_corpus=False)
    failed = design.runs[0].run_id
    run_sweep(design, tmp_path, executor=SerialExecutor(fail_ids=[failed]), run_fn=fake_run)
    store = RunStore(tmp_path)
    records, _, _ = store.scan()
    store.write_record(next(iter(records.values())))  # one duplicate record
    code, out, err = run_cli(capsys, "sweep", "status", str(tmp_path), "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert (payload["planned"], payload["finished"], payload["unfinished"]) == (6, 5, 1)
    assert (payload["failed"], payload["duplicates"], payload["corrupt"]) == (1, 1, 0)
    assert payload["failures"] == {failed: "RuntimeError: boom"}


def test_status_of_a_folder_without_a_sweep(tmp_path, capsys):
    code, out, err = run_cli(capsys, "sweep", "status", str(tmp_path), "--json")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "not a sweep folder" in err


@pytest.mark.parametrize("args, message", [
    (["--budgets", "1e6"], "too small"),
    (["--budgets", "1e11", "--corpus", "no-such-corpus-xyz"], "no-such-corpus-xyz"),
    (["--budgets", "1e11", "--sizes-per-budget", "2"], "at least 3"),
    (["--budgets", "1e11", "--executor", "slurm"], "executor 'slurm'"),
    (["--budgets", "lots"], "budgets"),
])
def test_bad_configs_fail_before_training(tmp_path, capsys, args, message):
    out_dir = tmp_path / "sweep"
    code, out, err = run_cli(capsys, "sweep", *args, "--out", str(out_dir), "--json")
    assert code == 2, err
    assert out == "" and err.count("\n") == 1 and message in err
    assert not (out_dir / "records").exists()  # nothing trained, nothing recorded


def test_a_second_sweep_cannot_share_a_folder(tmp_path, capsys):
    design = isoflop_design([1e11, 3e11], sizes_per_budget=3, check_corpus=False)
    run_sweep(design, tmp_path, executor=SerialExecutor(), run_fn=fake_run)
    before = sorted(p.name for p in (tmp_path / "records").iterdir())
    code, out, err = run_cli(capsys, "sweep", "--budgets", "1e11,1e12", "--sizes-per-budget", "3",
                             "--out", str(tmp_path), "--json")
    assert code == 2 and "different sweep" in err and err.count("\n") == 1
    assert sorted(p.name for p in (tmp_path / "records").iterdir()) == before


def test_dry_run_prints_the_design(tmp_path, capsys):
    code, out, err = run_cli(capsys, "sweep", "--budgets", "1e11,3e11", "--sizes-per-budget", "4",
                             "--dry-run", "--out", str(tmp_path / "s"), "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["design"]["runs"] == 8 == len(payload["runs"])
    assert payload["design"]["settings"]["convention"] == "chinchilla"
    assert all(r["steps"] >= 300 for r in payload["runs"])


def test_config_file_and_run_form(tmp_path, capsys):
    config = tmp_path / "sweep.toml"
    config.write_text('budgets = [1e11, 3e11]\nsizes_per_budget = 3\nctx = 128\n')
    code, out, err = run_cli(capsys, "sweep", "run", str(config), "--dry-run", "--json")
    assert code == 0, err
    assert json.loads(out)["design"]["runs"] == 6
    # options override the file
    code, out, err = run_cli(capsys, "sweep", str(config), "--sizes-per-budget", "4", "--dry-run", "--json")
    assert code == 0, err
    assert json.loads(out)["design"]["runs"] == 8
    config.write_text('budgets = [1e11]\nsize_per_budget = 3\n')
    code, out, err = run_cli(capsys, "sweep", str(config), "--dry-run", "--json")
    assert code == 2 and "size_per_budget" in err
