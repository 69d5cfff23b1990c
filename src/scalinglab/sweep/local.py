"""The local executor: a pool of processes on this machine, sized to its cores or its GPUs.

Each worker trains one run at a time with ``threads = cores // workers`` torch threads, so that
runs never fight over cores. When the runs train on CUDA (``device`` ``"cuda"``, or ``"auto"``
on a machine with a GPU), there is one worker per GPU instead, each pinned to its own device
through ``CUDA_VISIBLE_DEVICES``: runs sharing a GPU would slow each other and make every run's
throughput and MFU meaningless. Workers are started with ``spawn`` (no inherited torch state) and ask
the kernel to kill them when the sweep process dies (``PR_SET_PDEATHSIG``), so a sweep killed with
SIGKILL leaves no orphan that could keep training, or record a run, behind the re-run's back.
A worker that dies mid-run (out of memory, killed) breaks the pool; its runs are resubmitted to a
fresh pool up to ``max_retries`` times.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable


def available_cores() -> int:
    """Cores this process may use (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS
        return os.cpu_count() or 1


def _die_with_parent(parent_pid: int) -> None:
    """Pool initializer: ask Linux to SIGKILL this worker when its parent exits."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def visible_gpus() -> list[str]:
    """The CUDA devices this process may use, as ``CUDA_VISIBLE_DEVICES`` entries.

    ``CUDA_VISIBLE_DEVICES`` when it is set (it may name a subset, or UUIDs); otherwise torch's
    device count (importing torch here, in the sweep process, only when the runs may use CUDA).
    """
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [d.strip() for d in listed.split(",") if d.strip() and d.strip() != "-1"]
    try:
        import torch
    except ImportError:  # pragma: no cover - the train extra is missing
        return []
    return [str(i) for i in range(torch.cuda.device_count())]


def _worker_init(parent_pid: int, gpus: list[str] | None, counter) -> None:
    """Pool initializer: die with the parent; pin this worker to one GPU when the runs use CUDA.

    Runs before the worker imports torch (the task function's module loads it later), so the
    variable takes effect. Workers of one pool take consecutive counter values, hence distinct
    GPUs while there are no more workers than GPUs.
    """
    if gpus:
        with counter.get_lock():
            index = counter.value
            counter.value += 1
        os.environ["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)]
    _die_with_parent(parent_pid)


def task_devices(tasks: list[dict]) -> set[str]:
    """The ``device`` settings of the runs (``"auto"`` where a config does not say)."""
    return {str(task.get("config", {}).get("device", "auto")) for task in tasks}


def wants_cuda(tasks: list[dict], gpus: list[str]) -> bool:
    """Whether any run trains on CUDA: ``device`` ``"cuda"``, or ``"auto"`` with ``gpus`` present."""
    devices = task_devices(tasks)
    return "cuda" in devices or ("auto" in devices and bool(gpus))


def error_line(exc: BaseException) -> str:
    """One line saying what went wrong in a run (the exception type and message)."""
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0] if text else ''}".strip()


class LocalExecutor:
    """Run tasks in a local process pool and report each as it finishes.

    Parameters
    ----------
    workers : int, optional
        Concurrent runs; defaults to the number of cores, or of GPUs when the runs use CUDA (at
        most the number of tasks).
    threads : int, optional
        Torch threads per run; defaults to ``cores // workers`` (at least 1).
    max_retries : int
        Times a task whose worker process died is resubmitted.
    gpus : list of str, optional
        The CUDA devices to spread CUDA runs over (``CUDA_VISIBLE_DEVICES`` entries); by default
        those visible to this process (:func:`visible_gpus`).
    """

    name = "local"

    def __init__(self, workers: int | None = None, threads: int | None = None, max_retries: int = 2,
                 gpus: list[str] | None = None):
        self.workers = workers
        self.threads = threads
        self.max_retries = max_retries
        self.gpus = gpus

    def plan(self, n_tasks: int, gpus: int = 0) -> tuple[int, int]:
        """``(workers, threads per run)`` for ``n_tasks`` tasks on this machine.

        With ``gpus`` > 0 (CUDA runs) the default is one worker per GPU, and more workers than
        GPUs are refused: two runs on one GPU would each measure the other's load.
        """
        from scalinglab.errors import ScalingLabError

        cores = available_cores()
        if gpus and self.workers and self.workers > gpus:
            raise ScalingLabError(f"workers={self.workers} (--workers): the runs train on CUDA and {gpus} GPU(s) "
                                  f"are visible; use at most one worker per GPU")
        workers = max(1, min(self.workers or gpus or cores, max(n_tasks, 1)))
        threads = self.threads or max(1, cores // workers)
        return workers, threads

    def execute(self, tasks: list[dict], fn: Callable[[dict], dict],
                on_done: Callable[[dict, dict | None, str | None], None]) -> None:
        """Run ``fn(task)`` for every task; call ``on_done(task, result, error)`` as each finishes.

        ``error`` is one line (and ``result`` None) when the run raised or its worker died for
        good; the other runs carry on.
        """
        import multiprocessing as mp
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        if not tasks:
            return
        devices = task_devices(tasks)
        # torch is imported here (for its device count) only if some run may use CUDA at all
        available = [] if devices == {"cpu"} else self.gpus if self.gpus is not None else visible_gpus()
        gpus = available if wants_cuda(tasks, available) else []
        if "cuda" in devices and not gpus:
            from scalinglab.errors import ScalingLabError

            raise ScalingLabError("the runs ask for device 'cuda' but no CUDA GPU is visible")
        workers, threads = self.plan(len(tasks), gpus=len(gpus))
        queue = [dict(task, threads=task.get("threads") or threads) for task in tasks]
        retries: dict[str, int] = {}
        context = mp.get_context("spawn")
        counter = context.Value("i", 0)
        while queue:
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init,
                                       initargs=(os.getpid(), gpus, counter))
            broken: list[dict] = []
            try:
                futures = {pool.submit(fn, task): task for task in queue}
                queue = []
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        task = futures[future]
                        try:
                            result = future.result()
                        except BrokenProcessPool:
                            broken.append(task)
                            continue
                        except Exception as exc:  # a run's own error: record it, keep going
                            on_done(task, None, error_line(exc))
                            continue
                        on_done(task, result, None)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
            for task in broken:
                count = retries.get(task["run_id"], 0) + 1
                retries[task["run_id"]] = count
                if count > self.max_retries:
                    on_done(task, None, f"worker process died {count} times")
                else:
                    queue.append(task)
