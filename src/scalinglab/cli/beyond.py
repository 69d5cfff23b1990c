"""``scalinglab emergence``, ``data``, ``compare``, ``explain-gap``: questions beyond "how big".

Thin shells over :mod:`scalinglab.laws.emergence`, :mod:`scalinglab.laws.downstream`,
:mod:`scalinglab.plan.data`, :mod:`scalinglab.plan.compare` and :mod:`scalinglab.plan.gap`. Each
builds one payload dict and prints it as one JSON object (``--json``) or as Rich tables.
"""

from __future__ import annotations

import typer

from scalinglab.cli.app import JSON_OPTION, app, console, emit, figure_path, number, save_figure
from scalinglab.core.numbers import number_list
from scalinglab.errors import ScalingLabError
from scalinglab.laws.registry import DEFAULT_LAW


def _fmt(value) -> str:
    from scalinglab.core.units import format_number

    return "-" if value is None else format_number(value)


def _amount(value, decimals: int = 1) -> str:
    """An amount in a fixed unit (GB, ms, tokens/s): grouped digits, scientific when huge or tiny."""
    from scalinglab.core.units import format_amount

    return "-" if value is None else format_amount(value, decimals)


def _table(title: str, columns, text=()):
    """A Rich table whose ``text`` columns (names, labels) are left-aligned and wrap, and whose
    other columns (numbers) are right-aligned and never wrap: on a narrow console the labels
    give up width, so a number is never cut to ``2.00…``."""
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        if column in text:
            table.add_column(column, justify="left", overflow="fold")
        else:
            table.add_column(column, justify="right", no_wrap=True)
    return table


# ----- emergence ---------------------------------------------------------------------------------
def read_loss_accuracy(path: str) -> tuple[list[float], list[float]]:
    """Read (loss, accuracy) pairs from a CSV file with columns ``loss`` and ``accuracy``."""
    import csv
    import math

    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise ScalingLabError(f"--fit: cannot read {path!r}: {exc.strerror or exc}") from exc
    if not rows or not {"loss", "accuracy"} <= set(rows[0]):
        raise ScalingLabError(f"--fit: {path!r} needs a header with columns 'loss' and 'accuracy'")
    losses, accuracies = [], []
    for i, row in enumerate(rows, start=2):
        try:
            x, y = float(row["loss"]), float(row["accuracy"])
        except (TypeError, ValueError):
            raise ScalingLabError(f"--fit: {path!r} line {i}: not a number: {row}") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ScalingLabError(f"--fit: {path!r} line {i}: not a finite number: {row}")
        losses.append(x)
        accuracies.append(y)
    return losses, accuracies


def emergence_payload(params=None, flops=None, task=None, loss=None, tokens=None,
                      training_data="rpj", fit_path=None, baseline=0.25) -> dict:
    """Wei et al. abilities by scale or by task, Gadre's loss -> error, and a sigmoid fitted to
    the user's own (loss, accuracy) pairs, where asked."""
    from scalinglab.laws.downstream import gadre_error_law, gadre_loss_law
    from scalinglab.laws.emergence import (
        SCHAEFFER_CAVEAT,
        SOURCE,
        emergence_report,
        find_task,
        wei_table,
    )

    if params is not None and flops is not None:
        raise ScalingLabError("give --params or --flops, not both")
    if tokens is not None and params is None:
        raise ScalingLabError("--tokens needs --params (to predict the loss from N and D)")
    if params is not None or flops is not None:
        payload = emergence_report(params=params, flops=flops)
    else:
        payload = {"axis": None, "scale": None, "caveat": SCHAEFFER_CAVEAT, "source": SOURCE}
        if task is None and loss is None and fit_path is None:  # nothing specific: the table
            payload["rows"] = [r.as_dict() for r in wei_table()]
    if task is not None:
        payload["task"] = [r.as_dict() for r in find_task(task)]
    if tokens is not None:
        law = gadre_loss_law(training_data)
        payload["tokens"] = tokens
        payload["predicted_c4_loss"] = float(law.predict_tokens(params, tokens))
        payload["loss_law"] = {"name": law.name, "source": law.source}
        if loss is None:
            loss = payload["predicted_c4_loss"]
    if loss is not None and fit_path is None:  # with --fit, --loss is a loss on the user's task
        payload["downstream"] = {
            "loss": loss,
            "top1_error_17_tasks": float(gadre_error_law(training_data, 17).predict(loss)),
            "top1_error_46_tasks": float(gadre_error_law(training_data, 46).predict(loss)),
            "training_data": training_data,
            "source": gadre_error_law(training_data, 17).source,
            "note": "average top-1 error over Gadre et al.'s task suites; loss is C4-eval loss",
        }
    if fit_path is not None:
        from scalinglab.laws.downstream import SigmoidAccuracyFit

        x, y = read_loss_accuracy(fit_path)
        fit = SigmoidAccuracyFit(baseline=baseline).fit(x, y)  # raises no scipy warnings
        payload["fit"] = {
            "form": "accuracy = a / (1 + exp(-k (loss - L0))) + b  (OLMo ladder step 2)",
            **fit.law_.as_dict(), "rmse": fit.rmse_, "n_points": fit.n_points_,
            "baseline": baseline, "file": fit_path,
            "covariance_estimated": fit.covariance_estimated_, "warnings": fit.warnings_,
        }
        if loss is not None:
            payload["fit"]["loss"] = loss
            payload["fit"]["accuracy_at_loss"] = float(fit.predict(loss))
    return payload


