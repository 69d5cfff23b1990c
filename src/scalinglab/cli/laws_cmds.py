"""``scalinglab predict``, ``scalinglab optimal`` and ``scalinglab laws``: the published laws.

Each command parses its options, builds one payload dict from the library and either prints it as
one JSON object (``--json``) or draws it with Rich. The payload builders (``predict_payload``,
``optimal_payload``) are plain functions so that options added later (``--inference-tokens``,
``--unique-tokens``) only add a parameter and a key.
"""

from __future__ import annotations

import typer

from scalinglab.cli.app import JSON_OPTION, app, console, emit, number
from scalinglab.core.units import format_amount
from scalinglab.errors import ScalingLabError
from scalinglab.laws.registry import DEFAULT_LAW

LAW_OPTION = typer.Option(DEFAULT_LAW, "--law", help="Law preset (see `scalinglab laws`).")


def _finite_loss(value, what: str) -> float:
    """The loss as a float, or a one-line error when the inputs push the law out of float range."""
    import math

    loss = float(value)
    if not math.isfinite(loss):
        raise ScalingLabError(f"{what}: the predicted loss is not finite; the inputs are out of range")
    return loss


def _law_summary(law) -> dict:
    info = law.as_dict()
    return {"law": law.name, "source": law.source,
            "params_convention": info.get("params_convention", "total")}


def _extrapolation(law, params: float, tokens: float) -> dict:
    """The law's fitted range and a note per quantity of (params, tokens) that leaves it."""
    fitted = getattr(law, "fitted_range", None)
    if fitted is None:
        return {"fitted_range": None, "extrapolation": []}
    return {"fitted_range": fitted.as_dict(), "extrapolation": fitted.notes(params, tokens)}


def _print_extrapolation(out, payload: dict) -> None:
    notes = payload.get("extrapolation", [])
    if notes:
        out.print(f"[yellow]extrapolating[/yellow] beyond the runs behind the law "
                  f"({payload['fitted_range']['source']}): " + "; ".join(notes))


# ----- predict ----------------------------------------------------------------------------------
def predict_payload(params: float, tokens: float, law_name: str) -> dict:
    """Predicted loss of ``params`` parameters trained on ``tokens`` tokens under one law."""
    import numpy as np

    from scalinglab.laws.registry import get_law

    law = get_law(law_name)
    flops = 6.0 * params * tokens
    if not np.isfinite(flops):
        raise ScalingLabError(f"params {params:g} x tokens {tokens:g}: 6ND overflows; out of range")
    with np.errstate(all="ignore"):  # overflow is reported below as one line, not a warning
        loss = law.predict(params, tokens)
    return {
        "params": params,
        "tokens": tokens,
        "flops": flops,
        "tokens_per_param": tokens / params,
        "loss": _finite_loss(loss, f"params {params:g}, tokens {tokens:g}"),
        "loss_unit": "nats/token",
        **_law_summary(law),
        **_extrapolation(law, params, tokens),
    }


@app.command()
def predict(
    params: str = typer.Option(..., "--params", help="Parameters N (e.g. 70B)."),
    tokens: str = typer.Option(..., "--tokens", help="Training tokens D (e.g. 1.4T)."),
    law: str = LAW_OPTION,
    as_json: bool = JSON_OPTION,
):
    """Predicted loss (nats/token) of an N-parameter model trained on D tokens."""
    payload = predict_payload(number(params, "--params"), number(tokens, "--tokens"), law)

    def render():
        from scalinglab.core.units import format_number as fmt

        console().print(
            f"[bold]{payload['law']}[/bold]: N = {fmt(payload['params'])} "
            f"({payload['params_convention']} params), D = {fmt(payload['tokens'])} tokens "
            f"({format_amount(payload['tokens_per_param'])} tokens/param), C = 6ND = {payload['flops']:.3g} FLOPs\n"
            f"predicted loss [bold]{payload['loss']:.4f}[/bold] nats/token\n"
            f"[dim]{payload['source']}[/dim]"
        )
        _print_extrapolation(console(), payload)

    emit(payload, as_json, render)


# ----- optimal ----------------------------------------------------------------------------------
def optimal_payload(compute: float, law_name: str, inference_tokens: float | None = None,
                    unique_tokens: float | None = None) -> dict:
    """The law's compute-optimal allocation for ``compute`` FLOPs and the comparison table.

    With ``inference_tokens`` the payload adds Sardana et al.'s inference-aware allocation
    (``inference_aware``); with ``unique_tokens`` the Muennighoff et al. data-constrained optimum
    (``data_constrained``, and ``epochs`` when the data repeats).
    """
    import numpy as np

    from scalinglab.laws.registry import get_law
    from scalinglab.plan.configurations import compare_configurations

    law = get_law(law_name)
    with np.errstate(all="ignore"):  # overflow is reported below as one line, not a warning
        best = law.optimum(compute)
        rows = compare_configurations(law, compute)
    for row in rows:
        _finite_loss(row.loss, f"compute {compute:g} ({row.name})")
    payload = {
        **best.as_dict(),
        "a": law.a,
        "b": law.b,
        **_law_summary(law),
        **_extrapolation(law, best.params, best.tokens),
        "configurations": [row.as_dict() for row in rows],
    }
    if inference_tokens is not None or unique_tokens is not None:
        from scalinglab.cli.beyond import optimal_extras

        payload.update(optimal_extras(law, compute, inference_tokens, unique_tokens))
    return payload


