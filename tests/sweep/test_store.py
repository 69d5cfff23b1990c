"""The run store and the runner, with a stand-in run function (no training, so these are fast).

Checked: records are sealed and a half-written one is detected, not read (and its run trained
again); a damaged Parquet table is refused; one folder holds one sweep (lock and design check,
before anything runs); finished runs are skipped; failures are recorded and cleared; duplicates are
counted; the local process pool streams results and sizes each run's threads to the cores.
"""

import json
import os

import pytest

from scalinglab.errors import ScalingLabError
from scalinglab.sweep.design import isoflop_design
from scalinglab.sweep.local import LocalExecutor, available_cores
from scalinglab.sweep.runner import run_sweep
from scalinglab.sweep.store import CorruptFileError, RunStore, atomic_write_bytes, seal, unseal
from standins import SerialExecutor


def fake_run(task):
    """A run function that trains nothing: a deterministic loss from the config (module level, so
    a spawned worker can import it)."""
    cfg = task["config"]
    loss = 1.5 + 10.0 / cfg["d_model"] + 2e3 / cfg["tokens"] ** 0.5
    if cfg.get("seed") == 99:
        raise RuntimeError("stand-in failure")
    return {"loss": loss, "best_loss": loss, "tokens": cfg["tokens"], "wall_seconds": 0.0,
            "threads": task["threads"], "pid": os.getpid(),
            "curve": [{"step": 0, "tokens": 0, "loss": 5.5},
                      {"step": 10, "tokens": 10 * cfg["batch_size"] * cfg["ctx"], "loss": loss}]}




@pytest.fixture(scope="module")
def design():
    return isoflop_design([1e11, 3e11], sizes_per_budget=3, check_corpus=False)


def test_seal_round_trip_and_truncation_detected(tmp_path):
    path = tmp_path / "r.json"
    atomic_write_bytes(path, seal({"run_id": "x", "loss": 2.5}, "scalinglab.run/1"))
    assert unseal(path, "scalinglab.run/1") == {"run_id": "x", "loss": 2.5}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left behind
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a half-written file
    with pytest.raises(CorruptFileError, match="cut short"):
        unseal(path, "scalinglab.run/1")
    # complete JSON whose content was altered: the seal catches it
    envelope = json.loads(data)
    envelope["payload"]["loss"] = 1.0
    path.write_text(json.dumps(envelope))
    with pytest.raises(CorruptFileError, match="SHA-256"):
        unseal(path, "scalinglab.run/1")


def test_runs_are_recorded_once_and_skipped_on_rerun(tmp_path, design):
    first = SerialExecutor()
    outcome = run_sweep(design, tmp_path, executor=first, run_fn=fake_run)
    assert sorted(outcome.trained) == sorted(r.run_id for r in design.runs)
    status = RunStore(tmp_path).status()
    assert (status.planned, status.finished, status.unfinished, status.duplicates) == (6, 6, 0, 0)
    assert status.flops_done == pytest.approx(design.total_flops)
    second = SerialExecutor()
    again = run_sweep(design, tmp_path, executor=second, run_fn=fake_run)
    assert second.calls == [] and again.trained == [] and len(again.skipped) == 6
    table = RunStore(tmp_path).run_table()
    assert len(table) == 6 and table["run_id"].is_unique
    for run in design.runs:
        row = table[table.run_id == run.run_id].iloc[0]
        assert row["flops"] == pytest.approx(run.flops) and row["params"] == run.params
        assert row["flops_6N"] == pytest.approx(run.flops_by_convention["6N"])
        assert row["non_embedding_params"] == run.non_embedding_params
    curves = RunStore(tmp_path).curves()
    assert len(curves) == 12 and set(curves.columns) >= {"run_id", "step", "tokens", "flops", "loss"}


def test_half_written_record_is_detected_not_read_and_rerun(tmp_path, design):
    run_sweep(design, tmp_path, executor=SerialExecutor(), run_fn=fake_run)
    store = RunStore(tmp_path)
    victim = sorted(store.records_dir.glob("*.json"))[0]
    victim_id = unseal(victim, "scalinglab.run/1")["run_id"]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 3])
    status = store.status()
    assert status.corrupt == [f"records/{victim.name}"]
    assert status.finished == 5 and status.unfinished == 1
    records, _, corrupt = store.scan()
    assert victim_id not in records and len(corrupt) == 1
    rerun = SerialExecutor()
    outcome = run_sweep(design, tmp_path, executor=rerun, run_fn=fake_run)
    assert rerun.calls == [victim_id]
    assert outcome.quarantined == [f"records/{victim.name}"]
    assert (store.records_dir / "corrupt" / victim.name).exists()
    after = store.status()
    assert (after.finished, after.corrupt, after.duplicates) == (6, [], 0)


