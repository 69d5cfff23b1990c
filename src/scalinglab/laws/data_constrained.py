"""Data-constrained scaling: what repeating data is worth (Muennighoff et al. 2023).

Muennighoff, Rush, Barak, Le Scao, Piktus, Tazi, Pyysalo, Wolf, Raffel, "Scaling Data-Constrained
Language Models" (NeurIPS 2023; arXiv 2305.16264); repository ``huggingface/datablations``,
README section "Parametric Fit" [P]. The law replaces tokens and parameters in the Chinchilla form
by *effective* amounts that decay with repetition:

    L(N, D, U) = E + A / N'**alpha + B / D'**beta
    D' = U_D + U_D·R_D*·(1 − exp(−R_D/R_D*)),   R_D = max(D/U_D − 1, 0)      (repeated tokens)
    N' = U_N + U_N·R_N*·(1 − exp(−R_N/R_N*)),   U_N = min(N, N_opt(U_D)),
                                                R_N = max(N/U_N − 1, 0)       (excess parameters)

with U_D the unique tokens and N_opt(U) = G·(U·G)**(beta/alpha) the Chinchilla-optimal size for U
tokens. Up to about 4 epochs repeated data is almost as good as new (D'/D = 0.931 at 4 epochs);
beyond that its value decays towards zero: D'/U can never exceed 1 + R_D* = 16.39.

The authors caution that the absolute loss values are of limited use (the constants come from
Chinchilla's C4 IsoFLOP points, loss on C4); use the law for trends and comparisons.
Validity: 10M–9B parameters, up to 900B tokens, C4 and OSCAR, up to 1,500 epochs in experiments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scalinglab.core.numbers import as_array, positive, scalar_or_array
from scalinglab.core.units import FLOP_PER_PARAM_TOKEN
from scalinglab.errors import ScalingLabError
from scalinglab.laws.chinchilla import ParametricLaw, _check_constants
from scalinglab.laws.registry import get_law

#: ``huggingface/datablations`` README "Parametric Fit" and ``utils/parametric_fit.ipynb`` [P]:
#: log-sum-exp parameters (a, b, e) with A = e^a, B = e^b, E = e^e and tied exponents alpha = beta,
#: fitted on Chinchilla's 54 C4 IsoFLOP points (Huber δ = 1e-3 on log loss); R_D* and R_N* were then
#: fitted on the authors' own runs (the paper rounds them to 15.4 and 5.3).
MUENNIGHOFF_LSE = {"a": 6.255414, "b": 7.3049974, "e": 0.6254804,
                   "alpha": 0.3526596, "beta": 0.3526596}
MUENNIGHOFF_RD_STAR = 15.387756
MUENNIGHOFF_RN_STAR = 5.309743
SOURCE = ("Muennighoff et al. 2023 (arXiv 2305.16264), huggingface/datablations README "
          "'Parametric Fit' [P]")

#: The README's grid search for the optimum: 500 multipliers i in linspace(1.0001, 3), trying
#: (N/i, D·i) and (N·i, D/i) around the Chinchilla optimum [P].
README_GRID = (1.0001, 3.0, 500)


@dataclass(frozen=True)
class DataConstrainedLaw:
    """Muennighoff et al. 2023's data-constrained law L(N, D, U).

    Parameters
    ----------
    E, A, B, alpha, beta : float
        The Chinchilla-form constants (loss in nats/token; N total parameters; D tokens).
    rd_star : float
        R_D*, the number of repetitions after which repeated tokens have lost 1 − 1/e of their
        value (dimensionless).
    rn_star : float
        R_N*, the same for parameters in excess of the optimum for the unique data.
    """

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    rd_star: float
    rn_star: float
    name: str = "custom"
    source: str = ""

    def __post_init__(self):
        _check_constants(self, ("E", "A", "B", "alpha", "beta", "rd_star", "rn_star"),
                         non_negative=("E",), positive=("A", "B", "rd_star", "rn_star"))

    @classmethod
    def from_parametric(cls, law: ParametricLaw, rd_star: float = MUENNIGHOFF_RD_STAR,
                        rn_star: float = MUENNIGHOFF_RN_STAR) -> DataConstrainedLaw:
        """Muennighoff's decay terms on another Chinchilla-form law (e.g. ``hoffmann2022``).

        The decay constants were fitted together with Muennighoff's own (A, B, E, α, β); moving them
        to another law is an extrapolation, labelled as such in ``source``.
        """
        return cls(E=law.E, A=law.A, B=law.B, alpha=law.alpha, beta=law.beta,
                   rd_star=rd_star, rn_star=rn_star,
                   name=f"{law.name}+muennighoff-decay",
                   source=f"{law.source}; repetition decay R_D*, R_N* from {SOURCE} "
                          "(transplanted: an extrapolation)")

    # ----- the Chinchilla part ----------------------------------------------------------------
    @property
    def parametric(self) -> ParametricLaw:
        """The law without repetition (all tokens unique)."""
        return ParametricLaw(E=self.E, A=self.A, B=self.B, alpha=self.alpha, beta=self.beta,
                             name=self.name, source=self.source)

    @property
    def G(self) -> float:
        """G = (alpha·A / (beta·B))**(1/(alpha+beta)) (Hoffmann Eq. 4); 0.22580 for Muennighoff."""
        return self.parametric.G

    def optimal_params_for_tokens(self, tokens):
        """N_opt(U) = G·(U·G)**(beta/alpha): the Chinchilla-optimal size for ``tokens`` tokens."""
        u = positive(tokens, "tokens")
        return scalar_or_array((u * self.G) ** (self.beta / self.alpha) * self.G)

    # ----- effective amounts --------------------------------------------------------------------
    def effective_tokens(self, tokens, unique_tokens):
        """D' (tokens): what ``tokens`` training tokens drawn from ``unique_tokens`` are worth."""
        d = positive(tokens, "tokens")
        u = positive(unique_tokens, "unique_tokens")
        u = np.minimum(u, d)  # fewer tokens than the unique stock: nothing repeats
        r = np.maximum(d / u - 1.0, 0.0)
        return scalar_or_array(u + u * self.rd_star * (1.0 - np.exp(-r / self.rd_star)))

    def effective_params(self, params, unique_tokens):
        """N': what ``params`` parameters are worth when only ``unique_tokens`` tokens exist."""
        n = positive(params, "params")
        u = positive(unique_tokens, "unique_tokens")
        un = np.minimum(n, (u * self.G) ** (self.beta / self.alpha) * self.G)
        r = np.maximum(n / un - 1.0, 0.0)
        return scalar_or_array(un + un * self.rn_star * (1.0 - np.exp(-r / self.rn_star)))

    def repeated_data_value(self, epochs):
        """D'/D: the value of a repeated token relative to a unique one after ``epochs`` epochs.

        0.984 at 2 epochs, 0.931 at 4, 0.661 at 16, 0.379 at 40 (Muennighoff et al. 2023
        constants, [C]).
        """
        e = as_array(epochs, "epochs")
        if np.any(e < 1):
            raise ScalingLabError(f"epochs: must be at least 1, got {epochs!r}")
        r = e - 1.0
        return scalar_or_array((1.0 + self.rd_star * (1.0 - np.exp(-r / self.rd_star))) / e)

    # ----- the two questions --------------------------------------------------------------------
    def predict(self, params, tokens, unique_tokens):
        """Loss (nats/token) of ``params`` parameters trained on ``tokens`` tokens drawn from
        ``unique_tokens`` unique ones (``tokens/unique_tokens`` epochs; no repetition when
        ``unique_tokens >= tokens``)."""
        d = positive(tokens, "tokens")
        # More unique tokens than are trained on: only D of them are seen (the README's
        # U = min(U, D)).
        u = np.minimum(positive(unique_tokens, "unique_tokens"), d)
        n_eff = self.effective_params(params, u)
        d_eff = self.effective_tokens(d, u)
        return scalar_or_array(self.E + self.A / np.asarray(n_eff) ** self.alpha
                    + self.B / np.asarray(d_eff) ** self.beta)

    def loss_penalty(self, params, tokens, unique_tokens):
        """Extra loss (nats/token) from repeating: L(N, D, U) − L(N, D, D)."""
        return scalar_or_array(np.asarray(self.predict(params, tokens, unique_tokens))
                    - np.asarray(self.predict(params, tokens, tokens)))

    def optimum(self, compute, unique_tokens, flops_per_param_token: float = FLOP_PER_PARAM_TOKEN,
                grid: tuple = README_GRID) -> dict:
        """The loss-minimising (N, D) for ``compute`` FLOPs when only ``unique_tokens`` exist.

        Follows the authors' grid search (README): start from the Chinchilla optimum (N0, D0) of
        this law at ``compute``; for each i in linspace(1.0001, 3, 500) try (N0/i, D0·i) and
        (N0·i, D0/i), with U = min(unique_tokens, D), and keep the lowest loss. The Chinchilla
        point itself is a candidate too (it wins when the unique tokens do not bind). If the best
        point lies on the grid's outer edge the span is tripled and the search repeated, so the
        answer is never an artefact of the grid's extent.
        """
        c = float(positive(compute, "compute"))
        u_max = float(positive(unique_tokens, "unique_tokens"))
        chin = self.parametric.optimum(c, flops_per_param_token)
        n0, d0 = chin.params, chin.tokens
        lo, hi, count = grid
        while True:
            i = np.linspace(lo, hi, int(count))
            # Same order as the README loop: at each i, first more data, then more parameters.
            # The Chinchilla point itself (i = 1) goes last, so it wins only where it is strictly
            # better than every grid point, i.e. where the data constraint does not bind.
            d = np.append(np.stack([d0 * i, d0 / i], axis=1).ravel(), d0)
            n = np.append(np.stack([n0 / i, n0 * i], axis=1).ravel(), n0)
            u = np.minimum(u_max, d)
            losses = np.asarray(self.predict(n, d, u))
            best = int(np.argmin(losses))  # first minimum, like the README's strict '<'
            if best == d.size - 1 or best // 2 < count - 1 or hi >= 1e6:
                break
            hi = hi * 3.0
            count = int(count) * 2
        n_best, d_best, l_best = float(n[best]), float(d[best]), float(losses[best])
        u_used = min(u_max, d_best)
        return {
            "params": n_best,
            "tokens": d_best,
            "unique_tokens": u_used,
            "epochs": d_best / u_used,
            "loss": l_best,
            "flops": flops_per_param_token * n_best * d_best,
            "effective_tokens": float(self.effective_tokens(d_best, u_used)),
            "effective_params": float(self.effective_params(n_best, u_used)),
            "tokens_per_param": d_best / n_best,
            # How close the data is to worthless repetition: D'/U can never exceed 1 + R_D*. Near
            # 1 the extra compute buys almost nothing and the (flat) optimum is ill-defined.
            "effective_tokens_saturation": float(self.effective_tokens(d_best, u_used))
            / (u_used * (1.0 + self.rd_star)),
            "grid_span": hi,
            "unconstrained": {"params": n0, "tokens": d0, "loss": float(self.predict(n0, d0, d0)),
                              "epochs_needed": d0 / u_max},
            "law": self.name,
            "source": self.source,
        }

    def as_dict(self) -> dict:
        return {"E": self.E, "A": self.A, "B": self.B, "alpha": self.alpha, "beta": self.beta,
                "rd_star": self.rd_star, "rn_star": self.rn_star, "G": self.G,
                "name": self.name, "source": self.source}


