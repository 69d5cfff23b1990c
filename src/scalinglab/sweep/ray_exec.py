"""The Ray executor: the same run function, fanned out as Ray tasks on a local Ray or a cluster.

``address=None`` starts a private local Ray that listens on loopback only (127.0.0.1, no
dashboard) and is shut down afterwards; an address (``"auto"``, ``"ray://host:10001"``,
``"host:6379"``) joins an existing cluster and leaves it running. Each run asks for
``cpus_per_run`` CPUs and, where the cluster has GPUs, one GPU (none when every run is pinned to
``device="cpu"``); Ray retries a task whose worker
process died (``max_retries``) but not one that raised, since a training error would only recur.

Results come back to the driver, which writes them into the store, so workers need no access to
the sweep folder for results. Checkpoint resume after a crash needs the run folders on a file
system the workers share (always true for a local Ray).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from scalinglab.errors import ScalingLabError
from scalinglab.sweep.local import available_cores, error_line

#: Ray's switch for multi-node clusters; "0" makes a local Ray use (and bind to) loopback only.
_LOCAL_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


class RayExecutor:
    """Run tasks as Ray tasks and report each as it finishes.

    Parameters
    ----------
    address : str, optional
        An existing cluster to join; ``None`` starts a local Ray on loopback.
    num_cpus : int, optional
        CPUs of the local Ray (defaults to this machine's cores); ignored with ``address``.
    cpus_per_run : int
        CPUs each run asks for; it is also the run's torch thread count.
    gpus_per_run : float, optional
        GPUs each run asks for; ``None`` means one where the cluster has any, else none.
    max_retries : int
        Ray retries of a task whose worker process died.
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 cpus_per_run: int = 1, gpus_per_run: float | None = None, max_retries: int = 2):
        self.address = address
        self.num_cpus = num_cpus
        self.cpus_per_run = cpus_per_run
        self.gpus_per_run = gpus_per_run
        self.max_retries = max_retries
        self._saved_env = None

    def _start(self):
        if not self.address:
            # Ray >= 2.x turns a node IP of 127.0.0.1 into the machine's routable address and binds
            # its gRPC servers to all interfaces, unless clusters are switched off (the mode Ray
            # uses on laptops): then every server, GCS included, listens on 127.0.0.1 only.
            # Checked with `ss -ltn` on Ray 2.60 (benchmarks/results/sweep.md).
            self._saved_env = os.environ.get(_LOCAL_ONLY_ENV)
            os.environ[_LOCAL_ONLY_ENV] = "0"
        try:
            import ray
        except ImportError as exc:
            raise ScalingLabError("the Ray executor needs Ray: pip install 'scalinglab[ray]'") from exc
        if ray.is_initialized():
            return ray, False
        if not self.address:
            from ray._private import ray_constants

            ray_constants.ENABLE_RAY_CLUSTER = False  # read at call time; the env is read at import
        common = {"include_dashboard": False, "log_to_driver": False,
                  "configure_logging": True, "logging_level": "WARNING"}
        try:
            if self.address:
                ray.init(address=self.address, **{k: v for k, v in common.items()
                                                  if k != "include_dashboard"})
            else:
                ray.init(num_cpus=self.num_cpus or available_cores(),
                         _node_ip_address="127.0.0.1", **common)
        except ConnectionError as exc:
            self._restore_env()
            raise ScalingLabError(f"cannot reach the Ray cluster at {self.address!r}: {exc}") from exc
        return ray, True

    def execute(self, tasks: list[dict], fn: Callable[[dict], dict],
                on_done: Callable[[dict, dict | None, str | None], None]) -> None:
        """Run ``fn(task)`` for every task as a Ray task; ``on_done(task, result, error)`` per run."""
        if not tasks:
            return
        ray, started = self._start()
        try:
            gpus = self.gpus_per_run
            if gpus is None:
                # A GPU per run where the cluster has them, unless every run is pinned to the CPU.
                from scalinglab.sweep.local import task_devices

                cpu_only = task_devices(tasks) == {"cpu"}
                gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 and not cpu_only else 0
            remote = ray.remote(fn).options(num_cpus=self.cpus_per_run, num_gpus=gpus,
                                            max_retries=self.max_retries, retry_exceptions=False)
            refs = {}
            for task in tasks:
                task = dict(task, threads=task.get("threads") or self.cpus_per_run)
                refs[remote.remote(task)] = task
            pending = list(refs)
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    task = refs[ref]
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayTaskError as exc:
                        cause = exc.cause if getattr(exc, "cause", None) is not None else exc
                        on_done(task, None, error_line(cause))
                        continue
                    except ray.exceptions.RayError as exc:  # worker died beyond its retries
                        on_done(task, None, error_line(exc))
                        continue
                    on_done(task, result, None)
        finally:
            if started:
                ray.shutdown()
            self._restore_env()

    def _restore_env(self) -> None:
        if not self.address:
            from ray._private import ray_constants

            if self._saved_env is None:
                os.environ.pop(_LOCAL_ONLY_ENV, None)
            else:
                os.environ[_LOCAL_ONLY_ENV] = self._saved_env
            ray_constants.ENABLE_RAY_CLUSTER = ray_constants.env_bool(
                _LOCAL_ONLY_ENV, not ray_constants.IS_WINDOWS_OR_OSX)
