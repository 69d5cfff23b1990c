"""Kaplan et al. 2020, "Scaling Laws for Neural Language Models" (arXiv 2001.08361).

Every constant of the paper that scalinglab uses lives in this module, once, beside its section,
table or equation. Conventions of the paper, which differ from Chinchilla's:

- N counts **non-embedding** parameters (Kaplan §2.1, Eq. 2.1: N ≈ 12·n_layer·d_model²); use
  :attr:`scalinglab.core.architecture.TransformerShape.kaplan_params` for a real shape. Chinchilla
  (:mod:`scalinglab.laws.chinchilla`) counts *total* parameters.
- Loss is nats/token on WebText2 with GPT-2's BPE (n_vocab 50257); the scales N_c, D_c and C_c
  depend on the tokenizer (Kaplan §1.2), so losses are not comparable across datasets.
- Compute is in PF-days (1 PF-day = 8.64e19 FLOPs) in the compute laws, as in the paper.

The single-variable laws L(N), L(D), L(C_min) and the joint L(N, D) use **different** constants:
the joint fit (Table 2) has α_D = 0.103, N_c = 6.4e13, D_c = 1.8e13, not the single-variable
α_D = 0.095, N_c = 8.8e13, D_c = 5.4e13 (§1.2). Both sets are kept, each named for its table.

:class:`KaplanLaw` exposes the same two questions as :class:`~scalinglab.laws.chinchilla.ParametricLaw`
(``predict(params, tokens)`` and ``optimum(compute)`` returning an
:class:`~scalinglab.laws.chinchilla.Allocation`), so it goes wherever a parametric law goes.
"""

from __future__ import annotations

from dataclasses import dataclass

from scalinglab.core.numbers import positive, scalar_or_array
from scalinglab.core.units import FLOP_PER_PARAM_TOKEN, PF_DAY_FLOPS
from scalinglab.laws.chinchilla import Allocation, _check_constants, allocation_at_compute
from scalinglab.laws.ranges import KAPLAN_RUNS, FittedRange

SOURCE = "Kaplan et al. 2020 (arXiv 2001.08361)"

# ----- single-variable laws, Kaplan §1.2 Eq. 1.1-1.3 and Table 5 [P] --------------------------
#: L(N) = (N_c/N)^α_N, converged (D large); N non-embedding parameters (Eq. 1.1).
ALPHA_N = 0.076
N_C = 8.8e13
#: L(D) = (D_c/D)^α_D, large model with early stopping; D tokens (Eq. 1.2).
ALPHA_D = 0.095
D_C = 5.4e13
#: L(C_min) = (C_c^min/C_min)^α_C^min, compute-efficient training; C_min in PF-days (Eq. 1.3).
ALPHA_C_MIN = 0.050
C_C_MIN_PF_DAYS = 3.1e8
#: "Naive" L(C) = (C_c/C)^α_C at a fixed batch of 2^19 tokens; C in PF-days (§1.2, Fig. 1).
ALPHA_C = 0.057
C_C_PF_DAYS = 1.6e7

# ----- critical batch size, Eq. 1.4 / 5.3 [P] ---------------------------------------------------
#: B_crit(L) = B*/L^(1/α_B), tokens. B* is 2e8 in the text (Eq. 1.4) but 2.1e8 in Table 5; both are
#: kept and neither is chosen silently (docs/laws.md, "Known inconsistencies").
ALPHA_B = 0.21
B_STAR_EQ_1_4 = 2e8
B_STAR_TABLE_5 = 2.1e8

# ----- joint L(N, D), Eq. 1.5 / 4.1 with the Table 2 fit [P] ----------------------------------
#: L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D. The joint fit's constants differ from §1.2's.
JOINT_ALPHA_N = 0.076
JOINT_ALPHA_D = 0.103
JOINT_N_C = 6.4e13
JOINT_D_C = 1.8e13

# ----- learning curves L(N, S), Eq. 1.6 / 5.6 with the Table 3 fit [P] ------------------------
#: L(N, S) = (N_c/N)^α_N + (S_c/S_min)^α_S, S_min in post-warm-up optimisation steps.
STEPS_ALPHA_N = 0.077
STEPS_N_C = 6.5e13
ALPHA_S = 0.76
S_C = 2.1e3

