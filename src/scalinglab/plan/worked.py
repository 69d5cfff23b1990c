"""A worked plan: what each published law says to train with one budget, and what it costs.

``worked_plan(1e24, "H100", 2048)`` asks every law for its compute-optimal model at the budget,
scores each of those models under every law (so the disagreement between the laws is visible in
one table), and prices the run with :func:`scalinglab.plan.budget.train_plan`.

Every compute-optimal allocation spends the same C = 6·N·D, so under the 6N convention the
GPU-hours, days and dollars are the same for every law; what differs is the model you get, its
tokens per parameter (about 20 under Epoch's refit, about 100 under Hoffmann's rounded constants,
a few under Kaplan's) and the loss you should expect.
"""

from __future__ import annotations

from scalinglab.laws.registry import get_law
from scalinglab.plan.budget import DEFAULT_MFU, train_plan

#: The laws compared, in the order printed: Chinchilla's rounded and unrounded fits, Epoch's
#: replication, and Kaplan.
WORKED_LAWS = ("hoffmann2022", "hoffmann2022-unrounded", "epoch2024", "kaplan2020")


def worked_plan(compute: float = 1e24, gpu: str = "H100", gpus: int = 2048,
                mfu: float = DEFAULT_MFU, laws=WORKED_LAWS) -> dict:
    """The compute-optimal model for ``compute`` FLOPs under each law, its losses and its cost.

    Parameters
    ----------
    compute : float
        Training FLOPs C.
    gpu : str
        Accelerator name in the hardware catalog (``"H100"`` = H100-SXM).
    gpus : int
        Devices training in parallel.
    mfu : float
        Model-FLOPs utilisation in (0, 1].
    laws : sequence of str
        Registry names of the laws to compare.

    Returns
    -------
    dict
        ``flops``, ``gpu``, ``gpus``, ``mfu``, ``laws`` and ``models``: one entry per law with
        ``law``, ``params``, ``tokens``, ``tokens_per_param``, ``loss`` (under its own law),
        ``loss_by_law`` (the same model scored by every law), ``gpu_hours``,
        ``wall_clock_days``, ``cost_usd`` and the full ``plan``; and ``notes``.
    """
    chosen = [get_law(name) for name in laws]
    models = []
    for law in chosen:
        best = law.optimum(compute)
        plan = train_plan(best.params, best.tokens, gpu=gpu, gpus=gpus, mfu=mfu)
        models.append({
            "law": law.name,
            "source": law.source,
            "params": best.params,
            "tokens": best.tokens,
            "tokens_per_param": best.tokens_per_param,
            "loss": best.loss,
            "loss_by_law": {other.name: float(other.predict(best.params, best.tokens))
                            for other in chosen},
            "gpu_hours": plan.gpu_hours,
            "wall_clock_days": plan.wall_clock_days,
            "cost_usd": plan.cost_usd,
            "plan": plan.as_dict(),
        })
    notes = [
        "every allocation spends the same 6*N*D FLOPs, so time and cost agree across laws",
        "losses are nats/token on each law's own data (MassiveText for Hoffmann and Epoch, "
        "WebText2 for Kaplan); compare them within a row, not across laws",
    ]
    if any(law.name == "kaplan2020" for law in chosen):
        notes.append("kaplan2020 counts non-embedding parameters; the other laws count all of them")
    first = models[0]["plan"]
    return {
        "flops": float(compute),
        "gpu": first["gpu"],
        "gpus": first["gpus"],
        "mfu": first["mfu"],
        "laws": [law.name for law in chosen],
        "models": models,
        "notes": notes,
    }
