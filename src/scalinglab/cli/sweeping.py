"""``scalinglab sweep``: design a sweep, train it (locally or on Ray), fit, predict and plan.

Two forms share the command (a status check must not need the run options):

- ``scalinglab sweep [CONFIG.toml] [options]`` (or ``scalinglab sweep run [CONFIG.toml]``) runs a
  sweep: design, train every unfinished run into ``--out``, then fit and plan;
- ``scalinglab sweep status DIR`` counts what a sweep folder holds.
"""

from __future__ import annotations

from pathlib import Path

import typer

from scalinglab.cli.app import JSON_OPTION, app, console, emit
from scalinglab.errors import ScalingLabError


def _status_payload(directory: str, rebuild: bool) -> dict:
    from scalinglab.sweep.store import RunStore

    store = RunStore(directory)
    status = store.status()
    if rebuild:
        with store.lock():
            store.rebuild_tables()
    return status.as_dict()


def _render_status(payload: dict) -> None:
    from scalinglab.core.units import format_number as fmt

    out = console()
    out.print(f"[bold]{payload['directory']}[/bold]: {payload['finished']}/{payload['planned']} runs "
              f"finished, {payload['unfinished']} unfinished ({payload['started']} started, "
              f"{payload['failed']} failed), {payload['duplicates']} duplicates, "
              f"{payload['corrupt']} corrupt; {fmt(payload['flops_done'])} of "
              f"{fmt(payload['flops_planned'])} FLOPs done")
    for rid, error in payload["failures"].items():
        out.print(f"  [red]failed[/red] {rid}: {error}")
    for name in payload["corrupt_files"]:
        out.print(f"  [red]corrupt[/red] {name} (not read; the run will be trained again)")


#: Flags whose name is not ``--`` plus the setting's name with dashes.
_FLAGS = {"span_decades": "--span"}


def _flag(key: str) -> str:
    return _FLAGS.get(key, "--" + key.replace("_", "-"))


def sweep_settings_from_options(config: str | None, options: dict) -> dict:
    """Settings from an optional TOML file overridden by the command-line ``options``.

    A setting only the other kind of sweep reads (``--sizes`` on an IsoFLOP sweep, ``--budgets``
    on a ladder) is refused rather than silently ignored.
    """
    from scalinglab.sweep.spec import check_kind_settings, load_settings, merge_settings

    from_file = load_settings(config) if config else {}
    settings = merge_settings(from_file, options)
    check_kind_settings(settings["kind"], options, label=_flag)
    check_kind_settings(settings["kind"], from_file, label=lambda key: f"{key} (in {config})")
    return settings


def run_payload(settings: dict, progress: bool = True, dry_run: bool = False,
                report: str | None = None) -> dict:
    """Design, train, fit and plan (and write the HTML report): the payload of ``scalinglab sweep``."""
    from scalinglab.sweep.analysis import analyze_sweep
    from scalinglab.sweep.runner import run_sweep
    from scalinglab.sweep.spec import build_design

    design = build_design(settings)
    out = settings["out"] or f"scalinglab-sweep-{design.design_id[:8]}"
    payload = {"directory": out, "design": _design_summary(design)}
    if dry_run:
        from scalinglab.sweep.store import RunStore

        # The refusal the real run would give (a file, or another design, at --out), without
        # taking the lock or writing anything.
        RunStore(out).check_design(design.as_dict())
        payload["runs"] = [_run_summary(r) for r in design.runs]
        return payload
    outcome = run_sweep(design, out, executor=settings["executor"], progress=progress,
                        address=settings["address"], workers=settings["workers"],
                        threads=settings["threads"])
    payload["execution"] = outcome.as_dict()
    payload.update(analyze_sweep(out, target_compute=settings["target_compute"],
                                 holdout=settings["holdout"]))
    if report:
        from scalinglab.report import ReportSettings, write_report

        write_report(out, report, ReportSettings(compute=payload["plan"]["flops"]))
        payload["report"] = str(report)
    return payload


def _design_summary(design) -> dict:
    return {"design_id": design.design_id, "kind": design.kind, "runs": len(design.runs),
            "budgets": design.budgets, "total_flops": design.total_flops, "notes": design.notes,
            "settings": design.settings}


def _run_summary(run) -> dict:
    cfg = run.config
    return {"run_id": run.run_id, "group": run.group, "params": run.params,
            "non_embedding_params": run.non_embedding_params, "tokens": run.tokens,
            "flops": run.flops, "steps": run.steps, "n_layer": cfg["n_layer"],
            "d_model": cfg["d_model"], "batch_size": cfg["batch_size"], "lr": cfg["lr"],
            "warmup_steps": cfg["warmup_steps"]}


def render_run(payload: dict) -> None:
    """Draw a sweep payload (design, execution, fits, prediction, plan) with Rich."""
    from scalinglab.sweep.analysis import render_analysis

    out = console()
    design = payload["design"]
    out.print(f"[bold]Sweep[/bold] {design['kind']} {design['design_id']}: {design['runs']} runs, "
              f"{design['total_flops']:.3g} FLOPs ({design['settings']['convention']} convention) "
              f"in {payload['directory']}")
    for note in design["notes"]:
        out.print(f"[yellow]note:[/yellow] {note}")
    if "runs" in payload:
        from rich.table import Table

        from scalinglab.core.units import format_number as fmt

        table = Table(title="Planned runs")
        for col in ("group", "run_id", "L x d", "params", "tokens", "FLOPs", "steps", "batch", "lr"):
            table.add_column(col, justify="right")
        for r in payload["runs"]:
            table.add_row(r["group"], r["run_id"], f"{r['n_layer']} x {r['d_model']}", fmt(r["params"]),
                          fmt(r["tokens"]), f"{r['flops']:.3g}", str(r["steps"]),
                          str(r["batch_size"]), f"{r['lr']:.3g}")
        out.print(table)
        return
    execution = payload["execution"]
    out.print(f"trained {execution['trained']}, skipped {execution['skipped']} already finished, "
              f"{len(execution['failed'])} failed, in {execution['wall_seconds']:.0f} s "
              f"({execution['executor']} executor)")
    for rid, error in execution["failed"].items():
        out.print(f"  [red]failed[/red] {rid}: {error}")
    render_analysis(payload, out)
    if payload.get("report"):
        out.print(f"HTML report: {payload['report']}")


