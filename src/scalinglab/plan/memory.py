"""Memory per device: model states under ZeRO, activations (Korthikanti), KV cache, inference.

Byte counts are per device and in bytes (1 GB = 1e9 bytes in the printed figures). The result
classes keep their fields in bytes and add ``*_gb`` properties (and ``gb``, a dict of all of them)
for reading in gigabytes.

- **Model states** (Rajbhandari et al., ZeRO, §3 and Fig. 1): mixed-precision Adam keeps 16 bytes
  per parameter, written (2 + 2 + K)·Ψ: bf16/fp16 weights 2, gradients 2 and K = 12 of optimizer
  state (fp32 master weights, momentum, variance). ZeRO-1 shards the optimizer state over the
  data-parallel degree N_d, ZeRO-2 also the gradients, ZeRO-3 also the weights. Tensor and
  pipeline parallelism split all three over tp·pp. Live/prefetch buffers of ZeRO-3 are not counted.
- **Activations** (Korthikanti et al. 2022, §4–§5, Table 2): 16-bit activations and 1-byte dropout
  masks; per layer s·b·h·(34 + 5·a·s/h) with no parallelism. FlashAttention never materialises the
  s² scores, so it needs what selective recomputation needs (34·s·b·h); SwiGLU, no dropout and
  RMSNorm change the constants (docs/planner.md caveat) — the figures are the paper's GPT layer.
  With a pipeline, the first stage holds L layers' activations whatever the pipeline degree (1F1B).
- **KV cache** (vLLM §3): 2 (K and V) · n_layer · n_kv_head · head_dim · bytes per token.
"""

from __future__ import annotations

from dataclasses import dataclass

from scalinglab.core.architecture import TransformerShape
from scalinglab.core.hardware import Accelerator, get_accelerator, normalise_dtype
from scalinglab.core.numbers import parse_number
from scalinglab.errors import ScalingLabError