#: Muennighoff et al. 2023's published fit (README "Parametric Fit") [P].
MUENNIGHOFF_2023 = DataConstrainedLaw(
    E=math.exp(MUENNIGHOFF_LSE["e"]),
    A=math.exp(MUENNIGHOFF_LSE["a"]),
    B=math.exp(MUENNIGHOFF_LSE["b"]),
    alpha=MUENNIGHOFF_LSE["alpha"],
    beta=MUENNIGHOFF_LSE["beta"],
    rd_star=MUENNIGHOFF_RD_STAR,
    rn_star=MUENNIGHOFF_RN_STAR,
    name="muennighoff2023",
    source=SOURCE,
)


def resolve_data_constrained(law) -> DataConstrainedLaw:
    """A :class:`DataConstrainedLaw` from None (Muennighoff's own), a preset name, a Chinchilla-form
    law (borrowing Muennighoff's R_D*, R_N*) or a DataConstrainedLaw as given."""
    if law is None:
        return MUENNIGHOFF_2023
    if isinstance(law, DataConstrainedLaw):
        return law
    if isinstance(law, str):
        if law.strip().lower() in {"muennighoff2023", "muennighoff"}:
            return MUENNIGHOFF_2023
        law = get_law(law)
    if isinstance(law, ParametricLaw):
        return DataConstrainedLaw.from_parametric(law)
    raise ScalingLabError(
        f"law {getattr(law, 'name', law)!r} has no Chinchilla form (E, A, B, alpha, beta); "
        "the data-constrained law needs one")