@app.command(context_settings={"allow_interspersed_args": True})
def sweep(
    target: str | None = typer.Argument(
        None, metavar="[CONFIG.toml | run [CONFIG.toml] | status DIR]",
        help="A sweep file to run; or `status DIR` to count a sweep folder's runs."),
    extra: str | None = typer.Argument(None, hidden=True),
    budgets: str | None = typer.Option(None, "--budgets", help="IsoFLOP budgets in full FLOPs, comma-separated (1e11,3e11,1e12)."),
    sizes_per_budget: int | None = typer.Option(None, "--sizes-per-budget", help="Model sizes per budget (default: 5)."),
    span: float | None = typer.Option(None, "--span", help="Decades of model size per budget (default: 1.0)."),
    kind: str | None = typer.Option(None, "--kind", help="isoflop or ladder (default: isoflop)."),
    sizes: str | None = typer.Option(None, "--sizes", help="Ladder: total parameter counts (3e4,1e5)."),
    multiples: str | None = typer.Option(None, "--multiples", help="Ladder: tokens per parameter (default: 5,10,20,40)."),
    corpus: str | None = typer.Option(None, "--corpus", help="Named corpus or path (default: python-stdlib)."),
    tokenizer: str | None = typer.Option(None, "--tokenizer", help="byte or bpe:<vocab> (default: byte)."),
    ctx: int | None = typer.Option(None, "--ctx", help="Context length in tokens (default: 128)."),
    prior_law: str | None = typer.Option(None, "--prior-law", help="What centres each budget's sizes: tokens-per-param:R or a law name (default: 80 per parameter for bytes, 20 for BPE)."),
    convention: str | None = typer.Option(None, "--convention", help="FLOP convention for budgets and fits (default: chinchilla, the full count)."),
    max_lr: float | None = typer.Option(None, "--max-lr", help="Clamp on the DeepSeek learning-rate law (default: 5e-3)."),
    min_steps: int | None = typer.Option(None, "--min-steps", help="Fewest optimizer steps per run (default: 300)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of every run (default: 0)."),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda or auto (default: auto)."),
    executor: str | None = typer.Option(None, "--executor", help="local or ray (default: local)."),
    address: str | None = typer.Option(None, "--address", help="Ray cluster to join (default: a local Ray on loopback)."),
    workers: int | None = typer.Option(None, "--workers", help="Concurrent runs (local) or CPUs of a local Ray (default: cores)."),
    out: str | None = typer.Option(None, "--out", help="Sweep folder (default: scalinglab-sweep-<design id>)."),
    target_compute: str | None = typer.Option(None, "--target-compute", help="Your real budget in FLOPs, for the plan."),
    holdout: int | None = typer.Option(None, "--holdout", help="Largest budgets held out of the extrapolation fit (default: 1)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the design; train nothing."),
    report: str | None = typer.Option(None, "--report", help="Also write the HTML report (figures, fit, plan) to this file."),
    rebuild: bool = typer.Option(False, "--rebuild", help="status: rebuild runs.parquet from the records."),
    as_json: bool = JSON_OPTION,
):
    """Design and train a scaling sweep, fit the law, and plan your budget (or: sweep status DIR)."""
    if target == "status":
        if extra is None:
            raise ScalingLabError("sweep status: name the sweep folder, e.g. scalinglab sweep status runs/")
        payload = _status_payload(extra, rebuild)
        emit(payload, as_json, lambda: _render_status(payload))
        return
    config = extra if target == "run" else target
    if target != "run" and extra is not None:
        raise ScalingLabError(f"sweep: unexpected argument {extra!r}")
    from scalinglab.cli.app import number

    options = {
        "budgets": budgets, "sizes_per_budget": sizes_per_budget, "span_decades": span,
        "kind": kind, "sizes": sizes, "multiples": multiples, "corpus": corpus,
        "tokenizer": tokenizer, "ctx": ctx, "prior_law": prior_law, "convention": convention,
        "max_lr": max_lr, "min_steps": min_steps, "seed": seed, "device": device,
        "executor": executor, "address": address, "workers": workers, "out": out,
        "target_compute": number(target_compute, "--target-compute") if target_compute else None,
        "holdout": holdout,
    }
    settings = sweep_settings_from_options(config, options)
    if settings.get("workers") is not None and settings["workers"] < 1:
        raise ScalingLabError(f"--workers: must be at least 1, got {settings['workers']}")
    if settings.get("holdout") is not None and settings["holdout"] < 0:
        raise ScalingLabError(f"--holdout: must be 0 or more budgets, got {settings['holdout']}")
    if report is not None and Path(report).is_dir():  # fail before the training, not after it
        raise ScalingLabError(f"--report: {report!r} is a folder; give a file name such as "
                              f"{str(Path(report) / 'report.html')!r}")
    if isinstance(settings["target_compute"], str):
        settings["target_compute"] = number(settings["target_compute"], "target_compute")
    payload = run_payload(settings, progress=True, dry_run=dry_run, report=report)
    emit(payload, as_json, lambda: render_run(payload))
