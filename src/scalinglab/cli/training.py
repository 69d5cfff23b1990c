"""``scalinglab train`` and ``scalinglab corpus``: one measured training run, and the corpora.

``train`` builds a :class:`~scalinglab.train.config.TrainConfig` from its options (a shape from
``--params`` by the rule in :mod:`scalinglab.core.shapes`, or ``--layers/--d-model``), runs
:func:`scalinglab.train.trainer.train` with a Rich progress bar (or silently with ``--json``), and
prints the result. Before it starts, the run's duration is estimated from its FLOPs and a generous
share of the device's peak; a run over a week is refused unless ``--force``. torch is imported
inside the command, never at module import.
"""

from __future__ import annotations

import typer

from scalinglab.cli.app import JSON_OPTION, app, console, emit, number
from scalinglab.core.shapes import n_head_for, shape_for_params
from scalinglab.core.units import SECONDS_PER_DAY, SECONDS_PER_HOUR
from scalinglab.errors import ScalingLabError
from scalinglab.train.config import DEFAULT_CORPUS, TrainConfig, tokenizer_vocab

#: Longest estimated run ``train`` starts without ``--force``: a week. The estimate assumes a
#: generous share of the device's peak, so a run refused by it would surely take longer.
MAX_TRAIN_SECONDS = 7 * SECONDS_PER_DAY


def build_config(
    *,
    params: str | None,
    layers: int | None,
    d_model: int | None,
    heads: int | None,
    kv_heads: int | None,
    d_ff: int | None,
    ctx: int,
    gated_mlp: bool,
    untied: bool,
    bias: bool,
    tokens: str,
    **options,
) -> TrainConfig:
    """A validated TrainConfig from CLI options (``--params`` XOR ``--layers``/``--d-model``)."""
    layout = {"gated_mlp": gated_mlp, "tied_embeddings": not untied, "bias": bias, "d_ff": d_ff,
              "n_kv_head": kv_heads}
    if params is not None:
        if layers is not None or d_model is not None:
            raise ScalingLabError("give either --params or --layers with --d-model, not both")
        shape = params_shape(params, tokenizer=options["tokenizer"], ctx=ctx, gated_mlp=gated_mlp,
                             untied=untied, bias=bias)
        layers, d_model = shape.n_layer, shape.d_model
        heads = shape.n_head if heads is None else heads
    elif layers is None or d_model is None:
        raise ScalingLabError("give the model size: --params N, or --layers L with --d-model D")
    elif heads is None:
        heads = n_head_for(d_model) if d_model > 0 else 1  # d_model <= 0: TrainConfig names it
    return TrainConfig(
        n_layer=layers, d_model=d_model, n_head=heads, ctx=ctx,
        tokens=number(tokens, "--tokens", integer=True), **layout, **options,
    )


def params_shape(params: str, *, tokenizer: str, ctx: int, gated_mlp: bool = False,
                 untied: bool = False, bias: bool = False):
    """The shape ``train --params`` builds: :func:`~scalinglab.core.shapes.shape_for_params` of
    that many **total** parameters, the model a sweep builds for the size."""
    return shape_for_params(number(params, "--params"), vocab=tokenizer_vocab(tokenizer), ctx=ctx,
                            name="--params", gated_mlp=gated_mlp, tied_embeddings=not untied, bias=bias)