# ----- compute-efficient frontier, Table 6 (C_min in PF-days) [P] -----------------------------
#: N_opt = N_e·C_min^p_N, B = B_e·C_min^p_B, S_min = S_e·C_min^p_S, D_opt = D_e·C_min^p_D.
FRONTIER_N_E, FRONTIER_P_N = 1.3e9, 0.73
FRONTIER_B_E, FRONTIER_P_B = 2.0e6, 0.24
FRONTIER_S_E, FRONTIER_P_S = 5.4e3, 0.03
FRONTIER_D_E, FRONTIER_P_D = 2e10, 0.27

# ----- overfitting bound, Eq. 4.4 [P] -----------------------------------------------------------
#: Staying within the 0.02-nat seed noise needs D ≳ 5e3·N^0.74 tokens.
OVERFIT_D_SCALE = 5e3
OVERFIT_EXPONENT = 0.74

#: Training at the critical batch size costs twice the minimum compute, C = 2·C_min (Kaplan §5.1:
#: "2·S_min steps and 2·E_min examples"; the basis of Eq. 6.7). Not a fitted constant.
CRITICAL_BATCH_COMPUTE_FACTOR = 2.0


def loss_params(params):
    """L(N) = (N_c/N)^α_N (Kaplan Eq. 1.1): converged loss, nats/token.

    Parameters
    ----------
    params : float or array
        Non-embedding parameters N.
    """
    n = positive(params, "params")
    return scalar_or_array((N_C / n) ** ALPHA_N)


def loss_tokens(tokens):
    """L(D) = (D_c/D)^α_D (Kaplan Eq. 1.2): loss of a large model early-stopped on D tokens, nats."""
    d = positive(tokens, "tokens")
    return scalar_or_array((D_C / d) ** ALPHA_D)


def loss_compute_min(pf_days):
    """L(C_min) = (C_c^min/C_min)^α_C^min (Kaplan Eq. 1.3), C_min in PF-days; nats/token."""
    c = positive(pf_days, "compute (PF-days)")
    return scalar_or_array((C_C_MIN_PF_DAYS / c) ** ALPHA_C_MIN)


def loss_compute_naive(pf_days):
    """The "naive" L(C) = (C_c/C)^α_C at fixed batch 2^19 (Kaplan §1.2), C in PF-days; nats/token."""
    c = positive(pf_days, "compute (PF-days)")
    return scalar_or_array((C_C_PF_DAYS / c) ** ALPHA_C)


def loss_params_steps(params, steps):
    """L(N, S_min) = (N_c/N)^α_N + (S_c/S_min)^α_S with the Table 3 fit (Kaplan Eq. 5.6), nats.

    Parameters
    ----------
    params : float or array
        Non-embedding parameters N.
    steps : float or array
        S_min, optimisation steps at B >> B_crit (post-warm-up).
    """
    n = positive(params, "params")
    s = positive(steps, "steps")
    return scalar_or_array((STEPS_N_C / n) ** STEPS_ALPHA_N + (S_C / s) ** ALPHA_S)


def critical_batch(loss, b_star: float = B_STAR_EQ_1_4):
    """B_crit(L) = B*/L^(1/α_B) in tokens (Kaplan Eq. 1.4 / 5.3).

    Parameters
    ----------
    loss : float or array
        Loss in nats/token.
    b_star : float
        B* in tokens: 2e8 (Eq. 1.4, the default) or :data:`B_STAR_TABLE_5` = 2.1e8 (Table 5).
    """
    ell = positive(loss, "loss")
    positive(b_star, "b_star")
    return scalar_or_array(b_star / ell ** (1.0 / ALPHA_B))


def min_steps(steps, batch_tokens, loss, b_star: float = B_STAR_EQ_1_4):
    """S_min = S / (1 + B_crit(L)/B) (Kaplan Eq. 5.4): steps needed at a very large batch."""
    s = positive(steps, "steps")
    b = positive(batch_tokens, "batch_tokens")
    return scalar_or_array(s / (1.0 + critical_batch(loss, b_star) / b))


