"""``scalinglab demo``: for now, the worked plan of :func:`scalinglab.plan.worked.worked_plan`.

What each published law says to train with 1e24 FLOPs on 2048 H100s at 40% MFU, the loss of each
such model under every law, and the GPU-hours, days and dollars of the run.
"""

from __future__ import annotations

from scalinglab.cli.app import JSON_OPTION, app, console, emit


@app.command()
def demo(as_json: bool = JSON_OPTION):
    """A worked plan: the compute-optimal model for 1e24 FLOPs under each law, and its cost."""
    from scalinglab.plan.worked import worked_plan

    payload = worked_plan()

    def render():
        from rich.table import Table

        from scalinglab.core.units import format_number as fmt

        laws = payload["laws"]
        table = Table(title=f"Compute-optimal models for C = {payload['flops']:.3g} FLOPs, "
                            "and their loss under each law (nats/token)")
        table.add_column("optimal under", overflow="fold")
        for column in ("params", "tokens", "D/N", *laws):
            table.add_column(column, justify="right", overflow="fold")
        for model in payload["models"]:
            table.add_row(model["law"], fmt(model["params"]), fmt(model["tokens"]),
                          f"{model['tokens_per_param']:.1f}",
                          *(f"{model['loss_by_law'][name]:.4f}" for name in laws))
        out = console()
        out.print(table)
        first = payload["models"][0]
        cost = "no default price" if first["cost_usd"] is None else f"${first['cost_usd']:,.0f}"
        out.print(f"On {payload['gpus']} x {payload['gpu']} at MFU {payload['mfu']:.0%}: "
                  f"{first['gpu_hours']:,.0f} GPU-hours, {first['wall_clock_days']:.1f} days, {cost}")
        for note in payload["notes"]:
            out.print(f"[dim]- {note}[/dim]")

    emit(payload, as_json, render)