def _render_emergence(payload: dict) -> None:
    out = console()

    def table(title, rows):
        t = _table(title, ("#", "ability", "FLOPs", "params", "model"), text=("ability", "model"))
        for r in rows:
            t.add_row(str(r["row"]), r["ability"], _fmt(r["flops"]), _fmt(r["params"]), r["model"])
        out.print(t)

    if payload.get("axis"):
        scale = _fmt(payload["scale"])
        table(f"Emerged by {payload['axis']} = {scale}", payload["emerged"])
        nxt = payload["next"]
        if nxt:
            table("Nearest thresholds above", nxt)
    elif "rows" in payload:
        table("Wei et al. 2022 Table 1", payload["rows"])
    if "task" in payload:
        table("Task", payload["task"])
    if "downstream" in payload:
        d = payload["downstream"]
        if "predicted_c4_loss" in payload:
            out.print(f"Gadre et al. loss law: C4 loss {payload['predicted_c4_loss']:.4f}")
        out.print(f"At loss {d['loss']:.4f}: average top-1 error {d['top1_error_17_tasks']:.3f} "
                  f"(17 tasks), {d['top1_error_46_tasks']:.3f} (46 tasks)  [dim]{d['source']}[/dim]")
    if "fit" in payload:
        f = payload["fit"]
        out.print(f"Fitted on {f['n_points']} points of {f['file']}: {f['form']} with "
                  f"a = {f['a']:.4g}, L0 = {f['L0']:.4g}, k = {f['k']:.4g}, b = {f['b']:.4g} "
                  f"(RMSE {f['rmse']:.4f})")
        if "accuracy_at_loss" in f:
            out.print(f"Predicted accuracy at loss {f['loss']:.4f}: {f['accuracy_at_loss']:.4f}")
        for note in f["warnings"]:
            out.print(f"[yellow]note: {note}[/yellow]")
    out.print(f"[dim]{payload['source']}. {payload['caveat']}[/dim]")


