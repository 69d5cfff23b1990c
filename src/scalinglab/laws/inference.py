"""Inference-aware allocation: how much smaller to train when the model will serve many tokens.

Sardana, Portes, Doubov, Frankle, "Beyond Chinchilla-Optimal: Accounting for Inference in Language
Model Scaling Laws" (ICML 2024; arXiv 2401.00448) [formulation S; docs/laws.md]:
for a target loss ℓ and a lifetime of D_inf inference tokens, minimise the total FLOPs

    6·N·D_tr + 2·N·D_inf    subject to    L(N, D_tr) = ℓ,

with a Chinchilla-form L = E + A/N^α + B/D^β. There is no closed form. Along the iso-loss curve
D_tr(N) = (B / (ℓ − E − A/N^α))^(1/β), and the stationarity condition is

    g(N) = 6·D_tr·(1 − r) + 2·D_inf = 0,    r = α·A·N^(−α) / (β·B·D_tr^(−β)),

(r = 1 is the Chinchilla optimum, so D_inf = 0 returns it exactly). g is positive at the Chinchilla
size and tends to −∞ as N falls to the smallest size that can reach ℓ, so the optimum is the single
root in between, found here with Brent's method on log N (the paper uses Newton's method).

The answer depends strongly on the constants and on how the baseline is defined (docs/laws.md,
"Known inconsistencies"):
a planned 13B model at its closed-form optimal data (619B tokens with E 1.6934, A 406.4, B 410.7,
α 0.3392, β 0.2849) and 2T inference tokens gives N = 7.13B, D = 1.30T and saves 1.63e22 FLOPs
(16.3%); the paper's Fig. 1 quotes 7B and 1.7e22 (17%) [S].
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from scalinglab.core.numbers import positive_float
from scalinglab.core.units import FLOP_PER_PARAM_TOKEN, INFERENCE_FLOP_PER_PARAM_TOKEN
from scalinglab.errors import ScalingLabError
from scalinglab.laws.chinchilla import ParametricLaw
from scalinglab.laws.registry import get_law

# FLOPs per parameter per token: training (forward + backward, 6) and inference (forward only, 2);
# Sardana et al. ignore attention FLOPs, as here. The old names stay importable.
TRAIN_FLOPS_PER_PARAM_TOKEN = FLOP_PER_PARAM_TOKEN
INFERENCE_FLOPS_PER_PARAM_TOKEN = INFERENCE_FLOP_PER_PARAM_TOKEN


def resolve_law(law) -> ParametricLaw:
    """A Chinchilla-form law from a :class:`ParametricLaw`, a preset name, or None (the default)."""
    if law is None or isinstance(law, str):
        law = get_law() if law is None else get_law(law)
    if not isinstance(law, ParametricLaw):
        raise ScalingLabError(
            f"law {getattr(law, 'name', law)!r} is not of the Chinchilla form E + A/N^a + B/D^b; "
            "this calculation needs one (e.g. hoffmann2022, epoch2024)")
    return law


def tokens_for_loss(law: ParametricLaw, params: float, loss: float) -> float:
    """Training tokens a model of ``params`` parameters needs to reach ``loss`` under ``law``."""
    gap = loss - law.E - law.A / params**law.alpha
    if gap <= 0:
        raise ScalingLabError(
            f"a {params:.4g}-parameter model cannot reach loss {loss:.4f} under {law.name} "
            f"(its floor with unlimited data is {law.E + law.A / params**law.alpha:.4f})")
    return (law.B / gap) ** (1.0 / law.beta)


def _costs(law, params, tokens, inference_tokens) -> dict:
    train = FLOP_PER_PARAM_TOKEN * params * tokens
    infer = INFERENCE_FLOP_PER_PARAM_TOKEN * params * inference_tokens
    return {"params": params, "tokens": tokens, "tokens_per_param": tokens / params,
            "loss": law.predict(params, tokens), "training_flops": train,
            "inference_flops": infer, "total_flops": train + infer}


def inference_aware_for_loss(law, loss: float, inference_tokens: float) -> dict:
    """The (N, D_tr) that reaches ``loss`` with the least training + inference FLOPs.

    Parameters
    ----------
    law : ParametricLaw or str
        A Chinchilla-form law or preset name.
    loss : float
        Target loss (nats/token); must be above the law's E.
    inference_tokens : float
        Lifetime inference tokens D_inf (prompt + generated), ≥ 0.
    """
    law = resolve_law(law)
    d_inf = positive_float(inference_tokens, "inference_tokens", allow_zero=True)
    ell = positive_float(loss, "loss", allow_zero=True)
    if ell <= law.E:
        raise ScalingLabError(f"loss {loss!r} is at or below the law's irreducible loss E = {law.E:.4f}")

    # The Chinchilla allocation for this loss: the compute-optimal point whose loss is ell. On the
    # frontier N = G·(C/6)^a the loss falls monotonically with C, so solve in log C.
    def frontier_gap(log_c):
        return law.optimum(math.exp(log_c)).loss - ell

    lo, hi = math.log(1e6), math.log(1e40)
    if frontier_gap(hi) > 0:
        raise ScalingLabError(f"loss {loss!r} is out of reach below 1e40 FLOPs under {law.name}")
    if frontier_gap(lo) < 0:
        raise ScalingLabError(f"loss {loss!r} is reached below 1e6 FLOPs; pick a lower target")
    log_c = brentq(frontier_gap, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
    chin = law.optimum(math.exp(log_c))
    n_chin = chin.params

    # The smallest size that can reach ell at all: A/N^alpha = ell - E.
    n_floor = (law.A / (ell - law.E)) ** (1.0 / law.alpha)

    def g(log_n):
        n = math.exp(log_n)
        d = tokens_for_loss(law, n, ell)
        r = (law.alpha * law.A * n ** (-law.alpha)) / (law.beta * law.B * d ** (-law.beta))
        # Divided by 6·D so that the root is well scaled: (1 − r) + 2·D_inf/(6·D).
        return (1.0 - r) + INFERENCE_FLOP_PER_PARAM_TOKEN * d_inf / (FLOP_PER_PARAM_TOKEN * d)

    lo_n = math.log(n_floor) + 1e-9
    hi_n = math.log(n_chin) + 1e-6  # g > 0 just above the Chinchilla size
    while g(lo_n) > 0:  # extremely close to the floor the data term may still dominate
        lo_n = math.log(n_floor) + (lo_n - math.log(n_floor)) / 10.0
        if lo_n - math.log(n_floor) < 1e-15:
            break
    log_n = brentq(g, lo_n, hi_n, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=500)
    n_opt = math.exp(log_n)
    d_opt = tokens_for_loss(law, n_opt, ell)

    best = _costs(law, n_opt, d_opt, d_inf)
    base = _costs(law, n_chin, chin.tokens, d_inf)
    saving = base["total_flops"] - best["total_flops"]
    return dict(best,
                target_loss=ell,
                inference_tokens=d_inf,
                chinchilla=base,
                saving_flops=saving,
                saving_fraction=saving / base["total_flops"],
                law=law.name,
                source="Sardana et al. 2024 (arXiv 2401.00448) formulation [S]; "
                       f"law {law.name}: {law.source}")


def inference_aware_optimum(law, compute, inference_tokens) -> dict:
    """Inference-aware allocation for the quality that ``compute`` FLOPs buy at the Chinchilla optimum.

    The target loss is the loss of ``law``'s compute-optimal model at ``compute`` training FLOPs
    (the model you would have trained ignoring inference); the answer reaches the same loss with the
    least training + inference FLOPs over ``inference_tokens`` lifetime tokens.

    Parameters
    ----------
    law : ParametricLaw or str
        Chinchilla-form law or preset name.
    compute : float
        Training FLOPs of the Chinchilla-optimal baseline.
    inference_tokens : float
        Lifetime inference tokens (≥ 0). With 0 the answer is the Chinchilla optimum itself.

    Returns
    -------
    dict
        ``params``, ``tokens``, ``tokens_per_param``, ``loss``, ``training_flops``,
        ``inference_flops``, ``total_flops`` of the inference-aware model; ``chinchilla`` (the same
        keys for the Chinchilla-optimal model at ``compute``, same loss); ``saving_flops``,
        ``saving_fraction``, ``target_loss``, ``inference_tokens``, ``law``, ``source``.
    """
    law = resolve_law(law)
    c = positive_float(compute, "compute")
    target = law.optimum(c).loss
    return inference_aware_for_loss(law, target, inference_tokens)


def chinchilla_compute_for_params(law, params: float) -> float:
    """Training FLOPs at which ``params`` is the compute-optimal size under ``law`` (inverse of Eq. 4)."""
    law = resolve_law(law)
    n = positive_float(params, "params")
    return FLOP_PER_PARAM_TOKEN * (n / law.G) ** (1.0 / law.a)
