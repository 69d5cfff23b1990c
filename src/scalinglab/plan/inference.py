"""Inference economics: FLOPs per generated token, the bandwidth bound on decode, tokens/s, $/token.

- **FLOPs** (Kaplan et al. 2020 Table 1; docs/planner.md): a forward pass costs 2N plus attention.
  With a KV cache, the token at position t costs 2·N_matmul + 4·n_layer·t·d_attn (scores and the
  weighted sum over t cached positions, 2·n_layer·t·d_attn each; GQA shares K/V but does not
  reduce it), plus 2·d·V for the logits. Prefill of P tokens costs 2·N_matmul·P + 2·n_layer·P²·d_attn
  (causal). N_matmul is the attention + MLP weight-matrix count (Kaplan's N); the embedding lookup
  is free. Sardana et al. use plain 2N per token.
- **Time** (docs/planner.md, "Inference cost"): at small batch, decode is memory-bandwidth bound —
  every step
  streams all weights (and the KV cache) from HBM, so
  t_token ≥ (weight bytes + KV bytes) / (n_gpu · bandwidth · η_mem), with η_mem ≈ 0.6–0.9
  achievable; η = 1 gives the lower bound. Compute time per step is 2·N·B / (n_gpu · peak · MFU);
  the two cross at batch B* ≈ peak / bandwidth (bf16).
- **Cost**: $ per 1M output tokens = $/GPU-h × n_gpu / (aggregate tokens/s × 3600) × 1e6.
"""

from __future__ import annotations

from dataclasses import dataclass

from scalinglab.core.architecture import TransformerShape
from scalinglab.core.hardware import Accelerator, get_accelerator
from scalinglab.core.numbers import parse_number
from scalinglab.core.units import INFERENCE_FLOP_PER_PARAM_TOKEN, SECONDS_PER_HOUR
from scalinglab.errors import ScalingLabError
from scalinglab.plan.memory import element_bytes, kv_cache_bytes


def decode_flops_per_token(shape: TransformerShape, position: int | None = None) -> float:
    """Forward FLOPs to generate the token at ``position`` (default ``ctx``) with a KV cache:
    2·N_matmul + 4·n_layer·t·d_attn + 2·d·V."""
    t = shape.ctx if position is None else parse_number(position, name="position")
    return INFERENCE_FLOP_PER_PARAM_TOKEN * shape.kaplan_params + 4.0 * shape.n_layer * t * shape.attn_dim + INFERENCE_FLOP_PER_PARAM_TOKEN * shape.d_model * shape.vocab


def prefill_flops(shape: TransformerShape, prompt_tokens: int) -> float:
    """Forward FLOPs to prefill ``prompt_tokens`` tokens (causal attention), logits for the last
    one only: 2·N_matmul·P + 2·n_layer·P²·d_attn + 2·d·V."""
    p = parse_number(prompt_tokens, name="prompt_tokens")
    return INFERENCE_FLOP_PER_PARAM_TOKEN * shape.kaplan_params * p + 2.0 * shape.n_layer * p**2 * shape.attn_dim + INFERENCE_FLOP_PER_PARAM_TOKEN * shape.d_model * shape.vocab


def generation_flops(shape: TransformerShape, prompt_tokens: int, new_tokens: int) -> float:
    """Forward FLOPs of one request: prefill, then ``new_tokens`` decode steps."""
    p = parse_number(prompt_tokens, name="prompt_tokens", integer=True)
    n = parse_number(new_tokens, name="new_tokens", integer=True)
    # Σ_{t=p+1}^{p+n} of the decode cost; the attention term sums to 4·L·d_attn·(n·p + n(n+1)/2).
    positions = n * p + n * (n + 1) / 2
    decode = n * (INFERENCE_FLOP_PER_PARAM_TOKEN * shape.kaplan_params + INFERENCE_FLOP_PER_PARAM_TOKEN * shape.d_model * shape.vocab)
    decode += 4.0 * shape.n_layer * shape.attn_dim * positions
    return prefill_flops(shape, p) + decode


