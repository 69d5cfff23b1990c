"""Reading runs from trackers, as ratios to references measured in the same run.

200 runs x 50 logged steps each are written once with each tracker's own library (TensorBoard via
``torch.utils.tensorboard``, an MLflow file store via ``mlflow``), as W&B offline run folders and
as one long CSV. Then, best of 3:

- ``read_tensorboard``, ``read_mlflow`` (the file store parsed directly), ``read_wandb_offline``
  against ``pandas.read_csv`` of the same curves (the floor: one file, no per-run work);
- ``read_mlflow`` against MLflow's own ``MlflowClient`` listing the same runs and fetching every
  loss history (what a reader built on the client would do).

Run: ``.venv/bin/python benchmarks/trackers_read.py``
"""

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import best_of

from scalinglab.io import read_mlflow, read_tensorboard, read_wandb_offline

N_RUNS, N_STEPS = 200, 50


def write_all(root: Path):
    import mlflow
    from torch.utils.tensorboard import SummaryWriter

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    mlflow.set_tracking_uri((root / "mlruns").as_uri())
    mlflow.set_experiment("bench")
    rng = np.random.default_rng(0)
    rows = []
    for i in range(N_RUNS):
        params, tokens = float(rng.integers(1e6, 1e9)), float(rng.integers(1e8, 1e11))
        steps = np.arange(1, N_STEPS + 1) * 100
        loss = 2.0 + 3.0 / np.sqrt(steps)
        rid = f"run{i:03d}"
        writer = SummaryWriter(str(root / "tb" / rid))
        writer.add_scalar("params", params, 0)
        for s, v in zip(steps, loss, strict=True):
            writer.add_scalar("loss", v, int(s))
            writer.add_scalar("tokens", tokens * s / steps[-1], int(s))
        writer.close()
        with mlflow.start_run(run_name=rid):
            mlflow.log_params({"params": params, "tokens": tokens})
            for s, v in zip(steps, loss, strict=True):
                mlflow.log_metric("loss", float(v), step=int(s))
        run_dir = root / "wandb" / f"offline-run-20240101_000000-{rid}"
        (run_dir / "files").mkdir(parents=True)
        (run_dir / "files" / "config.yaml").write_text(
            f"params:\n  value: {params}\ntokens:\n  value: {tokens}\n")
        (run_dir / "files" / "wandb-history.jsonl").write_text(
            "\n".join(json.dumps({"_step": int(s), "loss": float(v)}) for s, v in zip(steps, loss, strict=True)))
        rows += [{"run_id": rid, "step": int(s), "params": params, "tokens": tokens * s / steps[-1],
                  "loss": float(v)} for s, v in zip(steps, loss, strict=True)]
    pd.DataFrame(rows).to_csv(root / "curves.csv", index=False)
    mlflow.set_tracking_uri("")


def mlflow_client_read(store: Path):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(store.as_uri())
    ids = [e.experiment_id for e in client.search_experiments()]
    for run in client.search_runs(ids, max_results=50_000):
        client.get_metric_history(run.info.run_id, "loss")


def main():
    root = Path(tempfile.mkdtemp(prefix="bench-trackers-"))
    start = time.perf_counter()
    write_all(root)
    print(f"wrote {N_RUNS} runs x {N_STEPS} steps with each tracker in {time.perf_counter() - start:.1f} s")
    csv = best_of(lambda: pd.read_csv(root / "curves.csv"), repeat=3)
    print(f"reference  pandas.read_csv of the same curves        {csv * 1e3:8.1f} ms")
    for name, fn in (("read_tensorboard", lambda: read_tensorboard(root / "tb")),
                     ("read_mlflow (file store)", lambda: read_mlflow(root / "mlruns")),
                     ("read_wandb_offline", lambda: read_wandb_offline(root / "wandb"))):
        t = best_of(fn, repeat=3)
        print(f"{name:<27} {t * 1e3:8.1f} ms   {t / csv:6.1f}x the CSV read")
    ours = best_of(lambda: read_mlflow(root / "mlruns"), repeat=3)
    client = best_of(lambda: mlflow_client_read(root / "mlruns"), repeat=3)
    print(f"MlflowClient, same store   {client * 1e3:8.1f} ms   read_mlflow is {client / ours:.1f}x faster")


if __name__ == "__main__":
    main()
