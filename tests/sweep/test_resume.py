"""Crash safety with real training: SIGKILL a running sweep at a random point, then re-run it.

The sweep runs in a subprocess (two local workers, real ``train()`` on a small text corpus). It is
killed with SIGKILL after a random number of runs have finished plus a random delay. The re-run
must leave every planned run recorded exactly once, must not start a run that was finished at the
moment of the kill again (its ``attempts.log`` does not grow), and the killed sweep's workers must
not outlive it (they could otherwise keep training behind the re-run's back).
"""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from scalinglab.sweep.store import RunStore, unseal

SCRIPT = """
import sys
from scalinglab.sweep.design import isoflop_design
from scalinglab.sweep.hyperparams import HyperparameterRule
from scalinglab.sweep.runner import run_sweep

corpus, out = sys.argv[1], sys.argv[2]
design = isoflop_design([2e10, 4e10], sizes_per_budget=3, corpus=corpus, ctx=64,
                        rule=HyperparameterRule(min_steps=40), eval_tokens=1024, val_fraction=0.05)
outcome = run_sweep(design, out, executor="local", workers=2)
print(len(outcome.trained), len(outcome.skipped), flush=True)
"""


def _start(corpus, out):
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(corpus), str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _recorded(out: Path) -> list[str]:
    folder = out / "records"
    return [p.name.rsplit("-", 1)[0] for p in folder.glob("*.json")] if folder.is_dir() else []


def _attempt_pids(out: Path) -> dict[str, list[int]]:
    pids = {}
    for log in (out / "runs").glob("*/attempts.log"):
        pids[log.parent.name] = [int(w.split("=")[1]) for line in log.read_text().splitlines()
                                 for w in line.split() if w.startswith("pid=")]
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_sigkill_then_rerun_records_every_run_once_and_retrains_nothing(tmp_path, corpus):
    out = tmp_path / "sweep"
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng = random.Random(seed)
    planned = 6
    kill_after = rng.randint(1, planned - 2)  # finished runs before the kill...
    jitter = rng.uniform(0.0, 0.8)  # ...plus a random moment inside the next runs
    proc = _start(corpus, out)
    deadline = time.monotonic() + 180
    while len(_recorded(out)) < kill_after:
        assert proc.poll() is None, f"sweep ended early: {proc.communicate()}"
        assert time.monotonic() < deadline, "sweep too slow to reach the kill point"
        time.sleep(0.02)
    time.sleep(jitter)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    finished_at_kill = set(_recorded(out))
    pids = _attempt_pids(out)
    attempts_at_kill = {rid: len(p) for rid, p in pids.items()}
    # the killed sweep's workers die with it (PR_SET_PDEATHSIG), within a moment
    workers = {pid for p in pids.values() for pid in p}
    give_up = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < give_up:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers), f"orphaned workers (seed {seed})"

    rerun = _start(corpus, out)
    stdout, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr
    trained, skipped = map(int, stdout.split())
    assert skipped >= len(finished_at_kill) and trained + skipped == planned

    store = RunStore(out)
    status = store.status()
    assert (status.planned, status.finished, status.unfinished) == (planned, planned, 0)
    assert (status.duplicates, status.corrupt) == (0, [])
    names = _recorded(out)
    assert sorted(names) == sorted(set(names)) and len(names) == planned  # each run exactly once
    for rid in finished_at_kill:
        assert store.attempts(rid) == attempts_at_kill[rid] == 1, f"{rid} retrained (seed {seed})"
    for path in store.records_dir.glob("*.json"):
        record = unseal(path, "scalinglab.run/1")
        assert record["attempts"] == store.attempts(record["run_id"])
    assert len(store.run_table()) == planned
