"""Stand-ins shared by the sweep tests: an executor that runs tasks in this process, in order."""


class SerialExecutor:
    """Runs tasks in this process, in order: what an executor must do, without processes.

    Parameters
    ----------
    fail_ids : iterable of str
        Run IDs reported as failed (``"RuntimeError: boom"``) instead of run.
    """

    name = "serial"

    def __init__(self, fail_ids=()):
        self.calls = []
        self.fail_ids = set(fail_ids)

    def execute(self, tasks, fn, on_done):
        for task in tasks:
            self.calls.append(task["run_id"])
            if task["run_id"] in self.fail_ids:
                on_done(task, None, "RuntimeError: boom")
            else:
                on_done(task, fn(dict(task, threads=task.get("threads") or 1)), None)
