"""Precision and quantization: what fewer bits cost in memory, and what they cost in quality.

**Memory** [C; docs/laws.md, "Precision"]: weights take N·bits/8 bytes; block-wise formats add one
scale per
block (4-bit with a 16-bit scale per 64 weights = 4.25 bits/param; the block-scale convention is an
assumption [R]). 70B: 140 GB at 16 bits, 70 GB at 8, 35 GB at 4, 37.19 GB at 4 bits with 64-blocks.

**Quality**, Kumar et al. 2024 / ICLR 2025, "Scaling Laws for Precision" (arXiv 2411.04330)
[forms P (abstract) / S; constants S — a secondary course note quoting App. K Table 2, not checked
against the paper]:

- training in low precision shrinks the *effective* parameter count,
  N_eff = N·Π_{x∈{w,a,kv}} (1 − exp(−P_x/γ_x))  (Eqs. 3–4); only γ_w = 2.6745 and γ_kv ≈ 0.96 were
  found, so this module computes the weight (and KV) factors and nothing for activations;
- post-training quantization (PTQ) adds δ_PTQ = C_T·(D^γ_D / N^γ_N)·exp(−P_post/γ_post) (Eq. 2).
  C_T and γ_post were not found, so the *absolute* PTQ loss cannot be computed here; its *scaling*
  can: ×2^γ_D = ×1.4209 when training tokens double, ×2^(−γ_N) = ×0.7879 when parameters double.
  Over-trained models are therefore hurt more by the same quantization.

Dettmers & Zettlemoyer 2023 ("The case for 4-bit precision", ICML, PMLR 202:7750–7774) [P abstract]:
over 35,000 experiments (19M–176B parameters) found 4-bit weights almost universally optimal for
total model bits versus zero-shot accuracy (e.g. 60B at 4 bits beats 30B at 8 bits).
"""

from __future__ import annotations

import numpy as np

from scalinglab.core.numbers import positive, positive_float, scalar_or_array
from scalinglab.errors import ScalingLabError

KUMAR_SOURCE = ("Kumar et al. 2024 (arXiv 2411.04330), App. K Table 2 via a secondary course note "
                "[S, unverified]")
#: γ_w, weight-precision sensitivity, bits (Kumar et al. App. K Table 2) [S].
KUMAR_GAMMA_W = 2.6745
#: γ_kv, KV-cache precision sensitivity, bits; printed as "≈ 0.96" in the secondary source [S].
KUMAR_GAMMA_KV = 0.96
#: PTQ degradation exponents: δ_PTQ ∝ D^γ_D / N^γ_N (Eq. 2) [S].
KUMAR_GAMMA_D = 0.5068
KUMAR_GAMMA_N = 0.3439

DETTMERS_NOTE = ("Dettmers & Zettlemoyer 2023 (ICML): 4-bit weights are almost universally "
                 "optimal for total model bits vs zero-shot accuracy [P abstract]")

#: Bits per parameter of the block scales people use: one 16-bit scale per ``block`` weights.
DEFAULT_SCALE_BITS = 16


def bits_per_param(bits: float, block_size: int | None = None, scale_bits: float = DEFAULT_SCALE_BITS):
    """Stored bits per weight: ``bits`` plus ``scale_bits/block_size`` when block-quantized."""
    b = _check_bits(bits)
    if block_size is None:
        return b
    blk = float(positive(block_size, "block_size"))
    return b + float(positive(scale_bits, "scale_bits")) / blk


def weight_memory_bytes(params, bits: float = 16, block_size: int | None = None,
                        scale_bits: float = DEFAULT_SCALE_BITS):
    """Bytes to hold ``params`` weights at ``bits`` bits (plus block scales). 70B at 4 bits: 35e9."""
    n = positive(params, "params")
    return scalar_or_array(n * bits_per_param(bits, block_size, scale_bits) / 8.0)


def effective_param_fraction(weight_bits=None, kv_bits=None):
    """N_eff/N for training with weights (and KV cache) at the given precisions (Kumar Eqs. 3–4) [S].

    Activations are left out because γ_a was not found. Weights only: 0.6743 at 3 bits, 0.7759 at
    4, 0.9498 at 8, 0.9975 at 16 (Kumar et al. 2024 Eqs. 3–4, [C] on [S] constants).
    """
    if weight_bits is None and kv_bits is None:
        raise ScalingLabError("give weight_bits and/or kv_bits")
    factor = 1.0
    if weight_bits is not None:
        factor = factor * (1.0 - np.exp(-positive(weight_bits, "weight_bits") / KUMAR_GAMMA_W))
    if kv_bits is not None:
        factor = factor * (1.0 - np.exp(-positive(kv_bits, "kv_bits") / KUMAR_GAMMA_KV))
    return scalar_or_array(factor)


def ptq_degradation_scaling(token_factor=1.0, param_factor=1.0):
    """How the post-training-quantization loss penalty scales: token_factor^γ_D / param_factor^γ_N.

    Kumar Eq. 2 [S]: the penalty grows with training tokens and shrinks with parameters; doubling
    D multiplies it by 1.4209, doubling N by 0.7879. The absolute penalty needs C_T and γ_post,
    which were not found.
    """
    t = positive(token_factor, "token_factor")
    p = positive(param_factor, "param_factor")
    return scalar_or_array(t**KUMAR_GAMMA_D / p**KUMAR_GAMMA_N)


def quantized_serving(params, bits_list=(16, 8, 4), block_size: int | None = None,
                      tokens: float | None = None) -> list[dict]:
    """Weights memory per bit width, with the precision-law notes that apply.

    Returns one dict per bit width: ``bits``, ``bits_per_param``, ``weight_bytes``,
    ``memory_ratio`` (vs 16 bits), and, when ``tokens`` is given, ``tokens_per_param`` (the
    over-training that makes PTQ hurt more, Kumar Eq. 2).
    """
    n = float(positive(params, "params"))
    rows = []
    for bits in bits_list:
        bpp = bits_per_param(bits, block_size if bits < 16 else None)
        row = {"bits": float(bits), "bits_per_param": bpp, "weight_bytes": n * bpp / 8.0,
               "memory_ratio": bpp / 16.0}
        if tokens is not None:
            row["tokens_per_param"] = float(positive(tokens, "tokens")) / n
        rows.append(row)
    return rows


def _check_bits(bits) -> float:
    b = positive_float(bits, "bits")
    if b > 64:
        raise ScalingLabError(f"bits: must be in (0, 64], got {bits!r}")
    return b