#: Bytes per stored number by format (int4 packs two per byte).
BYTES_PER_ELEMENT = {"fp32": 4.0, "tf32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}
#: Optimizer-state bytes per parameter (Transformer Math 101 [S]; ZeRO's K).
OPTIMIZER_BYTES = {"adam": 12.0, "adamw": 12.0, "adam8bit": 6.0, "sgd": 8.0}
#: Activation-recomputation strategies of Korthikanti et al. 2022.
RECOMPUTE = ("none", "selective", "full")
ZERO_STAGES = (0, 1, 2, 3)


def element_bytes(dtype: str) -> float:
    """Bytes per element of ``dtype`` (``bf16`` -> 2, ``int4`` -> 0.5)."""
    key = str(dtype).strip().lower()
    if key not in BYTES_PER_ELEMENT:
        try:
            key = normalise_dtype(key)  # bfloat16 -> bf16, ...
        except ScalingLabError:
            raise ScalingLabError(
                f"unknown dtype {dtype!r}; choose one of: {', '.join(BYTES_PER_ELEMENT)}"
            ) from None
    return BYTES_PER_ELEMENT[key]


#: Bytes per GB in every ``*_gb`` figure (decimal, as device memory is sold: an H100 has 80 GB).
GB = 1e9


def _gb(value: float | None) -> float | None:
    return None if value is None else value / GB


# ----- model states ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelStates:
    """Weights, gradients and optimizer state per device, in bytes (``*_gb``: in GB, 1e9 bytes)."""

    weights: float
    grads: float
    optimizer: float

    @property
    def total(self) -> float:
        return self.weights + self.grads + self.optimizer

    @property
    def weights_gb(self) -> float:
        return _gb(self.weights)

    @property
    def grads_gb(self) -> float:
        return _gb(self.grads)

    @property
    def optimizer_gb(self) -> float:
        return _gb(self.optimizer)

    @property
    def total_gb(self) -> float:
        return _gb(self.total)

    @property
    def gb(self) -> dict:
        """Every figure in GB (1e9 bytes): ``weights``, ``grads``, ``optimizer``, ``total``."""
        return {"weights": self.weights_gb, "grads": self.grads_gb, "optimizer": self.optimizer_gb,
                "total": self.total_gb}

    def as_dict(self) -> dict:
        return {"weights_bytes": self.weights, "grads_bytes": self.grads,
                "optimizer_bytes": self.optimizer, "model_states_bytes": self.total}


def model_state_bytes(
    params,
    *,
    zero: int = 0,
    dp: int = 1,
    model_parallel: int = 1,
    weight_bytes: float = 2.0,
    grad_bytes: float = 2.0,
    optimizer_bytes: float = 12.0,
) -> ModelStates:
    """Model-state bytes per device (ZeRO §3, Fig. 1).

    Parameters
    ----------
    params : float
        Parameters Ψ.
    zero : {0, 1, 2, 3}
        ZeRO stage: 0 plain data parallel, 1 shards optimizer state, 2 + gradients, 3 + weights.
    dp : int
        Data-parallel degree N_d the shards are spread over.
    model_parallel : int
        Tensor × pipeline degree that splits the model itself.
    weight_bytes, grad_bytes, optimizer_bytes : float
        Bytes per parameter: 2, 2 and K = 12 for mixed-precision Adam (16 in all).
    """
    psi = parse_number(params, name="params") / parse_number(model_parallel, name="model_parallel", integer=True)
    dp = parse_number(dp, name="dp", integer=True)
    if zero not in ZERO_STAGES or isinstance(zero, bool):
        raise ScalingLabError(f"zero: ZeRO stage must be 0, 1, 2 or 3, got {zero!r}")
    shard = lambda stage: dp if zero >= stage else 1  # noqa: E731 - reads like the paper's table
    return ModelStates(
        weights=weight_bytes * psi / shard(3),
        grads=grad_bytes * psi / shard(2),
        optimizer=optimizer_bytes * psi / shard(1),
    )


# ----- activations ----------------------------------------------------------------------------------
def activation_bytes_per_layer(
    seq: int,
    micro_batch: int,
    d_model: int,
    n_head: int,
    *,
    recompute: str = "none",
    tp: int = 1,
    sequence_parallel: bool = False,
) -> float:
    """Activation bytes of one transformer layer (Korthikanti et al. 2022, Table 2).

    ========================  ==============================
    no recompute, no TP       s·b·h·(34 + 5·a·s/h)
    tensor parallel t         s·b·h·(10 + 24/t + 5·a·s/(h·t))
    TP + sequence parallel    s·b·h·(34/t + 5·a·s/(h·t))
    selective, TP             s·b·h·(10 + 24/t)
    selective, TP + SP        34·s·b·h/t
    full recompute            2·s·b·h (the layer input only)
    ========================  ==============================
    """
    if recompute not in RECOMPUTE:
        raise ScalingLabError(f"recompute: choose one of {', '.join(RECOMPUTE)}, got {recompute!r}")
    s, b = parse_number(seq, name="seq"), parse_number(micro_batch, name="micro_batch")
    h, a = parse_number(d_model, name="d_model"), parse_number(n_head, name="n_head")
    t = parse_number(tp, name="tp", integer=True)
    sbh = s * b * h
    if recompute == "full":
        return 2.0 * sbh
    scores = 0.0 if recompute == "selective" else 5.0 * a * s / (h * t)
    if sequence_parallel:
        return sbh * (34.0 / t + scores)
    return sbh * (10.0 + 24.0 / t + scores)


def activation_bytes(
    shape: TransformerShape,
    micro_batch: int = 1,
    *,
    seq: int | None = None,
    recompute: str = "none",
    tp: int = 1,
    sequence_parallel: bool = False,
    include_output: bool = True,
) -> float:
    """Activation bytes per device for one micro-batch: L layers (Table 2) plus, with
    ``include_output``, Korthikanti §4.3's extras for the first/last stage: embedding dropout
    s·b·h/t and the final LayerNorm and output layer 4·s·b·h/t·(1 + V/h) (fp32 logits)."""
    seq = shape.ctx if seq is None else seq
    per_layer = activation_bytes_per_layer(
        seq, micro_batch, shape.d_model, shape.n_head,
        recompute=recompute, tp=tp, sequence_parallel=sequence_parallel,
    )
    total = shape.n_layer * per_layer
    if include_output:
        sbh_t = seq * micro_batch * shape.d_model / tp
        total += sbh_t + 4.0 * sbh_t * (1.0 + shape.vocab / shape.d_model)
    return total


@dataclass(frozen=True)
class TrainingMemory:
    """Per-device training memory in bytes; ``activations`` is ``None`` without a model shape.

    ``total`` counts what is known (model states, plus activations when a shape was given), so
    without a shape it is a lower bound, and :attr:`fits` says ``None`` rather than claim a fit.
    ``*_gb`` properties and :attr:`gb` give the same figures in GB (1e9 bytes).
    """

    states: ModelStates
    activations: float | None
    capacity: float | None
    zero: int
    dp: int
    tp: int
    pp: int
    recompute: str

    @property
    def total(self) -> float:
        """Bytes counted: model states plus activations (a lower bound when those are ``None``)."""
        return self.states.total + (self.activations or 0.0)

    @property
    def fits(self) -> bool | None:
        """Whether the run fits in the device's memory.

        ``True`` only when everything is counted and fits; ``False`` when even the counted part
        (model states, plus activations if known) exceeds the capacity; ``None`` when it cannot be
        told: no device given, or activations not counted (no model shape) while the states fit.
        :attr:`fits_note` says which.
        """
        if self.capacity is None:
            return None
        if self.total > self.capacity:
            return False
        # Activations of a large model can take tens of GB; without them "fits" would be a guess.
        return None if self.activations is None else True

    @property
    def fits_note(self) -> str:
        """:attr:`fits` in words, with the reason when it is ``None``."""
        if self.capacity is None:
            return "unknown: no device given"
        if self.fits is None:
            return "unknown: activations not counted (give a model shape); the model states fit"
        return "fits" if self.fits else "does not fit"

    @property
    def activations_gb(self) -> float | None:
        return _gb(self.activations)

    @property
    def total_gb(self) -> float:
        return _gb(self.total)

    @property
    def capacity_gb(self) -> float | None:
        return _gb(self.capacity)

    @property
    def gb(self) -> dict:
        """Every figure in GB (1e9 bytes): the model states', ``activations``, ``total``, ``capacity``."""
        return {**self.states.gb, "model_states": self.states.total_gb,
                "activations": self.activations_gb, "total": self.total_gb,
                "capacity": self.capacity_gb}

    def as_dict(self) -> dict:
        return {
            **self.states.as_dict(),
            "activations_bytes": self.activations,
            "total_bytes": self.total,
            "capacity_bytes": self.capacity,
            "fits": self.fits,
            "fits_note": self.fits_note,
            "zero": self.zero,
            "dp": self.dp,
            "tp": self.tp,
            "pp": self.pp,
            "recompute": self.recompute,
        }


def training_memory(
    params=None,
    *,
    shape: TransformerShape | None = None,
    gpus: int = 1,
    zero: int = 0,
    tp: int = 1,
    pp: int = 1,
    recompute: str = "selective",
    micro_batch: int = 1,
    seq: int | None = None,
    sequence_parallel: bool = False,
    gpu: str | Accelerator | None = None,
    weight_bytes: float = 2.0,
    grad_bytes: float = 2.0,
    optimizer_bytes: float = 12.0,
) -> TrainingMemory:
    """Memory per device of a training run on ``gpus`` devices split as tp × pp × dp.

    The data-parallel degree is ``gpus / (tp·pp)``. Activations need ``shape`` (and use its
    ``ctx`` unless ``seq`` is given); ``recompute`` defaults to ``"selective"``, which is also
    what FlashAttention-style kernels need. ``gpu`` adds its memory as ``capacity``.

    Returns
    -------
    TrainingMemory
        Bytes per device. Its ``fits`` is ``True`` only with ``gpu`` and ``shape`` given and
        everything fitting; ``False`` when even the model states (plus activations, if counted)
        exceed the device; ``None`` without ``gpu``, or without ``shape`` when the states fit
        (activations not counted: "unknown", not a claim that the run fits).
    """
    gpus, tp, pp = (parse_number(v, name=n, integer=True) for v, n in ((gpus, "gpus"), (tp, "tp"), (pp, "pp")))
    if gpus % (tp * pp):
        raise ScalingLabError(f"gpus {gpus} is not divisible by tp × pp = {tp * pp}")
    if params is None:
        if shape is None:
            raise ScalingLabError("give params= or a model shape=")
        params = shape.total_params
    dp = gpus // (tp * pp)
    states = model_state_bytes(
        params, zero=zero, dp=dp, model_parallel=tp * pp,
        weight_bytes=weight_bytes, grad_bytes=grad_bytes, optimizer_bytes=optimizer_bytes,
    )
    activations = None
    if shape is not None:
        activations = activation_bytes(
            shape, micro_batch, seq=seq, recompute=recompute, tp=tp, sequence_parallel=sequence_parallel
        )
    elif recompute not in RECOMPUTE:
        raise ScalingLabError(f"recompute: choose one of {', '.join(RECOMPUTE)}, got {recompute!r}")
    capacity = None if gpu is None else get_accelerator(gpu).memory_bytes
    return TrainingMemory(states, activations, capacity, zero, dp, tp, pp, recompute)


# ----- inference ------------------------------------------------------------------------------------
def kv_cache_bytes_per_token(n_layer: int, n_kv_head: int, head_dim: int, dtype: str = "fp16") -> float:
    """KV-cache bytes per token: 2 (K and V) · n_layer · n_kv_head · head_dim · bytes (vLLM §3)."""
    return 2.0 * n_layer * n_kv_head * head_dim * element_bytes(dtype)


def kv_cache_bytes(shape: TransformerShape, context: int | None = None, batch: int = 1, dtype: str = "fp16") -> float:
    """KV-cache bytes for ``batch`` sequences of ``context`` tokens (default ``shape.ctx``)."""
    context = shape.ctx if context is None else context
    per_token = kv_cache_bytes_per_token(shape.n_layer, shape.n_kv_head, shape.head_dim, dtype)
    return per_token * parse_number(context, name="context") * parse_number(batch, name="batch")


@dataclass(frozen=True)
class InferenceMemory:
    """Serving memory in bytes, summed over devices; ``per_device`` divides by ``gpus``."""

    weights: float
    kv_cache: float
    gpus: int

    @property
    def total(self) -> float:
        return self.weights + self.kv_cache

    @property
    def per_device(self) -> float:
        return self.total / self.gpus

    @property
    def gb(self) -> dict:
        """Every figure in GB (1e9 bytes): ``weights``, ``kv_cache``, ``total``, ``per_device``."""
        return {"weights": _gb(self.weights), "kv_cache": _gb(self.kv_cache), "total": _gb(self.total),
                "per_device": _gb(self.per_device)}

    def as_dict(self) -> dict:
        return {"weights_bytes": self.weights, "kv_cache_bytes": self.kv_cache,
                "total_bytes": self.total, "per_device_bytes": self.per_device, "gpus": self.gpus}


def inference_memory(
    params=None,
    *,
    shape: TransformerShape | None = None,
    weight_dtype: str = "bf16",
    kv_dtype: str = "bf16",
    context: int | None = None,
    batch: int = 1,
    gpus: int = 1,
) -> InferenceMemory:
    """Weights (params × bytes per weight) plus the KV cache (needs ``shape``), split over ``gpus``.

    Activations at decode are small and framework overhead is not counted; Transformer Math 101
    [S] suggests ×1.2 on the total as a rule of thumb.
    """
    if params is None:
        if shape is None:
            raise ScalingLabError("give params= or a model shape=")
        params = shape.total_params
    weights = parse_number(params, name="params") * element_bytes(weight_dtype)
    kv = 0.0 if shape is None else kv_cache_bytes(shape, context, batch, kv_dtype)
    return InferenceMemory(weights, kv, parse_number(gpus, name="gpus", integer=True))