@app.command()
def emergence(
    params: str | None = typer.Option(None, "--params", help="Model size N (e.g. 70B)."),
    flops: str | None = typer.Option(None, "--flops", help="Training FLOPs C (e.g. 3e23)."),
    task: str | None = typer.Option(None, "--task", help="Look up an ability (e.g. MMLU)."),
    loss: str | None = typer.Option(None, "--loss", help="C4 loss -> downstream error (Gadre)."),
    tokens: str | None = typer.Option(None, "--tokens", help="With --params: predict the loss."),
    training_data: str = typer.Option("rpj", "--training-data", help="Gadre set: c4, rpj, refinedweb."),
    fit: str | None = typer.Option(None, "--fit", help="CSV of your (loss, accuracy) pairs to fit."),
    baseline: str = typer.Option("0.25", "--baseline", help="Chance accuracy for --fit."),
    as_json: bool = JSON_OPTION,
):
    """Which emergent abilities (Wei et al. 2022) a scale has reached, and loss -> accuracy."""
    payload = emergence_payload(
        params=None if params is None else number(params, "--params"),
        flops=None if flops is None else number(flops, "--flops"),
        task=task,
        loss=None if loss is None else number(loss, "--loss"),
        tokens=None if tokens is None else number(tokens, "--tokens"),
        training_data=training_data,
        fit_path=fit,
        baseline=number(baseline, "--baseline", allow_zero=True),
    )
    emit(payload, as_json, lambda: _render_emergence(payload))


# ----- extras for `scalinglab optimal` (wired by cli/laws_cmds.py) -------------------------------
def optimal_extras(law, compute: float, inference_tokens: float | None = None,
                   unique_tokens: float | None = None) -> dict:
    """Keys that ``optimal --inference-tokens T / --unique-tokens U`` add to its payload.

    - ``inference_aware``: Sardana et al.'s allocation for the loss of ``law``'s optimum at
      ``compute`` (:func:`scalinglab.laws.inference.inference_aware_optimum`);
    - ``data_constrained``: Muennighoff et al.'s optimum with ``unique_tokens`` unique tokens,
      under ``law`` with Muennighoff's repetition decay
      (:func:`scalinglab.laws.data_constrained.data_constrained_optimum`), and ``epochs`` at the
      top level when the data repeats (more than one epoch).

    Raises ScalingLabError for inference tokens < 0, unique tokens <= 0 or above the stock of
    public text, and laws without a Chinchilla form.
    """
    from scalinglab.laws.data_constrained import data_constrained_optimum
    from scalinglab.laws.inference import inference_aware_optimum, resolve_law
    from scalinglab.plan.data import check_unique_tokens

    the_law = resolve_law(law)
    extras: dict = {}
    if inference_tokens is not None:
        extras["inference_aware"] = inference_aware_optimum(the_law, compute, inference_tokens)
    if unique_tokens is not None:
        opt = data_constrained_optimum(the_law, compute, check_unique_tokens(unique_tokens))
        extras["data_constrained"] = opt
        if opt["epochs"] > 1.0:
            extras["epochs"] = opt["epochs"]
    return extras


# ----- data --------------------------------------------------------------------------------------
def data_payload(params=None, compute=None, law=None, unique_tokens=None, corpus=None,
                 overtrain=(2.0, 5.0, 10.0)) -> dict:
    """Tokens needed by regime; corpora; the stock; repetition costs for a unique-token limit."""
    from scalinglab.laws.data_constrained import data_constrained_optimum
    from scalinglab.laws.registry import get_law
    from scalinglab.plan.data import check_unique_tokens, data_plan, get_corpus

    if (params is None) == (compute is None):
        raise ScalingLabError("give exactly one of --params or --compute")
    if unique_tokens is not None and corpus is not None:
        raise ScalingLabError("give --unique-tokens or --corpus, not both")
    the_law = get_law() if law is None else get_law(law)
    if compute is not None:
        params = the_law.optimum(compute).params
    if corpus is not None:
        unique_tokens = get_corpus(corpus).tokens
    if unique_tokens is not None:
        unique_tokens = check_unique_tokens(unique_tokens)
    payload = data_plan(params, the_law, unique_tokens=unique_tokens, overtrain=overtrain)
    if corpus is not None:
        payload["corpus"] = get_corpus(corpus).as_dict()
    if compute is not None:
        payload["flops"] = compute
        if unique_tokens is not None:
            payload["data_constrained_optimum"] = data_constrained_optimum(None, compute, unique_tokens)
    return payload


