"""``scalinglab report RUNS -o report.html``: one self-contained HTML report of a set of runs.

RUNS is a sweep folder, a runs file that ``scalinglab fit`` reads (CSV, Parquet, JSONL), or runs
where a tracker keeps them: a TensorBoard log directory, an MLflow ``mlruns`` store or tracking
URI, a W&B runs-table CSV export or offline run directories. Matplotlib and the fit are imported
only when the command runs.
"""

from __future__ import annotations

import typer

from scalinglab.cli.app import JSON_OPTION, app, console, emit, fraction, number, price_per_hour


@app.command()
def report(
    runs: str = typer.Argument(..., help="Sweep folder, runs file, TensorBoard logdir, mlruns/URI or W&B export."),
    output: str = typer.Option("report.html", "--output", "-o", help="HTML file to write."),
    compute: str | None = typer.Option(None, "--compute", help="Target budget for the plan, FLOPs (default 100x the largest run)."),
    gpu: str = typer.Option("H100", "--gpu", help="Accelerator of the plan (see `scalinglab hardware`)."),
    gpus: str = typer.Option("8", "--gpus", help="Devices training the planned run in parallel."),
    mfu: str = typer.Option("0.40", "--mfu", help="Model-FLOPs utilisation of the plan."),
    price: str | None = typer.Option(None, "--price", help="USD per GPU-hour (default: the catalog's dated estimate)."),
    bootstrap: str = typer.Option("200", "--bootstrap", help="Bootstrap resamples for the intervals (0: none)."),
    seed: str = typer.Option("0", "--seed", help="Seed of the bootstrap resamples."),
    holdout: str = typer.Option("1", "--holdout", help="Largest compute budgets held out for the extrapolation check (0: none)."),
    drop_highest_loss: str = typer.Option("0", "--drop-highest-loss", help="Drop the K runs with the largest loss first (Epoch's rule for Chinchilla Fig. 4: 5)."),
    title: str | None = typer.Option(None, "--title", help="Report title."),
    as_json: bool = JSON_OPTION,
):
    """Fit, check and plan from RUNS and write one HTML file with figures that opens offline."""
    from scalinglab.report import ReportSettings, write_report

    settings = ReportSettings(
        compute=None if compute is None else number(compute, "--compute"),
        gpu=gpu,
        gpus=int(number(gpus, "--gpus", integer=True)),
        mfu=fraction(mfu, "--mfu"),
        price_per_gpu_hour=price_per_hour(price),
        bootstrap=int(number(bootstrap, "--bootstrap", integer=True, allow_zero=True)),
        seed=int(number(seed, "--seed", integer=True, allow_zero=True)),
        holdout=int(number(holdout, "--holdout", integer=True, allow_zero=True)),
        drop_highest_loss=int(number(drop_highest_loss, "--drop-highest-loss", integer=True, allow_zero=True)),
        title=title,
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow in a degenerate law: not a message
        result = write_report(runs, output, settings)
    payload = result.summary

    def render():
        out = console()
        out.print(f"[bold]wrote[/bold] {payload['output']} ({len(payload['figures'])} figures, "
                  f"{payload['n_runs']} runs from {payload['source']})")
        if payload.get("fitted", True):
            _render_fit(out)
        else:
            out.print(f"[yellow]no law fitted[/yellow]: {payload['n_runs']} runs, a fit needs at least "
                      f"{payload.get('min_runs', '?')}; the report shows the runs and their curves")
        notes = payload.get("notes", [])
        for note in notes[:3]:
            out.print(f"[dim]{note}[/dim]", markup=True)
        if len(notes) > 3:
            out.print(f"[dim]... and {len(notes) - 3} more notes (--json lists them all)[/dim]")

    def _render_fit(out):
        law = payload["law"]
        out.print(f"fit: E={law['E']:.4g} A={law['A']:.4g} B={law['B']:.4g} "
                  f"alpha={law['alpha']:.4g} beta={law['beta']:.4g}  (N_opt ∝ C^{law['a']:.3f})")
        best = payload["optimal"]["your fit"]
        out.print(f"at {payload['compute']:.3g} FLOPs: N={best['params']:.3g}, D={best['tokens']:.3g}, "
                  f"loss {best['loss']:.4g}")
        if "extrapolation" in payload:
            ex = payload["extrapolation"]
            out.print(f"extrapolation to the {ex['n_test']} runs above {ex['threshold']:.3g} FLOPs: "
                      f"mean |error| {100 * ex['mean_abs_rel_error']:.2f}%")

    emit(payload, as_json, render)
