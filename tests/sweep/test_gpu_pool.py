"""The local pool on a GPU machine: one worker per GPU, each pinned to its own device.

No GPU is needed: the runs are stand-ins that report the ``CUDA_VISIBLE_DEVICES`` their worker
was given, and the executor is told which devices exist.
"""

import os
import time

import pytest

from scalinglab.errors import ScalingLabError
from scalinglab.sweep.local import LocalExecutor, visible_gpus, wants_cuda


def report_device(task):
    """Stand-in run (module level, so a spawned worker can import it): which GPU and process."""
    time.sleep(0.2)  # long enough that both workers of the pool take runs
    return {"device": os.environ.get("CUDA_VISIBLE_DEVICES"), "pid": os.getpid(), "threads": task["threads"]}


def _tasks(n, device):
    return [{"run_id": f"r{i}", "config": {"device": device}, "out_dir": "unused"} for i in range(n)]


def test_cuda_runs_get_one_worker_per_gpu_each_pinned():
    seen = []
    LocalExecutor(gpus=["0", "1"]).execute(_tasks(6, "cuda"), report_device,
                                           lambda task, result, error: seen.append((result, error)))
    assert all(error is None for _, error in seen) and len(seen) == 6
    by_pid = {}
    for result, _ in seen:
        by_pid.setdefault(result["pid"], set()).add(result["device"])
    # Two workers (one per GPU), each always on the same device, the two devices distinct.
    assert len(by_pid) == 2
    assert all(len(devices) == 1 for devices in by_pid.values())
    assert set().union(*by_pid.values()) == {"0", "1"}


def test_cpu_runs_ignore_the_gpus():
    seen = []
    LocalExecutor(workers=1, gpus=["0", "1"]).execute(_tasks(2, "cpu"), report_device,
                                                      lambda task, result, error: seen.append(result))
    assert {result["device"] for result in seen} == {os.environ.get("CUDA_VISIBLE_DEVICES")}


def test_plan_sizes_the_pool_to_the_gpus():
    assert LocalExecutor().plan(10, gpus=4)[0] == 4
    assert LocalExecutor().plan(2, gpus=4)[0] == 2  # never more workers than runs
    assert LocalExecutor(workers=2).plan(10, gpus=4)[0] == 2
    with pytest.raises(ScalingLabError, match="one worker per GPU"):
        LocalExecutor(workers=3).plan(10, gpus=2)


def test_auto_device_uses_cuda_only_when_a_gpu_is_there():
    assert wants_cuda(_tasks(1, "auto"), ["0"])
    assert not wants_cuda(_tasks(1, "auto"), [])
    assert wants_cuda(_tasks(1, "cuda"), [])
    assert not wants_cuda(_tasks(1, "cpu"), ["0"])


def test_cuda_runs_without_a_gpu_are_refused_before_any_worker_starts():
    with pytest.raises(ScalingLabError, match="no CUDA GPU is visible"):
        LocalExecutor(gpus=[]).execute(_tasks(1, "cuda"), report_device, lambda *a: None)


def test_visible_gpus_reads_cuda_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 5")
    assert visible_gpus() == ["2", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert visible_gpus() == []
