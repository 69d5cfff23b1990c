"""The local executor: a pool of processes on this machine, sized to its cores.

Each worker trains one run at a time with ``threads = cores // workers`` torch threads, so that
runs never fight over cores. Workers are started with ``spawn`` (no inherited torch state) and ask
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


def error_line(exc: BaseException) -> str:
    """One line saying what went wrong in a run (the exception type and message)."""
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0] if text else ''}".strip()


class LocalExecutor:
    """Run tasks in a local process pool and report each as it finishes.

    Parameters
    ----------
    workers : int, optional
        Concurrent runs; defaults to the number of cores (at most the number of tasks).
    threads : int, optional
        Torch threads per run; defaults to ``cores // workers`` (at least 1).
    max_retries : int
        Times a task whose worker process died is resubmitted.
    """

    name = "local"

    def __init__(self, workers: int | None = None, threads: int | None = None, max_retries: int = 2):
        self.workers = workers
        self.threads = threads
        self.max_retries = max_retries

    def plan(self, n_tasks: int) -> tuple[int, int]:
        """``(workers, threads per run)`` for ``n_tasks`` tasks on this machine."""
        cores = available_cores()
        workers = max(1, min(self.workers or cores, max(n_tasks, 1)))
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
        workers, threads = self.plan(len(tasks))
        queue = [dict(task, threads=task.get("threads") or threads) for task in tasks]
        retries: dict[str, int] = {}
        context = mp.get_context("spawn")
        while queue:
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                       initializer=_die_with_parent, initargs=(os.getpid(),))
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