def min_compute(compute, batch_tokens, loss, b_star: float = B_STAR_EQ_1_4):
    """C_min = C / (1 + B/B_crit(L)) (Kaplan Eq. 5.5): compute needed at a very small batch."""
    c = positive(compute, "compute")
    b = positive(batch_tokens, "batch_tokens")
    return scalar_or_array(c / (1.0 + b / critical_batch(loss, b_star)))


def alpha_c_min_predicted() -> float:
    """α_C^min = 1/(1/α_S + 1/α_B + 1/α_N) (Kaplan Eq. 1.7 / B.6); computes to 0.05199.

    The paper prints 0.054 (Eq. 6.4) and 0.052 (App. B); the listed exponents give 0.05199.
    """
    return 1.0 / (1.0 / ALPHA_S + 1.0 / ALPHA_B + 1.0 / ALPHA_N)


def overfit_min_tokens(params):
    """Tokens needed to stay within seed noise of the converged loss: D ≳ 5e3·N^0.74 (Eq. 4.4)."""
    n = positive(params, "params")
    return scalar_or_array(OVERFIT_D_SCALE * n**OVERFIT_EXPONENT)


def efficient_frontier(pf_days) -> dict:
    """The compute-efficient frontier of Kaplan Table 6 at ``pf_days`` of C_min.

    Returns
    -------
    dict
        ``params`` (non-embedding N_opt), ``batch_tokens`` (B), ``steps`` (S_min) and ``tokens``
        (D_opt, one epoch), each a power law in C_min (PF-days) with the Table 6 constants.
    """
    c = positive(pf_days, "compute (PF-days)")
    return {
        "pf_days": scalar_or_array(c),
        "params": scalar_or_array(FRONTIER_N_E * c**FRONTIER_P_N),
        "batch_tokens": scalar_or_array(FRONTIER_B_E * c**FRONTIER_P_B),
        "steps": scalar_or_array(FRONTIER_S_E * c**FRONTIER_P_S),
        "tokens": scalar_or_array(FRONTIER_D_E * c**FRONTIER_P_D),
    }


