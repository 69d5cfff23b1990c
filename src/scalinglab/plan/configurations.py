"""Ways to spend one compute budget: Kaplan-style, compute-optimal, over-trained.

For a budget C = k·N·D the question is how to split it between parameters N and tokens D:

- **Kaplan-style**: the GPT-3-era habit of a fixed 300B-token run (Brown et al. 2020 trained every
  GPT-3 size on 300B tokens), so N = C/(k·300e9): a big model, little data.
- **compute-optimal**: the law's own optimum (:meth:`optimum`).
- **over-trained**: m times the optimum's tokens per parameter at the same compute, the way
  models meant for cheap inference are trained (Llama 3 8B: 1,875 tokens/param, Meta model card
  [S]):
  D/N = m·r_opt with N·D = C/k, so N = sqrt(C/(k·m·r_opt)).

Each row carries its predicted loss under the chosen law, so the cost of leaving the optimum is
read off directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalinglab.core.numbers import positive_float
from scalinglab.core.units import FLOP_PER_PARAM_TOKEN
from scalinglab.errors import ScalingLabError

#: GPT-3's training tokens for every model size (Brown et al. 2020, §2.2 / Table D.1) [P].
KAPLAN_STYLE_TOKENS = 300e9
OVERTRAIN_FACTORS = (5.0, 10.0)


@dataclass(frozen=True)
class Configuration:
    """One way to spend the budget: a named (N, D) with its predicted loss (nats/token).

    ``loss_vs_optimum`` is ``loss`` minus the loss of the law's ``optimum`` at the same compute.
    It is never negative for a Chinchilla-form law, whose optimum minimises its own L(N, D) along
    C = k·N·D. Kaplan's optimum comes from a different fit (Table 6 frontier, not the joint
    L(N, D)), so for ``kaplan2020`` a row can come out slightly below it.
    """

    key: str
    name: str
    compute: float
    params: float
    tokens: float
    loss: float
    loss_vs_optimum: float

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params

    def as_dict(self) -> dict:
        return {
            "key": self.key, "name": self.name, "flops": self.compute, "params": self.params,
            "tokens": self.tokens, "tokens_per_param": self.tokens_per_param, "loss": self.loss,
            "loss_vs_optimum": self.loss_vs_optimum,
        }


def compare_configurations(law, compute: float, *, kaplan_tokens: float = KAPLAN_STYLE_TOKENS,
                           overtrain_factors=OVERTRAIN_FACTORS,
                           flops_per_param_token: float = FLOP_PER_PARAM_TOKEN) -> list[Configuration]:
    """Kaplan-style, compute-optimal and over-trained configurations for ``compute`` FLOPs.

    Parameters
    ----------
    law : ParametricLaw or KaplanLaw
        Anything with ``predict(params, tokens)`` and ``optimum(compute, k)``.
    compute : float
        Training FLOPs C.
    kaplan_tokens : float
        Tokens of the Kaplan-style run (300e9, GPT-3's).
    overtrain_factors : sequence of float
        Multiples (> 1) of the optimum's tokens per parameter.
    flops_per_param_token : float
        k in C = k·N·D.

    Returns
    -------
    list of Configuration
        Kaplan-style, compute-optimal, then one row per over-training factor.
    """
    compute = positive_float(compute, "compute")
    kaplan_tokens = positive_float(kaplan_tokens, "kaplan_tokens")
    overtrain_factors = [positive_float(m, "overtrain factor") for m in overtrain_factors]
    for m in overtrain_factors:
        if m <= 1:
            raise ScalingLabError(f"overtrain factor: must be greater than 1, got {m!r}")
    k = flops_per_param_token
    opt = law.optimum(compute, k)
    best = float(opt.loss)

    def row(key, name, params, tokens):
        if not all(math.isfinite(v) and v > 0 for v in (params, tokens)):
            raise ScalingLabError(f"compute: {compute:g} FLOPs is outside the range where "
                                  f"{law.name} gives a finite allocation")
        loss = float(law.predict(params, tokens))
        return Configuration(key=key, name=name, compute=float(compute), params=float(params),
                             tokens=float(tokens), loss=loss, loss_vs_optimum=loss - best)

    rows = [
        row("kaplan_style", f"Kaplan-style ({kaplan_tokens / 1e9:g}B tokens)",
            compute / (k * kaplan_tokens), kaplan_tokens),
        row("compute_optimal", "Compute-optimal", opt.params, opt.tokens),
    ]
    ratio = opt.tokens / opt.params
    for m in overtrain_factors:
        params = math.sqrt(compute / (k * m * ratio))
        rows.append(row(f"overtrained_{m:g}x", f"Over-trained ({m:g}x tokens/param)",
                        params, m * ratio * params))
    return rows