def _render_optimal(payload: dict) -> None:
    from rich.table import Table

    from scalinglab.core.units import format_number as fmt

    out = console()
    out.print(
        f"[bold]{payload['law']}[/bold] at C = {payload['flops']:.3g} FLOPs: "
        f"N_opt = [bold]{fmt(payload['params'])}[/bold], D_opt = [bold]{fmt(payload['tokens'])}[/bold] "
        f"({format_amount(payload['tokens_per_param'])} tokens/param), loss {payload['loss']:.4f} nats/token "
        f"(N ∝ C^{payload['a']:.3f}, D ∝ C^{payload['b']:.3f})"
    )
    table = Table(title="Ways to spend the budget")
    for column in ("configuration", "params", "tokens", "tokens/param", "loss", "Δ loss"):
        table.add_column(column, justify="left" if column == "configuration" else "right")
    for row in payload["configurations"]:
        table.add_row(row["name"], fmt(row["params"]), fmt(row["tokens"]),
                      format_amount(row['tokens_per_param']), f"{row['loss']:.4f}",
                      f"{row['loss_vs_optimum']:+.4f}")
    out.print(table)
    out.print(f"[dim]{payload['source']}; N counts {payload['params_convention']} parameters[/dim]")
    _print_extrapolation(out, payload)
    if "inference_aware" in payload:
        inf = payload["inference_aware"]
        out.print(
            f"[bold]Inference-aware[/bold] (Sardana et al.; {fmt(inf['inference_tokens'])} lifetime "
            f"inference tokens, same loss {inf['target_loss']:.4f}): N = {fmt(inf['params'])}, "
            f"D = {fmt(inf['tokens'])} ({format_amount(inf['tokens_per_param'])} tokens/param); total FLOPs "
            f"{inf['total_flops']:.3g} vs {inf['chinchilla']['total_flops']:.3g} for the "
            f"Chinchilla-optimal model ({100 * inf['saving_fraction']:.1f}% saved)"
        )
    if "data_constrained" in payload:
        dc = payload["data_constrained"]
        out.print(
            f"[bold]Data-constrained[/bold] (Muennighoff et al.; {fmt(dc['unique_tokens'])} unique "
            f"tokens): N = {fmt(dc['params'])}, D = {fmt(dc['tokens'])} = {dc['epochs']:.2f} epochs, "
            f"loss {dc['loss']:.4f} (vs {dc['unconstrained']['loss']:.4f} with unlimited data)"
        )
        out.print(f"[dim]{dc['source']}[/dim]")


@app.command()
def optimal(
    compute: str = typer.Option(..., "--compute", help="Training FLOPs C (e.g. 1e24)."),
    law: str = LAW_OPTION,
    inference_tokens: str = typer.Option(
        None, "--inference-tokens",
        help="Lifetime inference tokens: adds Sardana et al.'s inference-aware optimum."),
    unique_tokens: str = typer.Option(
        None, "--unique-tokens",
        help="Unique training tokens available: adds Muennighoff et al.'s data-constrained optimum."),
    as_json: bool = JSON_OPTION,
):
    """Compute-optimal parameters and tokens for a FLOP budget, and the alternatives."""
    payload = optimal_payload(
        number(compute, "--compute"), law,
        None if inference_tokens is None else number(inference_tokens, "--inference-tokens", allow_zero=True),
        None if unique_tokens is None else number(unique_tokens, "--unique-tokens"),
    )
    emit(payload, as_json, lambda: _render_optimal(payload))


# ----- laws -------------------------------------------------------------------------------------
@app.command("laws")
def laws_command(as_json: bool = JSON_OPTION):
    """The law presets with their constants and sources."""
    from scalinglab.laws.registry import DEFAULT_LAW, list_laws

    payload = {"default": DEFAULT_LAW, "laws": list_laws()}

    def render():
        from rich.table import Table

        table = Table(title="Scaling-law presets")
        from scalinglab.core.units import format_number as fmt

        for column in ("name", "constants", "N counts", "fitted on (N; D)"):
            table.add_column(column)
        skip = {"name", "source", "form", "params_convention", "a", "b", "fitted_range"}
        for row in payload["laws"]:
            constants = ", ".join(f"{k}={v:.6g}" if isinstance(v, (int, float)) else f"{k}={v}"
                                  for k, v in row.items() if k not in skip)
            fitted = row.get("fitted_range")
            span = ("—" if fitted is None else
                    f"{fmt(fitted['params'][0])}-{fmt(fitted['params'][1])}; "
                    f"{fmt(fitted['tokens'][0])}-{fmt(fitted['tokens'][1])}")
            table.add_row(row["name"], constants, row["params_convention"], span)
        out = console()
        out.print(table)
        for row in payload["laws"]:
            out.print(f"[bold]{row['name']}[/bold]: {row['form']}  [dim]{row['source']}[/dim]")

    emit(payload, as_json, render)
