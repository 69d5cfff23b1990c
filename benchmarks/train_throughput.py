"""Training throughput of ``scalinglab.train``: tokens/s, achieved FLOP/s and its ratio to a peak.

CPU (default): for models from ~50k to ~5M total parameters (shapes by
``scalinglab.core.shapes.shape_for_params``, the rule sweeps and ``scalinglab train --params`` use), run ``train()`` on the default corpus and time every
optimizer step through the ``progress`` callback. The reference is the same-dtype peak of
``scalinglab.train.peak``: the best 2048x2048 matmul, measured in this process right before and
right after each model (best of both), with the same thread count. For context the script also
prints the best in-cache product (512² and 1024²), which can be faster than the large one.
Because other processes may share the cores, it prints the median step and the best step: the
best step against the best matmul is the fairest ratio on a loaded machine, the median the
typical one. FLOPs are the "chinchilla" convention (Hoffmann et al. 2022 App. F: embeddings,
attention and logits counted, no causal halving).

``--concurrent K`` measures the way a local sweep uses the machine instead: K runs of the same
size (different seeds) train at once in K processes of ``threads / K`` threads each (the sweep's
default is one thread per run), and the aggregate FLOP/s of the K runs is divided by the
all-thread peak measured in the parent process right before and after them.

GPU (``--device cuda``): a GPT-2-small-sized model (12 x 768, BPE vocabulary 50,304 trained on
the default corpus, ~124M parameters, context 1024) in bf16 with ``torch.compile``; MFU against
the hardware catalog's dense bf16 peak (H100-SXM: 989 TFLOP/s).

Usage::

    python benchmarks/train_throughput.py                    # CPU, fp32, all threads
    python benchmarks/train_throughput.py --dtype bf16 --threads 1
    python benchmarks/train_throughput.py --concurrent 2     # two one-thread runs at once
    python benchmarks/train_throughput.py --device cuda
"""

from __future__ import annotations

import argparse
import statistics
import time

from _timing import machine

#: Non-embedding parameter targets for the CPU sweep (50k to 5M).
CPU_SIZES = (5e4, 1e5, 3e5, 1e6, 2e6, 5e6)


def timed_train(config):
    """Run ``train(config)`` and return (result, per-step seconds)."""
    from scalinglab.train.trainer import train

    stamps = []

    def progress(event):
        if "val_loss" not in event:
            stamps.append(time.perf_counter())

    start = time.perf_counter()
    result = train(config, progress=progress)
    steps = [b - a for a, b in zip([start] + stamps[:-1], stamps, strict=True)]
    return result, steps[1:]  # the first step includes one-time set-up (allocation, thread pools)


def step_stats(step_seconds) -> tuple[float, float]:
    """(median, best) seconds per step."""
    return statistics.median(step_seconds), min(step_seconds)


def _concurrent_steps(config) -> list:
    """Worker of ``--concurrent``: one run in its own process; its per-step seconds."""
    return timed_train(config)[1]