def _render_data(payload: dict) -> None:
    out = console()
    # Two-line headers: the numbers under them are narrower, and an 80-column terminal needs the room.
    cols = ["regime", "tokens", "tokens/\nparam", "loss", "% of web\nstock"]
    repeat = "unique_tokens" in payload
    if repeat:
        cols += ["epochs", "repeat\nvalue", "loss\npenalty"]
    t = _table(f"Tokens for N = {_fmt(payload['params'])} ({payload['law']})", cols, text=("regime",))
    for r in payload["regimes"]:
        cells = [r["regime"], _fmt(r["tokens"]), f"{r['tokens_per_param']:.1f}", f"{r['loss']:.4f}",
                 f"{100 * r['fraction_of_stock']:.3f}"]
        if repeat:
            rep = r["repetition"]
            cells += [f"{rep['epochs']:.2f}", f"{rep['repeated_value']:.3f}",
                      f"{rep['loss_penalty']:+.4f}"]
        t.add_row(*cells)
    out.print(t)
    c = _table("Public corpora", ("corpus", "tokens", "tokenizer", "source"),
               text=("corpus", "tokenizer", "source"))
    for row in payload["corpora"]:
        c.add_row(row["name"], _fmt(row["tokens"]), row["tokenizer"], row["source"])
    out.print(c)
    s = payload["stock"]
    out.print(f"Stock of public text: indexed web ≈ {_fmt(s['indexed_web_tokens'])} tokens "
              f"(95% CI {_fmt(s['indexed_web_tokens_ci95'][0])}–{_fmt(s['indexed_web_tokens_ci95'][1])}); "
              f"effective stock ≈ {_fmt(s['effective_stock_tokens'])}; fully used around "
              f"{s['full_use_year_median']} ({s['full_use_year_80pct'][0]}–{s['full_use_year_80pct'][1]}). "
              f"[dim]{s['source']}[/dim]")
    if "data_constrained_optimum" in payload:
        o = payload["data_constrained_optimum"]
        out.print(f"Data-constrained optimum (Muennighoff et al. 2023): N = {_fmt(o['params'])}, "
                  f"D = {_fmt(o['tokens'])} ({o['epochs']:.2f} epochs), loss {o['loss']:.4f}")
    if repeat:
        out.print("[dim]Repetition priced with Muennighoff et al. 2023 (their own constants; "
                  "use the loss differences, not the absolute values).[/dim]")


@app.command()
def data(
    params: str | None = typer.Option(None, "--params", help="Model size N (e.g. 70B)."),
    compute: str | None = typer.Option(None, "--compute", help="Or a FLOP budget (N = optimum)."),
    law: str = typer.Option(DEFAULT_LAW, "--law", help="Law whose frontier defines 'optimal'."),
    unique_tokens: str | None = typer.Option(None, "--unique-tokens", help="Unique tokens you have."),
    corpus: str | None = typer.Option(None, "--corpus", help="Or a catalog corpus (e.g. fineweb)."),
    overtrain: str = typer.Option("2,5,10", "--overtrain", help="Over-training multiples."),
    as_json: bool = JSON_OPTION,
):
    """Tokens needed by regime, real corpus sizes, the stock of text, and the cost of repeating."""
    payload = data_payload(
        params=None if params is None else number(params, "--params"),
        compute=None if compute is None else number(compute, "--compute"),
        law=law,
        unique_tokens=None if unique_tokens is None else number(unique_tokens, "--unique-tokens"),
        corpus=corpus,
        overtrain=number_list(overtrain, "--overtrain"),
    )
    emit(payload, as_json, lambda: _render_data(payload))


