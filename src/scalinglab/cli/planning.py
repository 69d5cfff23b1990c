"""Planning commands: ``scalinglab count``, ``scalinglab plan`` and ``scalinglab hardware``.

Each parses strings (human numbers such as ``65B`` and ``1.4T``), calls the planning API and
renders Rich tables, or one JSON object with ``--json``. Only light modules are imported here;
Rich is imported when a table is drawn.
"""

from __future__ import annotations

import typer

from scalinglab.cli.app import JSON_OPTION, app, console, emit, fraction, number, price_per_hour
from scalinglab.core.shapes import n_head_for
from scalinglab.errors import ScalingLabError

# ----- shared option parsing --------------------------------------------------------------------


def _int(text: str | None, name: str, *, allow_zero: bool = False) -> int | None:
    return None if text is None else number(text, name, integer=True, allow_zero=allow_zero)


def _shape(layers, d_model, heads, kv_heads=None, d_ff=None, vocab="50257", ctx="1024",
           gated=False, untied=False, bias=False, learned_pos=True):
    """Build a TransformerShape from CLI strings; heads default to d_model / 64."""
    from scalinglab.core.architecture import TransformerShape

    n_layer, width = _int(layers, "--layers"), _int(d_model, "--d-model")
    n_head = _int(heads, "--heads")
    if n_head is None:
        if width % 64:
            raise ScalingLabError(f"--d-model {width} is not a multiple of 64; give --heads")
        n_head = width // 64
    return TransformerShape(
        n_layer=n_layer,
        d_model=width,
        n_head=n_head,
        n_kv_head=_int(kv_heads, "--kv-heads"),
        d_ff=_int(d_ff, "--d-ff"),
        vocab=_int(vocab, "--vocab"),
        ctx=_int(ctx, "--ctx"),
        gated_mlp=gated,
        tied_embeddings=not untied,
        bias=bias,
        learned_pos=learned_pos,
    )


def _gb(value) -> str:
    return "—" if value is None else f"{_amount(value / 1e9, 2)} GB"


def _fmt(value) -> str:
    from scalinglab.core.units import format_number

    return "—" if value is None else format_number(value)


def _amount(value, decimals: int = 1) -> str:
    """An amount in a fixed unit (hours, days, dollars): grouped digits, or scientific notation
    when huge or tiny, so a 1e30-FLOP budget does not print 12-digit GPU-hours."""
    from scalinglab.core.units import format_amount

    return "—" if value is None else format_amount(value, decimals)


def _table(title: str, rows, columns=("", "")):
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_header=any(columns))
    for i, column in enumerate(columns):
        table.add_column(column, justify="right" if i == 1 and any(columns) else "left")
    for row in rows:
        table.add_row(*[str(cell) for cell in row])
    return table


# ----- count ------------------------------------------------------------------------------------