def decode_seconds_per_token(
    weight_bytes: float,
    gpu: str | Accelerator,
    gpus: int = 1,
    *,
    kv_bytes: float = 0.0,
    memory_efficiency: float = 1.0,
) -> float:
    """Lower bound on one decode step: (weight bytes + KV bytes read) / (gpus · bandwidth · η).

    One step yields one token per sequence in the batch; ``kv_bytes`` is the cache read that step.
    """
    accelerator = get_accelerator(gpu)
    eta = parse_number(memory_efficiency, name="memory_efficiency")
    if eta > 1:
        raise ScalingLabError(f"memory_efficiency: must be in (0, 1], got {memory_efficiency!r}")
    kv_bytes = parse_number(kv_bytes, name="kv_bytes", allow_zero=True)
    weight_bytes = parse_number(weight_bytes, name="weight_bytes")
    gpus = parse_number(gpus, name="gpus", integer=True)
    return (weight_bytes + kv_bytes) / (gpus * accelerator.bandwidth_bytes_per_s * eta)


def cost_per_million_tokens(price_per_gpu_hour: float, gpus: int, tokens_per_s: float) -> float:
    """USD per 1M generated tokens: $/GPU-h × gpus / (aggregate tokens/s × 3600) × 1e6.

    A price of 0 (hardware you own) is accepted and gives 0.
    """
    hourly = (parse_number(price_per_gpu_hour, name="price_per_gpu_hour", allow_zero=True)
              * parse_number(gpus, name="gpus"))
    return hourly / (parse_number(tokens_per_s, name="tokens_per_s") * SECONDS_PER_HOUR) * 1e6


def _compute_dtype(accelerator: Accelerator, weight_dtype: str) -> str:
    """The matmul format decode runs in: fp8 for fp8 weights where supported, else bf16 (fp16 on
    devices without bf16; weight-only int8/int4 still multiplies in 16 bits)."""
    if str(weight_dtype).lower() == "fp8" and "fp8" in accelerator.peak_flops:
        return "fp8"
    return accelerator.half_precision


@dataclass(frozen=True)
class DecodePlan:
    """Bandwidth-bound decode estimate for one batch (times in seconds)."""

    params: float
    weight_bytes: float
    kv_bytes: float
    seconds_per_token: float
    tokens_per_s: float
    compute_seconds_per_step: float
    crossover_batch: float
    gpu: str
    gpus: int
    batch: int

    def as_dict(self) -> dict:
        return {
            "params": self.params,
            "weight_bytes": self.weight_bytes,
            "kv_cache_bytes": self.kv_bytes,
            "ms_per_token": self.seconds_per_token * 1e3,
            "tokens_per_s": self.tokens_per_s,
            "compute_ms_per_step": self.compute_seconds_per_step * 1e3,
            "crossover_batch": self.crossover_batch,
            "gpu": self.gpu,
            "gpus": self.gpus,
            "batch": self.batch,
        }


def decode_plan(
    params=None,
    *,
    shape: TransformerShape | None = None,
    gpu: str | Accelerator = "H100",
    gpus: int = 1,
    weight_dtype: str = "bf16",
    batch: int = 1,
    context: int | None = None,
    kv_dtype: str = "bf16",
    memory_efficiency: float = 1.0,
    mfu: float = 1.0,
) -> DecodePlan:
    """Decode speed of ``params`` parameters (or ``shape``) at ``batch`` sequences on ``gpus`` devices.

    ``tokens_per_s`` is the aggregate over the batch: batch / max(bandwidth time, compute time).
    The KV cache is counted only with a ``shape`` (its size at ``context`` tokens, default ctx).
    """
    accelerator = get_accelerator(gpu)
    if params is None:
        if shape is None:
            raise ScalingLabError("give params or a model shape")
        params = shape.total_params
    params = parse_number(params, name="params")
    batch = parse_number(batch, name="batch", integer=True)
    weights = params * element_bytes(weight_dtype)
    kv = 0.0 if shape is None else kv_cache_bytes(shape, context, batch, kv_dtype)
    memory_s = decode_seconds_per_token(weights, accelerator, gpus, kv_bytes=kv, memory_efficiency=memory_efficiency)
    peak = accelerator.peak(_compute_dtype(accelerator, weight_dtype))
    gpus = parse_number(gpus, name="gpus", integer=True)
    compute_s = INFERENCE_FLOP_PER_PARAM_TOKEN * params * batch / (gpus * peak * parse_number(mfu, name="mfu"))
    step = max(memory_s, compute_s)
    return DecodePlan(
        params=params,
        weight_bytes=weights,
        kv_bytes=kv,
        seconds_per_token=step,
        tokens_per_s=batch / step,
        compute_seconds_per_step=compute_s,
        crossover_batch=peak * element_bytes(weight_dtype) / (INFERENCE_FLOP_PER_PARAM_TOKEN * accelerator.bandwidth_bytes_per_s),
        gpu=accelerator.name,
        gpus=gpus,
        batch=batch,
    )
