"""Stand-ins shared by the tests: an executor that runs tasks in this process, in order, and
W&B offline-run folders written without the wandb package."""


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


def write_wandb_offline(root, runs):
    """W&B offline-run folders (files/config.yaml + files/wandb-history.jsonl), no wandb needed.

    ``runs``: ``(params, tokens, losses)`` per run; the losses are logged at evenly spaced steps
    from 0 to 100.
    """
    import json

    import numpy as np

    for i, (n, d, losses) in enumerate(runs):
        files = root / f"offline-run-20240101_00000{i}-run{i}" / "files"
        files.mkdir(parents=True)
        files.joinpath("config.yaml").write_text(f"params:\n  value: {n}\ntokens:\n  value: {d}\n")
        steps = np.linspace(0, 100, len(losses)).astype(int)
        files.joinpath("wandb-history.jsonl").write_text(
            "".join(json.dumps({"_step": int(s), "loss": v}) + "\n" for s, v in zip(steps, losses, strict=True)))
