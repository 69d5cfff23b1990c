"""``scalinglab fit FILE``: fit a scaling law to a table of runs.

Reads CSV/Parquet/JSONL, a tracker's store (TensorBoard, MLflow, W&B) or a sweep folder
(:func:`scalinglab.io.read_runs`), fits the chosen form/approach
(:mod:`scalinglab.fit`), optionally bootstraps intervals, runs the extrapolation check and draws a
figure, then prints Rich tables or one JSON object (``--json``). The payload is built by
:func:`fit_payload`, a plain function the tests call directly.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import typer

from scalinglab.cli.app import JSON_OPTION, app, console, emit, figure_path, number, save_figure
from scalinglab.errors import ScalingLabError

FORMS = ("chinchilla", "kaplan", "saturating")


def fit_payload(path: str, *, form: str = "chinchilla", approach: int = 3, estimator: str = "huber",
                delta: float = 1e-3, tie_exponents: bool = False, fixed_E: float | None = None,
                exponent_bounds: tuple | None = None, small_sweep: bool = False,
                variable: str = "params", bootstrap: int = 0, seed: int = 0, workers: int = 2,
                budget: float | None = None, holdout_above: float | None = None, holdout_by: str = "flops",
                drop_highest_loss: int = 0, on_invalid: str = "raise", plot: str | None = None,
                params_col=None, tokens_col=None, loss_col=None, flops_col=None) -> dict:
    """Everything ``scalinglab fit`` reports, as one JSON-ready dict."""
    from scalinglab.io import drop_highest_loss as drop_highest
    from scalinglab.io import read_runs

    if form not in FORMS:
        raise ScalingLabError(f"--form must be one of {', '.join(FORMS)}, got {form!r}")
    if approach not in (1, 2, 3):
        raise ScalingLabError(f"--approach must be 1, 2 or 3, got {approach!r}")
    if approach != 3 and form != "chinchilla":
        raise ScalingLabError(f"--approach {approach} estimates the Chinchilla allocation; it takes no --form {form}")
    if variable not in ("params", "tokens", "flops"):
        raise ScalingLabError(f"--variable must be params, tokens or flops, got {variable!r}")
    if bootstrap and not (approach == 3 and form == "chinchilla"):
        raise ScalingLabError("--bootstrap is available for the Chinchilla form with Approach 3")
    if holdout_above is not None and approach != 3:
        raise ScalingLabError("--holdout-above checks a loss law; use it with Approach 3")
    if plot:
        figure_path(plot, "--plot")  # a bad file name fails before the fit, not after
    table = read_runs(path, params_col=params_col, tokens_col=tokens_col, loss_col=loss_col,
                      flops_col=flops_col, on_invalid=on_invalid)
    df = table.runs  # one row per run (a table of loss curves gives each run's final row)
    if drop_highest_loss:
        df = drop_highest(df, drop_highest_loss)
    curves = table.curves if table.curves is not None else df
    dropped = list(df.attrs.get("dropped", []))
    if approach == 1 and table.curves is not None:
        dropped += [d for d in curves.attrs.get("dropped", []) if d not in dropped]
    notes = [n for n in table.notes if n not in set(dropped) | set(curves.attrs.get("dropped", []))
             and not (approach == 1 and "used the final row" in n)]  # Approach 1 fits the curves
    payload = {"file": str(path), "form": form, "approach": approach, "n_runs": len(df),
               "dropped": dropped, "notes": notes}

    if approach == 1:
        from scalinglab.fit.envelope import EnvelopeFit

        est = EnvelopeFit(seed=seed).fit(curves)
        payload.update(est.as_dict())
        payload["method"] = "Approach 1: envelope of minimal loss per FLOP over loss curves (Hoffmann 2022 §3.1)"
        if budget is not None:
            payload["optimum"] = est.optimum(budget).as_dict()
    elif approach == 2:
        from scalinglab.fit.isoflop import IsoFLOPFit

        est = IsoFLOPFit().fit(df)
        payload.update(est.as_dict())
        payload["method"] = "Approach 2: IsoFLOP parabolas in log N, then power laws (Hoffmann 2022 §3.2)"
        if budget is not None:
            payload["optimum"] = est.optimum(budget).as_dict()
    elif form == "chinchilla":
        from scalinglab.fit.parametric import ChinchillaFit, fit_small_sweep

        settings = dict(delta=delta, estimator=estimator, tie_exponents=tie_exponents, fixed_E=fixed_E,
                        exponent_bounds=exponent_bounds)
        est = fit_small_sweep(df, **settings) if small_sweep else ChinchillaFit(**settings).fit(df)
        payload.update(est.as_dict())
        payload["method"] = ("Approach 3: " + est.law_.source)
        if budget is not None:
            best = est.optimum(budget)
            payload["optimum"] = best.as_dict()
            # How far the allocation lies beyond the runs that were fitted, per quantity.
            payload["optimum"]["extrapolation"] = est.law_.fitted_range.notes(best.params, best.tokens)
        if bootstrap:
            res = est.bootstrap(bootstrap, seed=seed, workers=workers, compute=budget)
            payload["bootstrap"] = res.as_dict()
            # est.bootstrap added any spread flags to the estimator's flags
            payload["flags"], payload["degenerate"] = list(est.flags_), est.degenerate_
    elif form == "kaplan":
        from scalinglab.fit.kaplan import KaplanFit

        est = KaplanFit(delta=delta).fit(df)
        payload.update(est.as_dict())
        payload["method"] = "Kaplan 2020 Eq. 1.5 L(N, D), summed Huber on log loss"
    else:
        from scalinglab.fit.powerlaw import SaturatingPowerLawFit

        est = SaturatingPowerLawFit().fit(df, variable=variable)
        payload.update(est.as_dict())
        payload["variable"] = variable
        payload["method"] = f"L = E + (X0/X)^alpha over {variable}, least squares on loss"

    if holdout_above is not None:
        from scalinglab.fit.validate import extrapolation_check

        rep = extrapolation_check(est.clone(), df, above=holdout_above, by=holdout_by,
                                  variable=variable if form == "saturating" else None)
        payload["holdout"] = rep.as_dict()
    if plot:
        payload["plot"] = _plot(plot, df, est, form, approach, variable)
    return payload


def _plot(path, df, est, form, approach, variable):
    """A minimal figure: data and fit (headless matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    try:
        if approach == 3 and form in ("chinchilla", "kaplan"):
            pred = np.asarray(est.predict(df["params"].to_numpy(float), df["tokens"].to_numpy(float)))
            sc = ax.scatter(df["loss"], pred, c=np.log10(df["params"]), s=14, cmap="viridis")
            lo, hi = float(min(df["loss"].min(), pred.min())), float(max(df["loss"].max(), pred.max()))
            ax.plot([lo, hi], [lo, hi], "k--", lw=1)
            ax.set_xlabel("observed loss (nats/token)")
            ax.set_ylabel("fitted loss (nats/token)")
            fig.colorbar(sc, ax=ax, label="log10 params")
        elif approach == 3:
            x = df[variable].to_numpy(float)
            grid = np.geomspace(x.min(), x.max(), 200)
            ax.scatter(x, df["loss"], s=14, label="runs")
            ax.plot(grid, est.predict(grid), "r-", label=f"E + (X0/X)^α, α = {est.alpha_:.3f}")
            ax.set_xscale("log")
            ax.set_xlabel(variable)
            ax.set_ylabel("loss (nats/token)")
            ax.legend()
        else:
            profiles = getattr(est, "profiles_", None)
            if profiles:
                c = np.array([p.flops for p in profiles])
                n = np.array([p.params_opt for p in profiles])
            else:
                c, n = est.flops_, est.params_opt_
            ax.scatter(c, n, s=14, label="N_opt per budget")
            grid = np.geomspace(c.min(), c.max(), 100)
            ax.plot(grid, est.params_law_.predict(grid), "r-", label=f"N_opt ∝ C^{est.a_:.3f}")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("FLOPs")
            ax.set_ylabel("N_opt (params)")
            ax.legend()
        ax.set_title(f"scalinglab fit ({form}, approach {approach})")
        fig.tight_layout()
        save_figure(fig, path, "--plot", dpi=120)
    finally:
        plt.close(fig)
    return str(path)


def _render(payload):
    from rich.table import Table

    con = console()
    con.print(f"[bold]{payload['method']}[/bold] — {payload['n_runs']} runs from {payload['file']}")
    table = Table(show_header=True)
    table.add_column("quantity")
    table.add_column("estimate", justify="right")
    boot = payload.get("bootstrap", {}).get("parameters", {})
    if boot:
        table.add_column(f"{100 * payload['bootstrap']['level']:.0f}% interval", justify="right")
    for key in ("E", "A", "B", "alpha", "beta", "a", "b", "Nc", "Dc", "alpha_N", "alpha_D", "X0", "objective",
                "huber_objective", "sigma", "rmse"):
        if key in payload and isinstance(payload[key], (int, float)):
            row = [key, f"{payload[key]:.6g}"]
            if boot:
                iv = boot.get(key, {}).get("interval")
                row.append(f"({iv[0]:.4g}, {iv[1]:.4g})" if iv else "")
            table.add_row(*row)
    for key in ("a_interval", "b_interval"):
        if payload.get(key):
            lo, hi = payload[key]
            table.add_row(key, f"({lo:.4f}, {hi:.4f})", *([""] if boot else []))
    con.print(table)
    if "optimum" in payload:
        o = payload["optimum"]
        con.print(f"optimum at {o['flops']:.3g} FLOPs: N = {o['params']:.4g}, D = {o['tokens']:.4g} "
                  f"({o['tokens_per_param']:.1f} tokens/param)")
        if o.get("extrapolation"):
            con.print("[yellow]extrapolating[/yellow] beyond the runs fitted: " + "; ".join(o["extrapolation"]))
    if "holdout" in payload:
        h = payload["holdout"]
        con.print(f"extrapolation check: fitted on {h['n_train']} runs with {h['by']} ≤ {h['threshold']:.3g}, "
                  f"{h['n_test']} held out: mean |error| {100 * h['mean_abs_rel_error']:.2f}%, "
                  f"max {100 * h['max_abs_rel_error']:.2f}%, RMSE(log) {h['rmse_log']:.4f}")
    if payload.get("degenerate"):
        con.print("[bold red]NOT IDENTIFIED:[/bold red] the runs do not determine this law; do not rely on "
                  "its constants or allocation (reasons below)")
    for flag in payload.get("flags", []):
        con.print(f"[yellow]flag:[/yellow] {flag}")
    for note in payload.get("notes", []) + payload.get("dropped", []):
        con.print(f"[dim]{note}[/dim]")
    if payload.get("plot"):
        con.print(f"figure written to {payload['plot']}")


def _bounds(text: str) -> tuple:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2:
        raise ScalingLabError(f"--exponent-bounds takes LO,HI (e.g. 0.05,1.5), got {text!r}")
    lo = number(parts[0], "--exponent-bounds", allow_zero=True)
    hi = number(parts[1], "--exponent-bounds")
    if not lo < hi:
        raise ScalingLabError(f"--exponent-bounds needs LO < HI, got {text!r}")
    return (lo, hi)


@app.command()
def fit(
    file: str = typer.Argument(..., help="Runs table (.csv, .tsv, .parquet, .jsonl), a TensorBoard log "
                               "dir, MLflow store, W&B export/offline-run dir, or a sweep folder."),
    form: str = typer.Option("chinchilla", "--form", help="chinchilla | kaplan | saturating."),
    approach: int = typer.Option(3, "--approach", help="1 envelope, 2 IsoFLOP, 3 parametric."),
    estimator: str = typer.Option("huber", "--estimator", help="huber (Hoffmann) | likelihood (Epoch)."),
    delta: str = typer.Option("1e-3", "--delta", help="Huber threshold on log-loss residuals."),
    tie_exponents: bool = typer.Option(False, "--tie-exponents", help="Constrain alpha = beta."),
    fixed_e: str = typer.Option(None, "--fixed-e", help="Hold E (nats/token) fixed."),
    exponent_bounds: str = typer.Option(None, "--exponent-bounds",
                                        help="LO,HI: constrain LO <= alpha, beta <= HI (e.g. 0.05,1.5)."),
    small_sweep: bool = typer.Option(False, "--small-sweep",
                                     help="If the free fit is degenerate, refit with alpha = beta in [0.05, 1.5]."),
    variable: str = typer.Option("params", "--variable", help="x of the saturating law: params|tokens|flops."),
    bootstrap: str = typer.Option("0", "--bootstrap", help="Number of bootstrap resamples (0 = none)."),
    seed: str = typer.Option("0", "--seed", help="Seed of the bootstrap."),
    workers: str = typer.Option("2", "--workers", help="Processes for the bootstrap."),
    budget: str = typer.Option(None, "--budget", help="FLOPs at which to report N_opt, D_opt (e.g. 5.88e23)."),
    holdout_above: str = typer.Option(None, "--holdout-above", help="Fit below this value, predict above."),
    holdout_by: str = typer.Option("flops", "--holdout-by", help="flops | params | tokens."),
    drop_highest_loss: str = typer.Option("0", "--drop-highest-loss", help="Drop the K largest losses (Epoch: 5)."),
    drop_invalid: bool = typer.Option(False, "--drop-invalid", help="Drop (and list) invalid rows instead of failing."),
    plot: str = typer.Option(None, "--plot", help="Write a figure to this .png."),
    params_col: str = typer.Option(None, "--params-col", help="Column holding parameters."),
    tokens_col: str = typer.Option(None, "--tokens-col", help="Column holding training tokens."),
    loss_col: str = typer.Option(None, "--loss-col", help="Column holding the loss."),
    flops_col: str = typer.Option(None, "--flops-col", help="Column holding training FLOPs."),
    as_json: bool = JSON_OPTION,
):
    """Fit a scaling law to a table of runs (parameters, tokens or FLOPs, loss)."""
    with warnings.catch_warnings(), _fit_failures(form):
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow while exploring: not the answer
        payload = _fit(
            file, form=form, approach=approach, estimator=estimator, delta=number(delta, "--delta"),
            tie_exponents=tie_exponents, fixed_E=None if fixed_e is None else number(fixed_e, "--fixed-e"),
            exponent_bounds=None if exponent_bounds is None else _bounds(exponent_bounds),
            small_sweep=small_sweep,
            variable=variable, bootstrap=number(bootstrap, "--bootstrap", integer=True, allow_zero=True),
            seed=number(seed, "--seed", integer=True, allow_zero=True),
            workers=number(workers, "--workers", integer=True),
            budget=None if budget is None else number(budget, "--budget"),
            holdout_above=None if holdout_above is None else number(holdout_above, "--holdout-above"),
            holdout_by=holdout_by,
            drop_highest_loss=number(drop_highest_loss, "--drop-highest-loss", integer=True, allow_zero=True),
            on_invalid="drop" if drop_invalid else "raise", plot=plot,
            params_col=params_col, tokens_col=tokens_col, loss_col=loss_col, flops_col=flops_col,
        )
    emit(payload, as_json, lambda: _render(payload))


def _fit(path, **options) -> dict:
    """:func:`fit_payload`, refusing an answer with NaN or infinite numbers in it."""
    payload = fit_payload(path, **options)
    bad = _non_finite(payload)
    if bad:
        raise ScalingLabError(f"the fit did not converge on these runs: {bad} is not a finite number; "
                              "check that the loss falls with parameters and tokens")
    return payload


def _non_finite(value, where: str = "") -> str | None:
    """The path of the first NaN/inf number in a payload, or None."""
    import math

    if isinstance(value, dict):
        for key, item in value.items():
            found = _non_finite(item, f"{where}.{key}" if where else str(key))
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = _non_finite(item, f"{where}[{i}]")
            if found:
                return found
    elif hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _non_finite(value.tolist(), where)
    elif isinstance(value, float) and not math.isfinite(value):
        return where or "a value"
    return None


@contextmanager
def _fit_failures(form: str):
    """Arithmetic failures of an estimator on degenerate runs (losses that do not fall, all equal)
    are a property of the user's data: one line, exit 2, not a traceback."""
    try:
        yield
    except (ZeroDivisionError, OverflowError, FloatingPointError) as exc:
        raise ScalingLabError(f"the {form} fit failed on these runs ({exc}); check that the loss "
                              "falls with parameters and tokens") from None
