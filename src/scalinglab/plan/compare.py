"""One compute budget, several ways to spend it: dense vs mixture-of-experts, quantized serving, and
the inference-aware size.

- **Dense vs MoE** uses Ludziejewski et al. 2025's joint law (:data:`LUDZIEJEWSKI_2025`), which
  covers the dense model (E = 1) and MoEs (E = expansion rate) with the same constants, so the
  rows are comparable: compute-optimal *active* parameters and tokens at F = 6·N_act·D, the
  *total* parameters that must sit in memory, and FLOPs per token. Krajewski et al. 2024's
  granularity law gives the gain from finer experts at the same budget (its N convention is
  inferred; see :mod:`scalinglab.laws.moe`).
- **Quantized serving** takes the dense compute-optimal model of the chosen Chinchilla-form law and
  reports weight memory and the bandwidth-bound decode time at batch 1 for each bit width, with
  the precision-law notes whose constants exist (:mod:`scalinglab.laws.precision`).
- **Inference-aware**: Sardana et al. 2024's size for a lifetime of inference tokens
  (:func:`scalinglab.laws.inference.inference_aware_optimum`).
"""

from __future__ import annotations

import math

from scalinglab.core.hardware import get_accelerator
from scalinglab.core.numbers import positive_float
from scalinglab.core.units import INFERENCE_FLOP_PER_PARAM_TOKEN
from scalinglab.errors import ScalingLabError
from scalinglab.laws.hyperparams import deepseek_hyperparameters
from scalinglab.laws.inference import inference_aware_optimum, resolve_law
from scalinglab.laws.moe import KRAJEWSKI_2024_DENSE, KRAJEWSKI_2024_MOE, LUDZIEJEWSKI_2025
from scalinglab.laws.precision import (
    DETTMERS_NOTE,
    KUMAR_GAMMA_D,
    KUMAR_SOURCE,
    effective_param_fraction,
    weight_memory_bytes,
)
from scalinglab.plan.inference import decode_seconds_per_token

DEFAULT_EXPERTS = (8, 32)
DEFAULT_BITS = (16, 8, 4)
DEFAULT_GRANULARITIES = (1, 8, 32, 64)
#: bf16 weights, the serving default.
SERVING_BYTES_PER_PARAM = 2.0


def _serving(params_read: float, params_held: float, bits: float, gpu) -> dict:
    """Memory of ``params_held`` weights and the batch-1 decode bound reading ``params_read``."""
    acc = get_accelerator(gpu)
    held = float(weight_memory_bytes(params_held, bits))
    read = float(weight_memory_bytes(params_read, bits))
    gpus = max(1, math.ceil(held / acc.memory_bytes))
    seconds = decode_seconds_per_token(read, acc, gpus)
    return {"weight_bytes": held, "gpus_to_hold_weights": gpus,
            "decode_ms_per_token": seconds * 1e3, "decode_tokens_per_s": 1.0 / seconds,
            "gpu": acc.name}


def moe_comparison(compute: float, experts=DEFAULT_EXPERTS, gpu="H100") -> list[dict]:
    """Dense (E = 1) and MoE rows at ``compute`` FLOPs under Ludziejewski et al. 2025."""
    rows = []
    for e in (1, *experts):
        e = positive_float(e, "experts")
        if e < 1:
            raise ScalingLabError(f"experts: the expansion rate must be at least 1, got {e:g}")
        opt = LUDZIEJEWSKI_2025.optimum(compute, e)
        row = {"name": "dense" if e == 1 else f"MoE E={e:g}", **opt,
               "training_flops": compute,
               "inference_flops_per_token": INFERENCE_FLOP_PER_PARAM_TOKEN * opt["active_params"]}
        # Batch 1 reads only the active experts; bigger batches touch all of them.
        row.update(_serving(opt["active_params"], opt["total_params"], 16, gpu))
        rows.append(row)
    dense_loss = rows[0]["loss"]
    for row in rows:
        row["loss_vs_dense"] = row["loss"] - dense_loss
    return rows