# ----- compare -----------------------------------------------------------------------------------
def _render_compare(payload: dict) -> None:
    out = console()
    # Training and serving are two tables: as one, ten columns need ~106 characters and an
    # 80-column terminal cut every number to "2.00…".
    moe = payload["moe"]
    t = _table(f"Dense vs MoE at C = {payload['flops']:.3g} FLOPs (Ludziejewski et al. 2025)",
               ("model", "active", "total", "tokens", "loss", "Δ loss"), text=("model",))
    for r in moe:
        t.add_row(r["name"], _fmt(r["active_params"]), _fmt(r["total_params"]), _fmt(r["tokens"]),
                  f"{r['loss']:.4f}", f"{r['loss_vs_dense']:+.4f}")
    out.print(t)
    s = _table(f"Dense vs MoE: serving 16-bit weights on {moe[0]['gpu']}, batch 1",
               ("model", "FLOPs/token", "weights", "GPUs", "decode ms/tok"), text=("model",))
    for r in moe:
        s.add_row(r["name"], f"{r['inference_flops_per_token']:.3g}", f"{_amount(r['weight_bytes'] / 1e9)} GB",
                  f"{r['gpus_to_hold_weights']:,}", _amount(r["decode_ms_per_token"], 2))
    out.print(s)
    g = _table("Granularity (Krajewski et al. 2024, E = 64)",
               ("model", "active", "total", "tokens", "loss", "Δ loss"), text=("model",))
    for r in payload["granularity"]:
        g.add_row(r["name"], _fmt(r["active_params"]), _fmt(r["total_params"]), _fmt(r["tokens"]),
                  f"{r['loss']:.4f}", f"{r['loss_vs_dense']:+.4f}")
    out.print(g)
    # Each MoE law was fitted on its own runs, with its own dense baseline: compare the MoE rows
    # with the dense row of the same table, not the dense optima across tables.
    out.print("[dim]Each table's dense row comes from that paper's own fitted law (its data, "
              "tokenizer and parameter count), so dense optima differ between tables; compare MoE "
              "rows with the dense row above them. --law sets the dense model served below.[/dim]")
    q = payload["quantized"]
    qt = _table(f"Serving the dense optimum N = {_fmt(q['params'])} ({q['law']}) by bit width",
                ("bits", "weights", "GPUs", "decode ms/tok", "tokens/s", "N_eff/N if trained"))
    for r in q["rows"]:
        qt.add_row(f"{r['bits']:g}", f"{_amount(r['weight_bytes'] / 1e9)} GB", f"{r['gpus_to_hold_weights']:,}",
                   _amount(r["decode_ms_per_token"], 2), _amount(r["decode_tokens_per_s"], 0),
                   f"{r['weights_only_effective_param_fraction_if_trained_at_this_precision']:.3f}")
    out.print(qt)
    for note in q["notes"]:
        out.print(f"[dim]{note}[/dim]")
    out.print(f"[dim]decode: {payload['sources']['decode']}[/dim]")
    hp = payload["hyperparameters"]
    out.print(f"DeepSeek LLM hyper-parameters for this budget: peak learning rate "
              f"{hp['learning_rate']:.3g}, batch {_fmt(hp['batch_tokens'])} tokens  "
              f"[dim]{hp['source']}[/dim]")
    if "inference_aware" in payload:
        ia = payload["inference_aware"]
        ch = ia["chinchilla"]
        out.print(f"Inference-aware (Sardana et al.) for {_fmt(ia['inference_tokens'])} inference tokens: "
                  f"N = {_fmt(ia['params'])}, D = {_fmt(ia['tokens'])} instead of "
                  f"N = {_fmt(ch['params'])}, D = {_fmt(ch['tokens'])}; saves "
                  f"{ia['saving_flops']:.3g} FLOPs ({100 * ia['saving_fraction']:.1f}%) at loss "
                  f"{ia['loss']:.4f}")


@app.command()
def compare(
    compute: str = typer.Option(..., "--compute", help="Training FLOPs C (e.g. 1e23)."),
    law: str = typer.Option(DEFAULT_LAW, "--law", help="Chinchilla-form law for the dense model."),
    experts: str = typer.Option("8,32", "--experts", help="MoE expansion rates."),
    bits: str = typer.Option("16,8,4", "--bits", help="Serving bit widths."),
    inference_tokens: str | None = typer.Option(None, "--inference-tokens",
                                                   help="Lifetime inference tokens (Sardana)."),
    gpu: str = typer.Option("H100", "--gpu", help="Accelerator for memory and decode speed."),
    as_json: bool = JSON_OPTION,
):
    """Dense vs MoE vs quantized vs inference-aware for one training budget."""
    from scalinglab.plan.compare import compare as run_compare

    payload = run_compare(
        number(compute, "--compute"), law=law,
        experts=number_list(experts, "--experts"), bits=number_list(bits, "--bits"),
        inference_tokens=None if inference_tokens is None
        else number(inference_tokens, "--inference-tokens", allow_zero=True),
        gpu=gpu,
    )
    emit(payload, as_json, lambda: _render_compare(payload))