@app.command()
def count(
    layers: str = typer.Option(..., "--layers", help="Transformer blocks (n_layer)."),
    d_model: str = typer.Option(..., "--d-model", help="Residual width."),
    heads: str | None = typer.Option(None, "--heads", help="Query heads (default: the shape rule's, as train and sweeps build: d_model // 16 up to 128, // 32 up to 384, else // 64)."),
    kv_heads: str | None = typer.Option(None, "--kv-heads", help="Key/value heads (GQA; default = heads)."),
    d_ff: str | None = typer.Option(None, "--d-ff", help="MLP hidden width (default 4·d_model)."),
    vocab: str = typer.Option("50257", "--vocab", help="Vocabulary size."),
    ctx: str = typer.Option("1024", "--ctx", help="Context length (tokens)."),
    gated: bool = typer.Option(False, "--gated", help="Gated (SwiGLU) MLP: three matrices."),
    untied: bool = typer.Option(False, "--untied", help="Separate output head (not tied to the embedding)."),
    bias: bool = typer.Option(False, "--bias", help="Biases in linear layers and norms (GPT-2)."),
    rope: bool = typer.Option(False, "--rope", help="No learned position embeddings (RoPE/ALiBi)."),
    as_json: bool = JSON_OPTION,
):
    """Parameters (total, non-embedding, embedding) and training FLOPs per token by convention."""
    from scalinglab.core.architecture import FLOP_CONVENTION_NOTES, FLOP_CONVENTIONS

    if heads is None:  # the heads train --params and the sweeps build for this width
        heads = str(n_head_for(_int(d_model, "--d-model")))
    shape = _shape(layers, d_model, heads, kv_heads, d_ff, vocab, ctx, gated, untied, bias, not rope)
    flops = {name: shape.flops_per_token(name) for name in FLOP_CONVENTIONS}
    payload = {
        "shape": {
            "n_layer": shape.n_layer, "d_model": shape.d_model, "n_head": shape.n_head,
            "n_kv_head": shape.n_kv_head, "head_dim": shape.head_dim, "d_ff": shape.d_ff,
            "vocab": shape.vocab, "ctx": shape.ctx, "gated_mlp": shape.gated_mlp,
            "tied_embeddings": shape.tied_embeddings, "bias": shape.bias, "learned_pos": shape.learned_pos,
        },
        "params": shape.total_params,
        "non_embedding_params": shape.non_embedding_params,
        "embedding_params": shape.embedding_params,
        "kaplan_params": shape.kaplan_params,
        "approx_12ld2": shape.approx_12ld2,
        "approx_12ld2_error": shape.approx_12ld2_error,
        "chinchilla_params": shape.chinchilla_params,
        "flops_per_token": flops,
        "flops_per_sequence": {name: value * shape.ctx for name, value in flops.items()},
    }

    def render():
        out = console()
        out.print(_table(
            f"Parameters: {shape.n_layer} layers × d_model {shape.d_model}, {shape.n_head} heads",
            [
                ("total", f"{shape.total_params:,}", _fmt(shape.total_params)),
                ("non-embedding (blocks, norms)", f"{shape.non_embedding_params:,}", _fmt(shape.non_embedding_params)),
                ("embedding (+ positions, untied head)", f"{shape.embedding_params:,}", _fmt(shape.embedding_params)),
                ("Kaplan N (weight matrices)", f"{shape.kaplan_params:,}", _fmt(shape.kaplan_params)),
                ("12·L·d²", f"{shape.approx_12ld2:,}",
                 f"{shape.approx_12ld2_error:+.2%} vs non-embedding"),
            ],
            columns=("count", "parameters", ""),
        ))
        out.print(_table(
            f"Training FLOPs per token (forward + backward), seq {shape.ctx}",
            [(name, f"{value:.4g}", FLOP_CONVENTION_NOTES[name]) for name, value in flops.items()],
            columns=("convention", "FLOPs/token", "what it counts"),
        ))

    emit(payload, as_json, render)


# ----- plan -------------------------------------------------------------------------------------


