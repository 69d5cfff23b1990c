"""The same tiny sweep through ``--executor local`` and ``--executor ray`` gives the same run table.

Ray runs as a private local instance with 2 CPUs, listening on loopback only (127.0.0.1, no
dashboard), and is shut down at the end. Each run uses one torch thread under both executors, and
on CPU a seeded run is bitwise reproducible, so the losses must agree exactly, not approximately.
"""

import pytest

from scalinglab.sweep.design import isoflop_design
from scalinglab.sweep.hyperparams import HyperparameterRule
from scalinglab.sweep.runner import run_sweep
from scalinglab.sweep.store import RunStore

ray = pytest.importorskip("ray")


def test_local_and_ray_give_the_same_run_table(tmp_path, corpus):
    design = isoflop_design([3e9, 6e9], sizes_per_budget=3, corpus=str(corpus), ctx=64,
                            rule=HyperparameterRule(min_steps=40), eval_tokens=1024,
                            val_fraction=0.05)
    local = run_sweep(design, tmp_path / "local", executor="local", workers=2, threads=1)
    assert ray.is_initialized() is False
    remote = run_sweep(design, tmp_path / "ray", executor="ray", workers=2, threads=1)
    assert not ray.is_initialized()  # the local Ray it started is shut down
    assert local.failed == {} and remote.failed == {}
    assert (local.executor, remote.executor) == ("local", "ray")

    a = RunStore(tmp_path / "local").run_table().sort_values("run_id").reset_index(drop=True)
    b = RunStore(tmp_path / "ray").run_table().sort_values("run_id").reset_index(drop=True)
    assert len(a) == len(b) == len(design.runs)
    assert list(a["run_id"]) == list(b["run_id"])
    assert list(a["config"]) == list(b["config"])
    assert list(a["loss"]) == list(b["loss"])  # bitwise: same seeds, same threads, same CPU
    assert list(a["best_loss"]) == list(b["best_loss"])
    curves_a = RunStore(tmp_path / "local").curves().sort_values(["run_id", "step"])
    curves_b = RunStore(tmp_path / "ray").curves().sort_values(["run_id", "step"])
    assert list(curves_a["loss"]) == list(curves_b["loss"])


def test_local_ray_listens_on_loopback_only(tmp_path):
    import copy
    import ipaddress

    import psutil

    from scalinglab.sweep.ray_exec import RayExecutor

    seen = {}

    def on_done(task, result, error):
        if seen:
            return
        family = {psutil.Process().pid} | {p.pid for p in psutil.Process().children(recursive=True)}
        seen["listening"] = [(c.pid, c.laddr.ip) for c in psutil.net_connections(kind="inet")
                             if c.status == "LISTEN" and c.pid in family]
        seen["result"], seen["error"] = result, error

    # copy.copy is an importable run function that returns its task: enough to start real workers
    RayExecutor(num_cpus=2).execute([{"run_id": "x", "config": {}, "out_dir": str(tmp_path)}],
                                    copy.copy, on_done)
    assert seen["error"] is None and seen["result"]["run_id"] == "x"
    assert seen["listening"], "no Ray sockets found"
    for pid, ip in seen["listening"]:
        address = ipaddress.ip_address(ip)
        if address.version == 6 and address.ipv4_mapped:
            address = address.ipv4_mapped
        assert address.is_loopback, f"process {pid} listens on {ip}"
    assert not ray.is_initialized()


def test_ray_retries_a_run_whose_worker_died(tmp_path):
    import sys

    from scalinglab.sweep.ray_exec import RayExecutor

    # Ray workers cannot import this test module: ship its functions by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    seen = []
    RayExecutor(num_cpus=2).execute([{"run_id": "r", "config": {}, "out_dir": str(tmp_path)}],
                                    die_once, lambda task, result, error: seen.append((result, error)))
    assert len(seen) == 1
    result, error = seen[0]
    assert error is None and result["loss"] == 2.0
    assert (tmp_path / "died-once").exists()  # the first attempt really died


def die_once(task):
    """Kill its own worker process on the first attempt (as an out-of-memory kill would)."""
    import os
    from pathlib import Path

    marker = Path(task["out_dir"]) / "died-once"
    if not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("x")
        os._exit(1)
    return {"loss": 2.0}