# ----- explain-gap -------------------------------------------------------------------------------
def plot_gap(payload: dict, path: str) -> str:
    """Two panels: N* vs C counted without and with embeddings, per law; saved to ``path``."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for ax, key, label in ((axes[0], "non_embedding", "non-embedding"), (axes[1], "total", "total")):
        for i, run in enumerate(payload["runs"]):
            fr = run["frontier"][key]
            c = np.asarray(fr["budgets"])
            ax.loglog(c, fr["best_params"], ".", ms=4, color=f"C{i}",
                      label=f"{run['law']} (best model)")
            fit = np.exp(fr["intercept"]) * c ** fr["exponent"]
            ax.loglog(c, fit, "-", lw=1, color=f"C{i}", label=f"fit: N* ∝ C^{fr['exponent']:.3f}")
        ax.set_xlabel(f"compute C ({label}, FLOPs)")
        ax.set_ylabel(f"N* ({label} parameters)")
        ax.set_title(f"Kaplan's set-up counted in {label} parameters")
        ax.legend(fontsize=7)
        ax.grid(True, which="major", alpha=0.3)
    fig.suptitle("Kaplan–Chinchilla gap: the same Chinchilla world, two bookkeepings "
                 f"(Kaplan reported {payload['kaplan_reported']})", fontsize=10)
    fig.tight_layout()
    try:
        save_figure(fig, path, "--plot", dpi=120)
    finally:
        plt.close(fig)
    return path


def gap_payload(laws: list[str]) -> dict:
    from scalinglab.plan.gap import explain_gap

    return explain_gap(tuple(laws))


def _render_gap(payload: dict) -> None:
    out = console()
    t = _table("Kaplan's set-up in a Chinchilla world: fitted N* ∝ C^x",
               ("law", "non-embedding\nx", "total x", "law's\nown a", "small-scale\nlimit",
                "large-scale\nlimit"), text=("law",))
    for r in payload["runs"]:
        t.add_row(r["law"], f"{r['non_embedding_exponent']:.4f}", f"{r['total_exponent']:.4f}",
                  f"{r['chinchilla_exponent']:.4f}", f"{r['limits']['small_scale']:.4f}",
                  f"{r['limits']['large_scale']:.4f}")
    out.print(t)
    out.print(f"Reported: Kaplan 2020 {payload['kaplan_reported']}; Chinchilla "
              + ", ".join(f"{k} {v}" for k, v in payload["chinchilla_reported"].items()))
    p = _table("Porian et al. 2024: the exponent as each fix is applied", ("step", "OWT2", "RefinedWeb"),
               text=("step",))
    for r in payload["porian"]:
        p.add_row(r["step"], f"{r['owt2']:.3f}", f"{r['refinedweb']:.3f}")
    out.print(p)
    out.print(payload["explanation"])
    out.print(f"[dim]{payload['source']}; {payload['porian_source']}[/dim]")
    if payload.get("plot"):
        out.print(f"figure: {payload['plot']}")


@app.command("explain-gap")
def explain_gap_command(
    laws: str = typer.Option("hoffmann2022-unrounded,epoch2024", "--laws",
                             help="Comma-separated Chinchilla-form law presets."),
    plot: str | None = typer.Option(None, "--plot", help="Write the figure to this PNG."),
    as_json: bool = JSON_OPTION,
):
    """Why Kaplan (N ∝ C^0.73) and Chinchilla (C^0.46-0.50) disagree, by re-running Kaplan's set-up."""
    names = [n.strip() for n in laws.split(",") if n.strip()]
    if not names:
        raise ScalingLabError("--laws: give at least one law name")
    if plot is not None:
        figure_path(plot, "--plot")  # a bad file name fails before the work, not after
    payload = gap_payload(names)
    if plot is not None:
        payload["plot"] = plot_gap(payload, plot)
    emit(payload, as_json, lambda: _render_gap(payload))