def concurrent_step_stats(config, runs: int) -> tuple[float, float]:
    """Effective (median, best) seconds per step of ``runs`` simultaneous runs, seeds 0..runs-1.

    The runs start together and take the same number of steps, so they overlap almost entirely;
    the effective step time is the per-run statistic divided by ``runs`` (the machine delivers
    ``runs`` steps in that time). The "best" figure pairs each run's best step, which need not
    have coincided, so it is the optimistic end; the median is the fair one.
    """
    import dataclasses
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    configs = [dataclasses.replace(config, seed=seed) for seed in range(runs)]
    with ProcessPoolExecutor(runs, mp_context=multiprocessing.get_context("spawn")) as pool:
        per_run = list(pool.map(_concurrent_steps, configs))
    # A run's late steps may overlap the other's end; the middle half overlaps for sure.
    middles = [steps[len(steps) // 4: max(len(steps) // 4 + 1, 3 * len(steps) // 4)] for steps in per_run]
    med = statistics.mean(statistics.median(m) for m in middles) / runs
    best = statistics.mean(min(m) for m in middles) / runs
    return med, best


def cpu(args) -> None:
    import torch

    from scalinglab.core.shapes import shape_for_params
    from scalinglab.train.config import TrainConfig
    from scalinglab.train.peak import cpu_matmul_peak

    threads = args.threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    runs = args.concurrent
    if runs < 1 or threads % runs:
        raise SystemExit(f"--concurrent {runs}: must be a positive divisor of the thread count {threads}")
    print(f"# machine: {machine()}")
    mode = (f"{runs} concurrent runs x {threads // runs} thread(s), aggregate" if runs > 1
            else f"threads {threads}")
    print(f"# device cpu, dtype {args.dtype}, {mode}, ctx {args.ctx}, micro-batch {args.batch}, "
          f"compile {args.compile}, torch {torch.__version__}")
    header = (f"{'target':>7} {'shape':>9} {'N_nonemb':>10} {'tok/s med':>10} {'tok/s best':>10} "
              f"{'GF/s med':>9} {'GF/s best':>9} {'peak GF/s':>9} {'frac med':>8} {'frac best':>9} "
              f"{'cache GF/s':>10}")
    print(header)
    for target in args.sizes:
        shape = shape_for_params(target, ctx=args.ctx)
        tokens_per_step = args.batch * args.ctx
        flops_per_step = shape.flops_per_token("chinchilla") * tokens_per_step
        # Enough steps for ~args.seconds of training at ~50 GFLOP/s, at least 12.
        steps = max(12, int(args.seconds * 50e9 / flops_per_step))
        config = TrainConfig(
            n_layer=shape.n_layer, d_model=shape.d_model, n_head=shape.n_head, ctx=args.ctx,
            batch_size=args.batch, tokens=steps * tokens_per_step, eval_every=0, eval_tokens=args.ctx,
            warmup_steps=2, device="cpu", dtype=args.dtype, threads=threads // runs, compile=args.compile,
        )
        # Two seconds of timing each side (not the trainer's 0.6 s): more chances of a quiet moment.
        cpu_matmul_peak.cache_clear()
        before = cpu_matmul_peak(args.dtype, threads, seconds=2.0)
        if runs == 1:
            med, best = step_stats(timed_train(config)[1])
        else:
            med, best = concurrent_step_stats(config, runs)
        torch.set_num_threads(threads)
        cpu_matmul_peak.cache_clear()
        peak = max(before, cpu_matmul_peak(args.dtype, threads, seconds=2.0))
        in_cache = cpu_matmul_peak(args.dtype, threads, sizes=(512, 1024))
        print(f"{target:7.0e} {f'{shape.n_layer}x{shape.d_model}':>9} {shape.non_embedding_params:10,d} "
              f"{tokens_per_step / med:10,.0f} {tokens_per_step / best:10,.0f} "
              f"{flops_per_step / med / 1e9:9.1f} {flops_per_step / best / 1e9:9.1f} {peak / 1e9:9.1f} "
              f"{flops_per_step / med / peak:8.2f} {flops_per_step / best / peak:9.2f} "
              f"{in_cache / 1e9:10.1f}", flush=True)


def gpu(args) -> None:
    import torch

    from scalinglab.train.config import TrainConfig

    if not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU visible: the GPU figure cannot be measured on this machine")
    ctx, batch = 1024, args.batch  # 16 x 1024 tokens per step fits an 80 GB GPU in bf16
    config = TrainConfig(
        n_layer=12, d_model=768, n_head=12, ctx=ctx, tokenizer="bpe:50304", batch_size=batch,
        tokens=args.gpu_steps * batch * ctx, eval_every=0, eval_tokens=ctx, warmup_steps=2,
        device="cuda", dtype="bf16", compile=not args.no_compile, lr=6e-4,
    )
    print(f"# machine: {torch.cuda.get_device_name()}, torch {torch.__version__}, compile {config.compile}")
    result, step_seconds = timed_train(config)
    steady = step_seconds[len(step_seconds) // 4:]  # skip compilation and warm-up steps
    med = statistics.median(steady)
    tokens_per_step = batch * ctx
    achieved = result.flops / result.tokens * tokens_per_step / med
    # nanoGPT's estimate_mfu counts by the PaLM formula (no embedding FLOPs): print that too, for
    # comparison with its reported ~37% on an A100.
    achieved_palm = result.flops_by_convention["palm"] / result.tokens * tokens_per_step / med
    peak = result.peak_flops_per_s
    mfu = ("unknown (device not in the hardware catalog)" if not peak
           else f"{achieved / peak:.1%} (chinchilla FLOPs), {achieved_palm / peak:.1%} (PaLM/nanoGPT FLOPs)")
    print(f"params {result.params:,} (non-embedding {result.non_embedding_params:,}), bf16, ctx {ctx}, "
          f"batch {batch}")
    print(f"median step {med * 1e3:.1f} ms, {tokens_per_step / med:,.0f} tokens/s, "
          f"{achieved / 1e12:.1f} TFLOP/s, peak {0 if not peak else peak / 1e12:.1f} TFLOP/s, MFU {mfu}")
    print(f"# peak: {result.peak_source}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--ctx", type=int, default=256)
    parser.add_argument("--batch", type=int, default=16, help="sequences per step (no accumulation)")
    parser.add_argument("--seconds", type=float, default=4.0, help="rough training time per model")
    parser.add_argument("--sizes", type=float, nargs="*", default=list(CPU_SIZES))
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--concurrent", type=int, default=1,
                        help="CPU: train this many runs at once, threads split between them (sweep mode)")
    parser.add_argument("--gpu-steps", type=int, default=60)
    parser.add_argument("--no-compile", action="store_true", help="GPU: run eagerly")
    args = parser.parse_args()
    (gpu if args.device == "cuda" else cpu)(args)


if __name__ == "__main__":
    main()