def test_damaged_parquet_table_is_refused_and_rebuilt(tmp_path, design):
    run_sweep(design, tmp_path, executor=SerialExecutor(), run_fn=fake_run)
    store = RunStore(tmp_path)
    data = store.table_path.read_bytes()
    store.table_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match="damaged Parquet"):
        store.run_table()
    store.rebuild_tables()
    assert len(store.run_table()) == 6


def test_one_folder_one_sweep(tmp_path, design):
    run_sweep(design, tmp_path, executor=SerialExecutor(), run_fn=fake_run)
    other = isoflop_design([1e11, 1e12], sizes_per_budget=3, check_corpus=False)
    executor = SerialExecutor()
    with pytest.raises(ScalingLabError, match="different sweep"):
        run_sweep(other, tmp_path, executor=executor, run_fn=fake_run)
    assert executor.calls == []  # refused before anything ran
    with RunStore(tmp_path).lock():
        with pytest.raises(ScalingLabError, match="in use by another running sweep"):
            run_sweep(design, tmp_path, executor=executor, run_fn=fake_run)
    run_sweep(design, tmp_path, executor=executor, run_fn=fake_run)  # leaving the block released it
    assert executor.calls == []


def test_failures_are_recorded_then_cleared(tmp_path, design):
    bad = design.runs[1].run_id
    outcome = run_sweep(design, tmp_path, executor=SerialExecutor(fail_ids=[bad]), run_fn=fake_run)
    assert outcome.failed == {bad: "RuntimeError: boom"}
    status = RunStore(tmp_path).status()
    assert (status.finished, status.failed, status.unfinished) == (5, 1, 1)
    assert status.failures == {bad: "RuntimeError: boom"}
    retry = SerialExecutor()
    run_sweep(design, tmp_path, executor=retry, run_fn=fake_run)
    assert retry.calls == [bad]
    status = RunStore(tmp_path).status()
    assert (status.finished, status.failed) == (6, 0)


def test_duplicate_records_are_counted(tmp_path, design):
    run_sweep(design, tmp_path, executor=SerialExecutor(), run_fn=fake_run)
    store = RunStore(tmp_path)
    records, _, _ = store.scan()
    store.write_record(next(iter(records.values())))
    status = store.status()
    assert status.duplicates == 1 and status.finished == 6


def test_local_pool_streams_results_with_threads_per_core(tmp_path, design):
    seen = []
    LocalExecutor(workers=2).execute(
        [{"run_id": r.run_id, "config": r.config, "out_dir": str(tmp_path / r.run_id)} for r in design.runs],
        fake_run, lambda task, result, error: seen.append((task["run_id"], result, error)))
    assert sorted(s[0] for s in seen) == sorted(r.run_id for r in design.runs)
    assert all(error is None for _, _, error in seen)
    assert {result["threads"] for _, result, _ in seen} == {max(1, available_cores() // 2)}
    assert os.getpid() not in {result["pid"] for _, result, _ in seen}  # ran in worker processes


def test_local_pool_reports_a_run_error_and_carries_on(tmp_path, design):
    tasks = [{"run_id": r.run_id, "config": r.config, "out_dir": str(tmp_path)} for r in design.runs[:2]]
    tasks[0]["config"] = dict(tasks[0]["config"], seed=99)
    seen = {}
    LocalExecutor(workers=1).execute(tasks, fake_run,
                                     lambda task, result, error: seen.update({task["run_id"]: error}))
    assert seen[tasks[0]["run_id"]] == "RuntimeError: stand-in failure"
    assert seen[tasks[1]["run_id"]] is None


def die_once(task):
    """Kill its own worker process on the first attempt (as an out-of-memory kill would)."""
    from pathlib import Path

    marker = Path(task["out_dir"]) / "died-once"
    if not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("x")
        os._exit(1)
    return {"loss": 2.0, "pid": os.getpid()}


def test_local_pool_retries_a_run_whose_worker_died(tmp_path):
    seen = []
    LocalExecutor(workers=1).execute([{"run_id": "r", "config": {}, "out_dir": str(tmp_path)}],
                                     die_once, lambda task, result, error: seen.append((result, error)))
    assert len(seen) == 1
    result, error = seen[0]
    assert error is None and result["loss"] == 2.0
    assert (tmp_path / "died-once").exists()  # the first attempt really died