@app.command()
def plan(
    params: str | None = typer.Option(None, "--params", help="Parameters, e.g. 65B."),
    tokens: str | None = typer.Option(None, "--tokens", help="Training tokens, e.g. 1.4T."),
    compute: str | None = typer.Option(None, "--compute", help="Training FLOPs instead of params × tokens."),
    gpu: str = typer.Option("H100", "--gpu", help="Accelerator name or alias (see `scalinglab hardware`)."),
    gpus: str = typer.Option("1", "--gpus", help="Devices training in parallel."),
    mfu: str = typer.Option("0.40", "--mfu", help="Model-FLOPs utilisation (default 0.40; public runs: 14-51%)."),
    price: str | None = typer.Option(None, "--price", help="USD per GPU-hour (default: the catalog's dated estimate)."),
    dtype: str = typer.Option("bf16", "--dtype", help="Peak to use: bf16, fp16, fp8, tf32, fp32."),
    zero: str = typer.Option("0", "--zero", help="ZeRO stage 0-3 over the data-parallel degree."),
    recompute: str = typer.Option("selective", "--recompute", help="Activation recomputation: none, selective, full."),
    micro_batch: str = typer.Option("1", "--micro-batch", help="Sequences per device per micro-step."),
    seq: str = typer.Option("2048", "--seq", help="Sequence length for activations and attention FLOPs."),
    tp: str = typer.Option("1", "--tp", help="Tensor-parallel degree."),
    pp: str = typer.Option("1", "--pp", help="Pipeline-parallel degree."),
    convention: str = typer.Option("6N", "--convention", help="FLOP convention (non-6N needs --layers/--d-model)."),
    layers: str | None = typer.Option(None, "--layers", help="Model depth, for activation memory."),
    d_model: str | None = typer.Option(None, "--d-model", help="Model width, for activation memory."),
    heads: str | None = typer.Option(None, "--heads", help="Attention heads (default d_model/64)."),
    vocab: str = typer.Option("50257", "--vocab", help="Vocabulary size (with --layers/--d-model)."),
    peak_tflops: str | None = typer.Option(None, "--peak-tflops", help="Override the dense peak for --dtype (TFLOP/s)."),
    memory_gb: str | None = typer.Option(None, "--memory-gb", help="Override device memory (GB)."),
    bandwidth_gbs: str | None = typer.Option(None, "--bandwidth-gbs", help="Override memory bandwidth (GB/s)."),
    catalog: str | None = typer.Option(None, "--catalog", help="TOML file of extra accelerators."),
    as_json: bool = JSON_OPTION,
):
    """Training FLOPs, PF-days, GPU-hours, wall-clock, cost and memory per GPU."""
    from scalinglab.core.hardware import default_catalog
    from scalinglab.plan.budget import MFU_NOTE, train_plan, training_flops
    from scalinglab.plan.memory import RECOMPUTE, ZERO_STAGES, training_memory

    accelerator = default_catalog(catalog).get_accelerator(gpu).with_overrides(
        peak_tflops=None if peak_tflops is None else number(peak_tflops, "--peak-tflops"),
        dtype=dtype,
        memory_gb=None if memory_gb is None else number(memory_gb, "--memory-gb"),
        bandwidth_gbs=None if bandwidth_gbs is None else number(bandwidth_gbs, "--bandwidth-gbs"),
    )
    zero_stage = _int(zero, "--zero", allow_zero=True)
    if zero_stage not in ZERO_STAGES:
        raise ScalingLabError(f"--zero: ZeRO stage must be 0, 1, 2 or 3, got {zero}")
    if recompute not in RECOMPUTE:
        raise ScalingLabError(f"--recompute: choose one of {', '.join(RECOMPUTE)}, got {recompute!r}")
    if (layers is None) != (d_model is None):
        raise ScalingLabError("give both --layers and --d-model (or neither)")
    seq_len = _int(seq, "--seq")
    shape = None if layers is None else _shape(layers, d_model, heads, vocab=vocab, ctx=str(seq_len))

    n = None if params is None else number(params, "--params")
    d = None if tokens is None else number(tokens, "--tokens")
    c = None if compute is None else number(compute, "--compute")
    if c is None and (d is None or (n is None and shape is None)):
        raise ScalingLabError("give --params and --tokens (or --compute)")
    if n is not None and shape is not None and not 0.9 <= n / shape.total_params <= 1 / 0.9:
        # The shape's own count drives the FLOPs; a different --params would silently mix two models.
        raise ScalingLabError(
            f"--params {n:.4g} disagrees with --layers {shape.n_layer} --d-model {shape.d_model}, which "
            f"hold {shape.total_params:.4g} parameters; fix one of them (or drop --layers/--d-model)")
    if c is not None and d is not None and (n is not None or shape is not None):
        # The model and its tokens fix the compute already: two answers for one quantity.
        raise ScalingLabError("give --params and --tokens, or --compute (with --params: the tokens "
                              "it buys), not all three")
    if c is not None and d is None and (n is not None or shape is not None):
        d = c / training_flops(n, 1.0, convention=convention, shape=shape)  # tokens that C buys

    result = train_plan(
        params=n, tokens=d, gpu=accelerator, gpus=_int(gpus, "--gpus"), mfu=fraction(mfu, "--mfu"),
        dtype=dtype, price_per_gpu_hour=price_per_hour(price),
        flops=c, convention=convention, shape=shape,
    )
    memory = None
    if result.params is not None:
        memory = training_memory(
            result.params, shape=shape, gpus=result.gpus, zero=zero_stage,
            tp=_int(tp, "--tp"), pp=_int(pp, "--pp"), recompute=recompute,
            micro_batch=_int(micro_batch, "--micro-batch"), gpu=accelerator,
        )
    payload = {
        **result.as_dict(),
        "memory_per_gpu": None if memory is None else memory.as_dict(),
        "mfu_note": MFU_NOTE,
    }

    def render():
        out = console()
        cost = "—" if result.cost_usd is None else f"${_amount(result.cost_usd, 0)}"
        rows = [
            ("model", f"{_fmt(result.params)} params × {_fmt(result.tokens)} tokens", ""),
            ("training compute", f"{result.flops:.3e} FLOPs",
             f"{_amount(result.pf_days)} PF-days ({result.convention})"),
            ("device", f"{result.gpus:,} × {result.gpu}",
             f"{result.dtype} dense peak {_amount(result.peak / 1e12)} TFLOP/s"),
            ("MFU", f"{result.mfu:.1%}", "default 40%; public runs reach 14-51%, median ~35%"),
            ("GPU-hours", _amount(result.gpu_hours, 0), ""),
            ("wall-clock", f"{_amount(result.wall_clock_days)} days",
             f"on {result.gpus:,} device{'s' if result.gpus != 1 else ''}"),
            ("cost", cost, result.price_source if result.price_per_gpu_hour is None
             else f"${result.price_per_gpu_hour:g}/GPU-h, {result.price_source}"),
        ]
        out.print(_table("Training plan", rows))
        if memory is not None:
            fits = {None: "(fit unknown: activations not counted)", True: "fits", False: "does NOT fit"}[memory.fits]
            activations = _gb(memory.activations) if memory.activations is not None else \
                "— (give --layers and --d-model)"
            out.print(_table(
                f"Memory per GPU (ZeRO-{memory.zero}, dp {memory.dp}, tp {memory.tp}, pp {memory.pp}, "
                f"{memory.recompute} recompute)",
                [
                    ("weights (bf16)", _gb(memory.states.weights)),
                    ("gradients (bf16)", _gb(memory.states.grads)),
                    ("optimizer (fp32 Adam, 12 B/param)", _gb(memory.states.optimizer)),
                    ("activations", activations),
                    ("total", _gb(memory.total)),
                    (f"{accelerator.name} memory", f"{_gb(memory.capacity)} {fits}"),
                ],
            ))

    emit(payload, as_json, render)