def epochs_needed(tokens, unique_tokens):
    """Epochs over ``unique_tokens`` needed to train on ``tokens`` tokens (at least 1)."""
    d = positive(tokens, "tokens")
    u = positive(unique_tokens, "unique_tokens")
    return scalar_or_array(np.maximum(d / u, 1.0))


def data_constrained_optimum(law, compute, unique_tokens) -> dict:
    """Compute-optimal (N, D) for ``compute`` FLOPs with only ``unique_tokens`` unique tokens under
    ``law`` (first, as in every law-taking function: ``inference_aware_optimum(law, compute, ...)``).

    Parameters
    ----------
    law : None, str, ParametricLaw or DataConstrainedLaw
        None uses Muennighoff et al. 2023's own constants (the only set fitted with the decay
        terms); a Chinchilla-form law or preset name borrows Muennighoff's R_D* and R_N*.
    compute : float
        Training FLOPs (C = 6·N·D).
    unique_tokens : float
        Unique tokens available.

    Returns
    -------
    dict
        ``params``, ``tokens``, ``unique_tokens``, ``epochs``, ``loss``, ``flops``,
        ``effective_tokens``, ``effective_params``, ``tokens_per_param``, ``grid_span``,
        ``unconstrained`` (the Chinchilla optimum of the same law and the epochs it would need),
        ``law``, ``source``. C = 1e22 with 25B unique tokens gives 7,022,364,735 params on
        237,336,955,477 tokens (9.4935 epochs), as in the README.
    """
    return resolve_data_constrained(law).optimum(compute, unique_tokens)