def granularity_comparison(compute: float, granularities=DEFAULT_GRANULARITIES,
                           expansion: float = 64.0) -> list[dict]:
    """Krajewski et al. 2024: compute-optimal active size, tokens and loss per granularity (E = 64),
    with their dense law first."""
    dense = KRAJEWSKI_2024_DENSE.optimum(compute)
    rows = [{"name": "dense", **dense}]
    for g in granularities:
        g = positive_float(g, "granularity")
        rows.append({"name": f"MoE E={expansion:g} G={g:g}",
                     **KRAJEWSKI_2024_MOE.optimum(compute, g, expansion)})
    for row in rows:
        row["loss_vs_dense"] = row["loss"] - dense["loss"]
    return rows


def quantized_comparison(compute: float, law=None, bits=DEFAULT_BITS, gpu="H100") -> dict:
    """The dense compute-optimal model of ``law`` served at each bit width."""
    law = resolve_law(law)
    alloc = law.optimum(compute)
    rows = []
    for b in bits:
        b = positive_float(b, "bits")
        row = {"bits": b, **_serving(alloc.params, alloc.params, b, gpu)}
        row["memory_ratio_vs_16bit"] = b / 16.0
        row["weights_only_effective_param_fraction_if_trained_at_this_precision"] = \
            float(effective_param_fraction(weight_bits=b))
        rows.append(row)
    return {
        "params": alloc.params, "tokens": alloc.tokens, "loss": alloc.loss, "law": law.name,
        "rows": rows,
        # Kumar Eq. 2: the PTQ penalty ∝ D^γ_D / N^γ_N; relative to the same N at 20 tokens/param.
        "ptq_penalty_vs_20_tokens_per_param": (alloc.tokens / (20.0 * alloc.params)) ** KUMAR_GAMMA_D,
        "notes": [
            "absolute PTQ loss is not computed: Kumar et al.'s C_T and gamma_post were not found",
            f"precision constants: {KUMAR_SOURCE}",
            DETTMERS_NOTE,
        ],
    }


def compare(compute, law=None, experts=DEFAULT_EXPERTS, bits=DEFAULT_BITS,
            granularities=DEFAULT_GRANULARITIES, inference_tokens=None, gpu="H100") -> dict:
    """Dense vs MoE vs quantized vs inference-aware for one training budget of ``compute`` FLOPs.

    Returns
    -------
    dict
        ``flops``, ``moe`` (Ludziejewski rows: dense first), ``granularity`` (Krajewski rows),
        ``quantized`` (the law's dense optimum by bit width), ``inference_aware`` (Sardana, when
        ``inference_tokens`` is given), ``hyperparameters`` (DeepSeek's η_opt and B_opt for the
        budget), ``sources``.
    """
    c = positive_float(compute, "compute")
    out = {
        "flops": c,
        "hyperparameters": deepseek_hyperparameters(c),
        "moe": moe_comparison(c, experts, gpu),
        "granularity": granularity_comparison(c, granularities),
        "quantized": quantized_comparison(c, law, bits, gpu),
        "sources": {
            "moe": LUDZIEJEWSKI_2025.source + "; total params = active x (1 + (E-1) x 2/3) "
                   "(MLP share of a d_ff = 4d layer; inferred convention)",
            "granularity": KRAJEWSKI_2024_MOE.source + "; N convention inferred; routing FLOPs "
                           "(Eq. 10) not included",
            "decode": "bandwidth-bound lower bound, weights only, batch 1 (docs/planner.md): the "
                      "weights read per token (an MoE's active experts only) spread evenly over "
                      "the GPUs needed to hold the whole model",
        },
    }
    if inference_tokens is not None:
        out["inference_aware"] = inference_aware_optimum(law, c, inference_tokens)
    return out
