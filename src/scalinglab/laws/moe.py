"""Mixture-of-experts scaling laws: granularity (Krajewski et al. 2024) and the joint dense/MoE law
(Ludziejewski et al. 2025).

Vocabulary. An MoE layer replaces the dense MLP by E experts of which a few are active per token.
*Active* parameters N_act drive FLOPs per token (6·N_act training, 2·N_act inference); *total*
parameters drive memory. *Expansion rate* E = total expert parameters / active expert parameters;
*granularity* G = d_ff / d_expert (Krajewski: G experts of 1/G the size, G active).

Total parameters from active ones use one convention throughout, stated here because neither paper
prints it next to its tables: the experts are the MLPs, which hold 8·d² of a layer's 12·d²
non-embedding parameters (d_ff = 4·d), so total = active·(1 + (E − 1)·2/3) = active·(8E + 4)/12.
This is the convention that brings Krajewski's Table 2 losses closest (0.7–0.8% low; Krajewski et
al.
2024 Table 2, inferred [C]). Embeddings are ignored in that conversion.

Not implemented, on purpose: Clark et al. 2022's routed-LM constants were not located (its Table 1,
not read), and Krajewski's routing-cost FLOPs (Eq. 10) need c_f and c_r, which the reference does
not
give; FLOPs here are 6·N_act·D.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scalinglab.core.numbers import positive, scalar_or_array
from scalinglab.errors import ScalingLabError
from scalinglab.laws.chinchilla import ParametricLaw

#: Share of a layer's non-embedding parameters that sit in the MLP (8·d² of 12·d² at d_ff = 4·d).
MLP_SHARE = 8.0 / 12.0


def total_params(active_params, experts, expert_share: float = MLP_SHARE):
    """Total parameters of an MoE with ``experts`` expansion rate and ``active_params`` active ones.

    total = active·(1 + (E − 1)·expert_share); E = 1 is a dense model.
    """
    n = positive(active_params, "active_params")
    e = positive(experts, "experts")
    if np.any(e < 1):
        raise ScalingLabError(f"experts: the expansion rate must be at least 1, got {experts!r}")
    return scalar_or_array(n * (1.0 + (e - 1.0) * expert_share))


# ================================================================================================
# Krajewski, Ludziejewski et al. 2024, "Scaling Laws for Fine-Grained Mixture of Experts"
# (ICML 2024; arXiv 2402.07871) [P]
# ================================================================================================

@dataclass(frozen=True)
class GranularityLaw:
    """L(N, D, G) = c + (g/G**gamma + a)·N**(−alpha) + b·D**(−beta)  (Krajewski et al. 2024, Eq. 9).

    N total (non-embedding) parameters (the module note gives the convention, which is inferred),
    D tokens, G granularity; expansion rate E = 64 throughout the paper's fit. A dense model is the
    same form without the g term.
    """

    a: float
    alpha: float
    b: float
    beta: float
    c: float
    g: float = 0.0
    gamma: float = 0.0
    name: str = "custom"
    source: str = ""

    def granularity_term(self, granularity):
        """g/G**gamma: the part of the parameter term that finer experts remove (2.1 at G = 1)."""
        gr = positive(granularity, "granularity")
        return scalar_or_array(self.g / gr**self.gamma)

    def predict(self, params, tokens, granularity=1.0):
        """Loss (nats/token) for ``params`` parameters, ``tokens`` tokens and granularity G."""
        n = positive(params, "params")
        d = positive(tokens, "tokens")
        gr = positive(granularity, "granularity")
        return scalar_or_array(self.c + (self.g / gr**self.gamma + self.a) * n ** (-self.alpha)
                    + self.b * d ** (-self.beta))

    def at_granularity(self, granularity, expansion: float = 1.0) -> ParametricLaw:
        """The law at fixed G as a Chinchilla-form law in *active* parameters.

        N in Eq. 9 is total parameters, while compute counts active ones (F ≈ 6·N_act·D): with
        N = k·N_act, k = 1 + (E − 1)·2/3 (:func:`total_params`), the parameter term becomes
        (g/G^γ + a)·k^(−α)·N_act^(−α). ``optimum(F)`` of the result is then the compute-optimal
        active size and tokens (routing FLOPs of Eq. 10 ignored). With E = 64 this lands within
        6% of Table 2's active sizes, tokens within 20% (Table 2's FLOPs include routing and
        attention: 6·N_act·D/F = 0.89–0.96) and losses 1–1.4% below the table [C].
        """
        k = float(total_params(1.0, expansion))
        return ParametricLaw(E=self.c,
                             A=(self.a + float(self.granularity_term(granularity))) * k ** (-self.alpha),
                             B=self.b, alpha=self.alpha, beta=self.beta,
                             name=f"{self.name}@G={granularity:g},E={expansion:g}",
                             source=self.source)

    def optimum(self, compute, granularity=1.0, expansion: float = 1.0) -> dict:
        """Compute-optimal active/total parameters, tokens and loss at ``compute`` FLOPs."""
        alloc = self.at_granularity(granularity, expansion).optimum(compute)
        return {"granularity": float(granularity), "expansion": float(expansion),
                "active_params": alloc.params,
                "total_params": float(total_params(alloc.params, expansion)),
                "tokens": alloc.tokens, "loss": alloc.loss, "flops": alloc.compute}

    def as_dict(self) -> dict:
        return {"a": self.a, "alpha": self.alpha, "b": self.b, "beta": self.beta, "c": self.c,
                "g": self.g, "gamma": self.gamma, "name": self.name, "source": self.source}


_KRAJEWSKI = "Krajewski et al. 2024 (arXiv 2402.07871), Eq. 9, Table 1 [P]"
#: Krajewski et al. 2024 Table 1, MoE row (E = 64); validation RMSE 0.019 [P].
KRAJEWSKI_2024_MOE = GranularityLaw(a=18.1, alpha=0.115, b=30.8, beta=0.147, g=2.1, gamma=0.58,
                                    c=0.47, name="krajewski2024-moe", source=_KRAJEWSKI)
#: Krajewski et al. 2024 Table 1, dense row [P].
KRAJEWSKI_2024_DENSE = GranularityLaw(a=16.3, alpha=0.126, b=26.7, beta=0.127, c=0.47,
                                      name="krajewski2024-dense", source=_KRAJEWSKI)


# ================================================================================================
# Ludziejewski et al. 2025, "Joint MoE Scaling Laws: Mixture of Experts Can Be Memory Efficient"
# (ICML 2025; arXiv 2502.05172) [P]
# ================================================================================================

@dataclass(frozen=True)
class JointMoELaw:
    """L(N_act, D, Ê) = a·Ê^δ·N_act^(α + γ·ln Ê) + b·Ê^ω·D^(β + ζ·ln Ê) + c  (Ludziejewski Eq. 6).

    N_act active parameters including embeddings (vocabulary 50,257), D tokens, E the expansion
    rate through the saturating transform of Clark et al. 2022:
    1/Ê = 1/(E − 1 + (1/E_start − 1/E_max)^(−1)) + 1/E_max. E = 1 is the dense model.
    The exponents α, β are negative as printed; :meth:`reduced` turns them into the positive
    exponents of the Chinchilla form (Ludziejewski et al. 2025 Eq. 7).
    """

    a: float
    alpha: float
    delta: float
    gamma: float
    b: float
    beta: float
    omega: float
    zeta: float
    e_start: float
    e_max: float
    c: float
    name: str = "custom"
    source: str = ""

    def e_hat(self, experts):
        """The saturating transform Ê(E) (Clark et al. 2022); Ê(1) = E_start."""
        e = positive(experts, "experts")
        if np.any(e < 1):
            raise ScalingLabError(f"experts: the expansion rate must be at least 1, got {experts!r}")
        inv = 1.0 / (e - 1.0 + 1.0 / (1.0 / self.e_start - 1.0 / self.e_max)) + 1.0 / self.e_max
        return scalar_or_array(1.0 / inv)

    def reduced_constants(self, experts) -> dict:
        """Table 4's reduction at fixed E to L = m·N_act^μ + n·D^ν + c (μ, ν negative)."""
        eh = float(self.e_hat(experts))
        ln = math.log(eh)
        return {"m": self.a * eh**self.delta, "mu": self.alpha + self.gamma * ln,
                "n": self.b * eh**self.omega, "nu": self.beta + self.zeta * ln, "c": self.c,
                "e_hat": eh}

    def reduced(self, experts) -> ParametricLaw:
        """The law at fixed E as a Chinchilla-form law in (N_act, D), exponents |μ| and |ν|.

        Its ``optimum(F)`` is Eq. 7 (F = 6·N_act·D): the compute-optimal active size and tokens.
        """
        k = self.reduced_constants(experts)
        return ParametricLaw(E=k["c"], A=k["m"], B=k["n"], alpha=abs(k["mu"]), beta=abs(k["nu"]),
                             name=f"{self.name}@E={experts:g}", source=self.source)

    def predict(self, active_params, tokens, experts=1.0):
        """Loss (nats/token) for ``active_params`` active parameters, ``tokens`` tokens and
        expansion rate ``experts``."""
        n = positive(active_params, "active_params")
        d = positive(tokens, "tokens")
        eh = np.asarray(self.e_hat(experts))
        ln = np.log(eh)
        return scalar_or_array(self.a * eh**self.delta * n ** (self.alpha + self.gamma * ln)
                    + self.b * eh**self.omega * d ** (self.beta + self.zeta * ln) + self.c)

    def optimum(self, compute, experts=1.0) -> dict:
        """Compute-optimal active parameters and tokens at ``compute`` FLOPs (Eq. 7, F = 6·N_act·D),
        with total parameters by the module's convention."""
        alloc = self.reduced(experts).optimum(compute)
        return {"experts": float(experts), "active_params": alloc.params,
                "total_params": float(total_params(alloc.params, experts)),
                "tokens": alloc.tokens, "loss": alloc.loss, "flops": alloc.compute}

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("a", "alpha", "delta", "gamma", "b", "beta", "omega",
                                              "zeta", "e_start", "e_max", "c", "name", "source")}


#: Ludziejewski et al. 2025 Table 3 [P].
LUDZIEJEWSKI_2025 = JointMoELaw(
    a=35.91, alpha=-0.1889, delta=-0.2285, gamma=0.0098,
    b=35.98, beta=-0.1775, omega=0.5529, zeta=-0.0259,
    e_start=2.0732, e_max=290.4521, c=1.3637,
    name="ludziejewski2025",
    source="Ludziejewski et al. 2025 (arXiv 2502.05172), Eq. 6, Table 3 [P]",
)


def weights_bytes(params, bytes_per_param: float = 2.0):
    """Bytes to hold ``params`` weights at ``bytes_per_param`` (2 for bf16)."""
    n = positive(params, "params")
    return scalar_or_array(n * float(positive(bytes_per_param, "bytes_per_param")))