# ----- hardware ---------------------------------------------------------------------------------


@app.command()
def hardware(
    name: str | None = typer.Argument(None, help="One accelerator to describe (default: list all)."),
    catalog: str | None = typer.Option(None, "--catalog", help="TOML file of extra accelerators."),
    as_json: bool = JSON_OPTION,
):
    """The accelerator catalog: dense peaks per dtype, memory, bandwidth, dated default prices."""
    from scalinglab.core.hardware import DTYPES, default_catalog

    known = default_catalog(catalog)
    chosen = [known.get_accelerator(name)] if name is not None else list(known.values())
    payload = chosen[0].as_dict() if name is not None else {"accelerators": [a.as_dict() for a in chosen]}

    def render():
        from rich.table import Table

        table = Table(title="Accelerators (dense peak TFLOP/s; '—' = no hardware support)", title_justify="left")
        # Numbers never wrap; on a narrow terminal the names fold instead of losing characters.
        table.add_column("name", overflow="fold")
        for column in (*DTYPES, "GB", "GB/s", "$/h"):
            table.add_column(column, justify="right", no_wrap=True)
        for acc in chosen:
            peaks = [f"{acc.peak_flops[d] / 1e12:g}" if d in acc.peak_flops else "—" for d in DTYPES]
            price = "—" if acc.price_per_hour is None else f"{acc.price_per_hour:.2f}"
            table.add_row(acc.name, *peaks, f"{acc.memory_gb:.0f}", f"{acc.bandwidth_gbs:.0f}", price)
        out = console()
        out.print(table)
        out.print("Prices are approximate, dated defaults (see `scalinglab hardware NAME`); pass --price.")
        if name is not None:
            acc = chosen[0]
            rows = [("aliases", ", ".join(acc.aliases) or "—")]
            rows += [(f"source: {k}", v) for k, v in acc.sources.items()]
            rows += [("price source", f"{acc.price_source} {acc.price_kind}".strip() or "—"),
                     ("notes", acc.notes or "—")]
            out.print(_table(acc.name, rows))

    emit(payload, as_json, render)
