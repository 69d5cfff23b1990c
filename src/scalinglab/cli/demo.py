"""``scalinglab demo``: the main job, end to end, on the embedded default corpus in minutes on a CPU.

1. Design a small IsoFLOP sweep (:data:`DEMO_BUDGETS`, full FLOPs) on the default corpus.
2. Train it on the CPU with the local executor into ``--out`` (a re-run skips finished runs).
3. Fit the law (Approaches 1-3), check the extrapolation (fit on the smaller budgets, predict the
   largest budget's runs beside their measured loss), and plan a user budget under the fitted law
   beside Hoffmann's and Epoch's; write the HTML report to ``OUT/report.html``.
4. End with the worked plan of :func:`scalinglab.plan.worked.worked_plan`: what each published law
   says to train with 1e24 FLOPs on 2,048 H100s, and what that costs.
"""

from __future__ import annotations

import typer

from scalinglab.cli.app import JSON_OPTION, app, console, emit, number

#: IsoFLOP budgets of the demo in full FLOPs (Hoffmann 2022 App. F convention): one decade on a
#: quarter-decade grid. The largest is held out of the extrapolation fit, which the four smaller
#: ones make (a 1.78x step instead of 3.3x with 1e11, 3e11, 1e12: mean |error| 2.83% vs 3.49%,
#: max 3.83% vs 6.33%). Sized so that training takes about two minutes on 2 CPU cores
#: (benchmarks/results/sweep.md).
DEMO_BUDGETS = (1e11, 1.78e11, 3.16e11, 5.62e11, 1e12)

#: Model sizes per budget, spanning one decade around 80 bytes per parameter.
DEMO_SIZES_PER_BUDGET = 5

#: The "user budget" the demo plans for: 1e15 FLOPs, about three hours of this 2-core CPU at the
#: ~1e11 FLOP/s the demo's runs achieve [C] (1,000x the largest budget the demo trains).
DEMO_TARGET = 1e15


def render_worked_plan(payload: dict) -> None:
    """The worked plan's table: each law's compute-optimal model, its loss under every law, cost."""
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


def demo_payload(out: str, target_compute: float, workers: int | None = None,
                 report: bool = True) -> dict:
    """Run the demo sweep into ``out`` and return the sweep payload plus the worked plan.

    With ``report``, the HTML report of the sweep is written to ``out/report.html``.
    """
    from pathlib import Path

    from scalinglab.cli.sweeping import run_payload
    from scalinglab.plan.worked import worked_plan
    from scalinglab.sweep.spec import merge_settings

    settings = merge_settings({"budgets": list(DEMO_BUDGETS), "sizes_per_budget": DEMO_SIZES_PER_BUDGET,
                               "device": "cpu",
                               "executor": "local", "out": out, "workers": workers,
                               "target_compute": target_compute, "holdout": 1})
    payload = run_payload(settings, progress=True,
                          report=str(Path(out) / "report.html") if report else None)
    held = (payload.get("extrapolation") or {}).get("runs", [])
    payload["held_out"] = held
    payload["predicted_loss"] = [r["predicted_loss"] for r in held]
    payload["actual_loss"] = [r["actual_loss"] for r in held]
    payload["worked_plan"] = worked_plan()
    return payload


@app.command()
def demo(
    out: str = typer.Option("demo-out", "--out", help="Folder of the demo sweep (re-runs resume)."),
    target_compute: str | None = typer.Option(None, "--target-compute",
                                                 help=f"Your budget in FLOPs to plan for (default: {DEMO_TARGET:g})."),
    workers: int | None = typer.Option(None, "--workers", help="Concurrent runs (default: one per core)."),
    report: bool = typer.Option(True, "--report/--no-report", help="Write OUT/report.html (figures, fit, plan)."),
    as_json: bool = JSON_OPTION,
):
    """The main job on the default corpus: a small IsoFLOP sweep on CPU, fit, predict and plan."""
    target = number(target_compute, "--target-compute") if target_compute else DEMO_TARGET
    payload = demo_payload(out, target, workers, report=report)

    def render():
        from scalinglab.cli.sweeping import render_run

        render_run(payload)
        console().rule("Worked plan: 1e24 FLOPs on 2,048 H100s")
        render_worked_plan(payload["worked_plan"])

    emit(payload, as_json, render)