@dataclass(frozen=True)
class KaplanLaw:
    """Kaplan 2020 as a law object: the joint L(N, D) and the compute-efficient frontier.

    ``predict`` is Eq. 4.1 with the joint-fit constants of Table 2 (``N`` **non-embedding**
    parameters, ``D`` tokens, loss in nats/token on WebText2). ``optimum`` follows Table 6:
    N_opt = 1.3e9·C_min^0.73 with C_min in PF-days, spending the budget at the critical batch size
    so that C_min = C/2 (Kaplan §5.1); the tokens are then C/(k·N). This reproduces Hoffmann et
    al. 2022's reading of Kaplan's rule: 4.68B parameters at 1e21 FLOPs (Hoffmann §3.4). The tokens
    come out 10.8% above Table 6's one-epoch D_opt = 2e10·C_min^0.27 at every budget, because Table
    6's own N_opt·D_opt spends 6·N·D ≈ 1.8·C_min rather than 2·C_min.

    The two halves come from different fits and do not agree with each other: the joint L(N, D)
    describes early-stopped loss, the Table 6 frontier comes from the learning-curve law L(N, S)
    at the critical batch size. Minimising ``predict`` along 6ND = C therefore does not give
    ``optimum`` (at 1e21 FLOPs it gives 6.2B parameters, and a loss 0.006 lower). ``optimum`` is
    Kaplan's published allocation; its ``loss`` is ``predict`` at that allocation. Kaplan §6.3
    expects the laws to break down near C* ~ 1e4 PF-days (≈ 9e23 FLOPs); beyond it this is an
    extrapolation the authors flag as highly uncertain (Eq. 6.8).

    The four constants must be finite and positive (:class:`~scalinglab.errors.ScalingLabError`
    otherwise). Number arguments take floats, human strings (``"1.5B"``) or arrays, as
    :class:`~scalinglab.laws.chinchilla.ParametricLaw`'s do; booleans are refused.
    """

    alpha_N: float = JOINT_ALPHA_N
    alpha_D: float = JOINT_ALPHA_D
    N_c: float = JOINT_N_C
    D_c: float = JOINT_D_C
    name: str = "kaplan2020"
    source: str = f"{SOURCE}, Eq. 4.1 with Table 2 joint fit; allocation from Table 6"
    #: The runs behind the fit, non-embedding parameters (Kaplan §1.2).
    fitted_range: FittedRange | None = KAPLAN_RUNS

    def __post_init__(self):
        # All four enter as powers and ratios of each other (alpha_N/alpha_D): any zero, negative
        # or NaN would only ever predict NaN or nonsense, silently.
        _check_constants(self, ("alpha_N", "alpha_D", "N_c", "D_c"),
                         positive=("alpha_N", "alpha_D", "N_c", "D_c"))

    def predict(self, params, tokens):
        """Predicted loss (nats/token) for ``params`` NON-embedding parameters on ``tokens`` tokens.

        L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D (Kaplan Eq. 4.1). Fitted for N from 768 to 1.5e9
        and D from 22M to 23B tokens (Kaplan §1.2); poor at D ≈ 2e7.
        """
        n = positive(params, "params")
        d = positive(tokens, "tokens")
        return scalar_or_array(((self.N_c / n) ** (self.alpha_N / self.alpha_D) + self.D_c / d) ** self.alpha_D)

    @property
    def a(self) -> float:
        """Allocation exponent N_opt ∝ C^a = 0.73 (Table 6; Hoffmann Table 2 "Kaplan" row)."""
        return FRONTIER_P_N

    @property
    def b(self) -> float:
        """Token exponent D_opt ∝ C^b = 1 − a = 0.27 (Table 6)."""
        return 1.0 - FRONTIER_P_N

    def optimum(self, compute, flops_per_param_token: float = FLOP_PER_PARAM_TOKEN) -> Allocation:
        """Kaplan's compute-efficient allocation for ``compute`` training FLOPs.

        Parameters
        ----------
        compute : float or array
            Training FLOPs actually spent, C. The frontier is read at C_min = C/2 PF-days
            (training at B_crit costs 2·C_min, Kaplan §5.1).
        flops_per_param_token : float
            k in C = k·N·D (6 in Kaplan §2.1); sets the tokens D = C/(k·N).
        """
        c = positive(compute, "compute")
        k = positive(flops_per_param_token, "flops_per_param_token")
        c_min_pf_days = c / CRITICAL_BATCH_COMPUTE_FACTOR / PF_DAY_FLOPS
        n = FRONTIER_N_E * c_min_pf_days**FRONTIER_P_N
        d = c / (k * n)
        return Allocation(compute=scalar_or_array(c), params=scalar_or_array(n), tokens=scalar_or_array(d), loss=self.predict(n, d))

    def at_compute(self, compute, params, flops_per_param_token: float = FLOP_PER_PARAM_TOKEN) -> Allocation:
        """The allocation that spends ``compute`` FLOPs on a model of ``params`` parameters."""
        return allocation_at_compute(self, compute, params, flops_per_param_token)

    def compute_for_params(self, params, flops_per_param_token: float = FLOP_PER_PARAM_TOKEN):
        """The training FLOPs at which ``params`` is Kaplan-optimal (inverse of :meth:`optimum`).

        ``flops_per_param_token`` is accepted for symmetry with :meth:`optimum`; Table 6's
        frontier is in C_min, so the answer does not depend on it.
        """
        n = positive(params, "params")
        positive(flops_per_param_token, "flops_per_param_token")
        c_min_pf_days = (n / FRONTIER_N_E) ** (1.0 / FRONTIER_P_N)
        return scalar_or_array(c_min_pf_days * PF_DAY_FLOPS * CRITICAL_BATCH_COMPUTE_FACTOR)

    def as_dict(self) -> dict:
        return {
            "alpha_N": self.alpha_N, "alpha_D": self.alpha_D, "N_c": self.N_c, "D_c": self.D_c,
            "a": self.a, "b": self.b, "params_convention": "non-embedding",
            "name": self.name, "source": self.source,
        }