@app.command()
def train(
    params: str = typer.Option(None, "--params", help="Total parameters (e.g. 2M; embeddings included, as sweeps count them); picks depth, width and heads by the sweeps' shape rule."),
    layers: int = typer.Option(None, "--layers", help="Number of layers (with --d-model)."),
    d_model: int = typer.Option(None, "--d-model", help="Model width (with --layers)."),
    heads: int = typer.Option(None, "--heads", help="Attention heads (default: the shape rule's, d_model // 16 up to width 128, // 32 up to 384, else // 64)."),
    kv_heads: int = typer.Option(None, "--kv-heads", help="Key/value heads (grouped-query attention)."),
    d_ff: int = typer.Option(None, "--d-ff", help="MLP width (default 4 x d_model)."),
    gated_mlp: bool = typer.Option(False, "--gated-mlp", help="Gated (SwiGLU) MLP."),
    untied: bool = typer.Option(False, "--untied", help="Separate output head (default: tied to the embedding)."),
    bias: bool = typer.Option(False, "--bias", help="Biases in linear layers and norms."),
    ctx: int = typer.Option(256, "--ctx", help="Context length (tokens)."),
    tokens: str = typer.Option(..., "--tokens", help="Training tokens (e.g. 20M)."),
    corpus: str = typer.Option(DEFAULT_CORPUS, "--corpus", help="Named corpus (see `scalinglab corpus`) or a path."),
    tokenizer: str = typer.Option("byte", "--tokenizer", help="byte, bpe:<vocab> or tokens:<vocab> (.bin corpora)."),
    val_fraction: float = typer.Option(0.01, "--val-fraction", help="Share of the corpus held out."),
    batch_size: int = typer.Option(16, "--batch-size", help="Sequences per optimizer step."),
    micro_batch_size: int = typer.Option(None, "--micro-batch-size", help="Sequences per forward pass (gradient accumulation)."),
    lr: float = typer.Option(3e-3, "--lr", help="Peak learning rate."),
    warmup_steps: int = typer.Option(20, "--warmup", help="Linear warm-up steps."),
    weight_decay: float = typer.Option(0.1, "--weight-decay"),
    grad_clip: float = typer.Option(1.0, "--grad-clip", help="Global gradient-norm clip (0 = off)."),
    eval_every: int = typer.Option(100, "--eval-every", help="Evaluate every K steps (0 = at the end only)."),
    eval_tokens: int = typer.Option(65_536, "--eval-tokens", help="Validation tokens per evaluation."),
    seed: int = typer.Option(0, "--seed"),
    device: str = typer.Option("auto", "--device", help="cpu, cuda or auto."),
    dtype: str = typer.Option("fp32", "--dtype", help="fp32 or bf16 (autocast)."),
    compile_model: bool = typer.Option(False, "--compile", help="torch.compile the model."),
    threads: int = typer.Option(None, "--threads", help="torch threads (default: torch's choice)."),
    out: str = typer.Option(None, "--out", help="Folder for checkpoint and result; resumes if it holds one."),
    checkpoint_every: int = typer.Option(0, "--checkpoint-every", help="Checkpoint every K steps (with --out)."),
    force: bool = typer.Option(False, "--force", help="Train even if the run is estimated to take over 7 days."),
    as_json: bool = JSON_OPTION,
):
    """Train a GPT on real text and measure loss, throughput and MFU."""
    if checkpoint_every and out is None:
        raise ScalingLabError("--checkpoint-every needs --out (the folder the checkpoints go to)")
    config = build_config(
        params=params, layers=layers, d_model=d_model, heads=heads, kv_heads=kv_heads, d_ff=d_ff,
        ctx=ctx, gated_mlp=gated_mlp, untied=untied, bias=bias, tokens=tokens,
        corpus=corpus, tokenizer=tokenizer, val_fraction=val_fraction, batch_size=batch_size,
        micro_batch_size=micro_batch_size, lr=lr, warmup_steps=warmup_steps, weight_decay=weight_decay,
        grad_clip=grad_clip, eval_every=eval_every, eval_tokens=eval_tokens, seed=seed, device=device,
        dtype=dtype, compile=compile_model, threads=threads, checkpoint_every=checkpoint_every,
    )
    from scalinglab.train.trainer import train as run

    _preflight(config, out, force)
    if as_json:
        result = run(config, out_dir=out)
    else:
        result = _run_with_progress(run, config, out)
    payload = result.as_dict()
    if params is not None:
        # The shape rule rounds depth and width, so the trained size differs from the request:
        # say both rather than let a 20K request silently become a 12K model.
        payload["requested_params"] = number(params, "--params")

    def render():
        _render_result(payload)

    emit(payload, as_json, render)


def _preflight(config: TrainConfig, out: str | None, force: bool = False) -> None:
    """Catch user mistakes before the progress bar starts: an unusable --out (checked before any
    tokenising), a missing or too short corpus, an absent device, a model too large for this
    machine's memory, and (unless ``force``) a run estimated to take longer than
    :data:`MAX_TRAIN_SECONDS`."""
    from pathlib import Path

    from scalinglab.train.data import load_tokens
    from scalinglab.train.trainer import CHECKPOINT, prepare_out_dir, resolve_device

    prepare_out_dir(out, "--out")
    device = resolve_device(config.device)
    data = load_tokens(config.corpus, config.tokenizer, config.val_fraction)  # cached on disk
    data.check_context(config.ctx)
    if device == "cpu":
        _check_memory(config, data.vocab)
    # A folder holding a checkpoint resumes a run that already passed this check (or was forced).
    resuming = out is not None and (Path(out) / CHECKPOINT).is_file()
    if not force and not resuming:
        _check_duration(config, device, data.vocab)


def _check_memory(config: TrainConfig, vocab: int) -> None:
    """Refuse a model whose weights, gradients and Adam state alone exceed this machine's memory."""
    import os

    # fp32 weights, gradients and two Adam moments: 16 bytes a parameter, before activations.
    need = 16 * config.shape(vocab).total_params
    try:
        have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        have = None
    if have and need > have:
        raise ScalingLabError(f"model too large for this machine: {need / 1e9:.3g} GB of weights, "
                              f"gradients and Adam state vs {have / 1e9:.3g} GB of memory")


def _check_duration(config: TrainConfig, device: str, vocab: int) -> None:
    """Refuse a run estimated to outlast :data:`MAX_TRAIN_SECONDS`, naming the estimate, the token
    count that would fit and ``--force``. A device with no known peak is not estimated."""
    from scalinglab.core.units import format_number
    from scalinglab.train.trainer import ESTIMATE_PEAK_SHARE, estimate_seconds

    seconds, rate = estimate_seconds(config, device, vocab)
    if seconds is None or seconds <= MAX_TRAIN_SECONDS:
        return
    fits = config.trained_tokens * MAX_TRAIN_SECONDS / seconds
    raise ScalingLabError(
        f"this run would take about {_duration(seconds)} ({config.trained_tokens:.3g} tokens at an "
        f"assumed {rate / 1e9:,.3g} GFLOP/s, {ESTIMATE_PEAK_SHARE[device]:g} x this {device}'s "
        f"peak); the limit is {_duration(MAX_TRAIN_SECONDS)}: ask for fewer --tokens (about "
        f"{format_number(fits)} fit) or add --force"
    )


