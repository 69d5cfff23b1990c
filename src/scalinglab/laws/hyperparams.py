"""Hyper-parameters and allocation at scale: the DeepSeek LLM 2024 power laws.

DeepSeek-AI, "DeepSeek LLM: Scaling Open-Source Language Models with Longtermism" (arXiv
2401.02954), §3.1 (hyper-parameters) and §3.2 (model and data scale) [P]. C is training compute in
FLOPs, B is the batch size in **tokens**, η the peak learning rate (their AdamW + multi-step
schedule):

    η_opt(C) = 0.3118·C^(−0.1250)        B_opt(C) = 0.2920·C^0.3271
    M_opt(C) = 0.1715·C^0.5243           D_opt(C) = 5.8316·C^0.4757

M is the *model scale*: non-embedding FLOPs per token including attention,
M = 72·n_layer·d_model² + 12·n_layer·d_model·l_seq (Eq. 2), with C = M·D; compute it with
:func:`scalinglab.core.architecture.deepseek_flops_per_token`. The hyper-parameter laws were fitted
on 1e17–2e20 FLOPs and the region within 0.25% of the best loss is broad, so treat them as a
starting point; the allocation exponent depends on the data (0.450 on early in-house data, 0.524
on current, 0.578 on OpenWebText2 [S]).
"""

from __future__ import annotations

from scalinglab.core.numbers import positive, scalar_or_array

SOURCE = "DeepSeek LLM 2024 (arXiv 2401.02954) §3.1-3.2 [P]"

#: η_opt = LR_COEF·C^LR_EXP (§3.1) [P].
LR_COEF, LR_EXP = 0.3118, -0.1250
#: B_opt = BATCH_COEF·C^BATCH_EXP, tokens (§3.1) [P].
BATCH_COEF, BATCH_EXP = 0.2920, 0.3271
#: M_opt = SCALE_COEF·C^SCALE_EXP, non-embedding FLOPs/token (§3.2) [P].
SCALE_COEF, SCALE_EXP = 0.1715, 0.5243
#: D_opt = DATA_COEF·C^DATA_EXP, tokens (§3.2) [P].
DATA_COEF, DATA_EXP = 5.8316, 0.4757


def deepseek_learning_rate(compute):
    """Near-optimal peak learning rate η_opt(C) = 0.3118·C^(−0.125) for ``compute`` FLOPs.

    9.86e-4 at 1e20 FLOPs, 5.545e-4 at 1e22 (DeepSeek LLM 2024 §3.1 constants, [C]).
    """
    return scalar_or_array(LR_COEF * positive(compute, "compute") ** LR_EXP)


def deepseek_batch_tokens(compute):
    """Near-optimal batch size in tokens, B_opt(C) = 0.2920·C^0.3271, for ``compute`` FLOPs.

    1.017e6 tokens at 1e20 FLOPs; divide by the sequence length for sequences per batch.
    """
    return scalar_or_array(BATCH_COEF * positive(compute, "compute") ** BATCH_EXP)


def deepseek_model_scale(compute):
    """Compute-optimal model scale M_opt(C) = 0.1715·C^0.5243 (non-embedding FLOPs per token)."""
    return scalar_or_array(SCALE_COEF * positive(compute, "compute") ** SCALE_EXP)


def deepseek_data(compute):
    """Compute-optimal training tokens D_opt(C) = 5.8316·C^0.4757."""
    return scalar_or_array(DATA_COEF * positive(compute, "compute") ** DATA_EXP)


def deepseek_hyperparameters(compute, seq_len: int | None = None) -> dict:
    """All four DeepSeek laws at ``compute`` FLOPs, with the batch also in sequences if
    ``seq_len`` is given.

    Returns
    -------
    dict
        ``flops``, ``learning_rate``, ``batch_tokens``, ``model_scale_flops_per_token``,
        ``tokens``, and ``batch_sequences`` when ``seq_len`` is given.
    """
    c = float(positive(compute, "compute"))
    out = {
        "flops": c,
        "learning_rate": deepseek_learning_rate(c),
        "batch_tokens": deepseek_batch_tokens(c),
        "model_scale_flops_per_token": deepseek_model_scale(c),
        "tokens": deepseek_data(c),
        "source": SOURCE,
    }
    if seq_len is not None:
        s = float(positive(seq_len, "seq_len"))
        out["batch_sequences"] = out["batch_tokens"] / s
    return out