def _duration(seconds: float) -> str:
    """``seconds`` in the largest unit that keeps the number at least 1 (``3.2 hours``)."""
    for unit, size in (("years", 365.25 * SECONDS_PER_DAY), ("days", SECONDS_PER_DAY),
                       ("hours", SECONDS_PER_HOUR), ("minutes", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} seconds"


def _run_with_progress(run, config: TrainConfig, out):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
               TimeRemainingColumn())
    with Progress(*columns, console=console(), transient=False) as bar:
        task = bar.add_task("train", total=config.steps, info="")
        last_val = [None]

        def progress(event: dict) -> None:
            if "val_loss" in event:
                last_val[0] = event["val_loss"]
            info = f"train {event['train_loss']:.3f}" if event.get("train_loss") is not None else ""
            if last_val[0] is not None:
                info += f"  val {last_val[0]:.3f}"
            bar.update(task, completed=event["step"], info=info)

        return run(config, out_dir=out, progress=progress)


def _render_result(p: dict) -> None:
    from rich.table import Table

    from scalinglab.core.units import format_number as fmt

    c = p["config"]
    table = Table(title=f"{c['n_layer']} layers x {c['d_model']} on {c['corpus']} ({c['tokenizer']})")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    bpb = "n/a" if p["bits_per_byte"] is None else f"{p['bits_per_byte']:.4f}"
    mfu = "unknown" if p["mfu"] is None else f"{p['mfu']:.1%}"
    peak = "unknown" if p["peak_flops_per_s"] is None else f"{p['peak_flops_per_s'] / 1e9:,.1f} GFLOP/s"
    rows = [
        ("parameters (total / non-embedding)", f"{fmt(p['params'])} / {fmt(p['non_embedding_params'])}"
         + (f"  (asked {fmt(p['requested_params'])} total; shape rule of scalinglab.core.shapes)"
            if "requested_params" in p else "")),
        ("tokens / steps", f"{fmt(p['tokens'])} / {p['steps']:,}"),
        ("FLOPs (chinchilla, full)", f"{p['flops']:.3g}"),
        ("validation loss (nats/token)", f"{p['loss']:.4f}  (best {p['best_loss']:.4f})"),
        ("bits per byte", bpb),
        ("unigram entropy (nats/token)", f"{p['unigram_entropy']:.4f}"),
        ("tokens/s", f"{p['tokens_per_s']:,.0f}"),
        ("achieved FLOP/s", f"{p['achieved_flops_per_s'] / 1e9:,.1f} GFLOP/s"),
        ("peak FLOP/s", peak),
        ("MFU", mfu),
        ("device", f"{p['device']} ({p['device_name']}, {p['dtype']}, {p['threads']} threads)"),
        ("wall seconds", f"{p['wall_seconds']:.1f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console().print(table)
    console().print(f"[dim]peak: {p['peak_source']}[/dim]")


@app.command()
def corpus(
    name: str = typer.Argument(None, help="A corpus name or path to tokenise and describe (default: list them)."),
    tokenizer: str = typer.Option("byte", "--tokenizer", help="byte, bpe:<vocab> or tokens:<vocab>."),
    val_fraction: float = typer.Option(0.01, "--val-fraction"),
    as_json: bool = JSON_OPTION,
):
    """List the corpora on this machine, or tokenise one (cached) and show its split."""
    from scalinglab.train.corpora import list_corpora

    if name is None:
        payload = {"default": DEFAULT_CORPUS, "corpora": list_corpora()}

        def render():
            from rich.table import Table

            table = Table(title="corpora (default: " + DEFAULT_CORPUS + ")")
            for col in ("name", "available", "MB on disk", "description", "install"):
                table.add_column(col)
            for row in payload["corpora"]:
                size = "" if row["bytes"] is None else f"{row['bytes'] / 1e6:.1f}"
                table.add_row(row["name"], "yes" if row["available"] else "no", size, row["description"],
                              row["install"])
            console().print(table)

        emit(payload, as_json, render)
        return
    # Validate the spec and the fraction the same way a training run would.
    TrainConfig(corpus=name, tokenizer=tokenizer, val_fraction=val_fraction)
    from scalinglab.train.data import load_tokens

    data = load_tokens(name, tokenizer, val_fraction)
    payload = {
        **{k: v for k, v in data.meta.items()},
        "vocab": data.vocab,
        "unigram_entropy": data.unigram_entropy(),
        "bytes_per_token": (data.meta["train_bytes"] / data.meta["train_tokens"])
        if data.meta.get("train_bytes") and data.meta.get("train_tokens") else None,
    }

    def render():
        for key, value in payload.items():
            console().print(f"{key}: {value}")

    emit(payload, as_json, render)
