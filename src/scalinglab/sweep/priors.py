"""What centres an IsoFLOP budget's model sizes: a tokens-per-parameter ratio or a law's optimum."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalinglab.core.numbers import parse_number
from scalinglab.laws.registry import get_law
from scalinglab.sweep.family import ShapeFamily

#: Hoffmann et al. 2022 Table 3 [P]: the compute-optimal models train on about 20 tokens per
#: parameter (1B params -> 20.2B tokens, 10B -> 205.1B; docs/laws.md).
CHINCHILLA_TOKENS_PER_PARAM = 20.0

#: Bytes per BPE token of English-like text: "one token generally corresponds to ~4 characters"
#: (OpenAI tokenizer documentation) [S]; unverified for code, hence only a prior's scale.
BYTES_PER_BPE_TOKEN = 4.0


def default_prior(tokenizer: str) -> str:
    """The prior a design uses when none is named: Chinchilla's 20 tokens per parameter, in bytes
    (x4, 80 per parameter) for a byte-level tokenizer; in full FLOPs either way.

    Measured here (byte-level, python-stdlib, 1e11-3e12 full FLOPs; benchmarks/results/sweep.md):
    Hoffmann's Eq. 10 optimum over the shape family sits at 6-10 bytes per parameter and a sweep
    centred on it found its lowest loss at the smallest size in 3 of 4 budgets; centred at 20, the
    lowest losses sat at 55-180 bytes per parameter, three of four at the smallest size; centred
    at 80, every IsoFLOP minimum was interior.
    """
    ratio = CHINCHILLA_TOKENS_PER_PARAM * (BYTES_PER_BPE_TOKEN if tokenizer == "byte" else 1.0)
    return f"tokens-per-param:{ratio:g}"


@dataclass(frozen=True)
class TokensPerParamPrior:
    """A prior that centres each budget where tokens / params equals ``ratio`` (full FLOPs)."""

    ratio: float

    @property
    def name(self) -> str:
        return f"tokens-per-param:{self.ratio:g}"

    def centre(self, compute: float, family: ShapeFamily, convention: str, candidates) -> dict:
        def miss(c):
            tokens = compute / c["shape"].flops_per_token(convention)
            return abs(math.log(tokens / c["params"] / self.ratio))

        return min(candidates, key=miss)


def resolve_prior(law):
    """A law from the registry, a ``tokens-per-param:R`` rule, or a law object as is."""
    if isinstance(law, str) and law.startswith("tokens-per-param:"):
        return TokensPerParamPrior(parse_number(law.split(":", 1)[1], name="tokens per parameter"))
    return get_law(law) if isinstance(law, str) else law


def prior_centre(prior, compute: float, family: ShapeFamily, convention: str, candidates) -> dict:
    """The candidate ``prior`` centres a budget of ``compute`` FLOPs on."""
    if isinstance(prior, TokensPerParamPrior):
        return prior.centre(compute, family, convention, candidates)
    return family.optimum(prior, compute, convention, candidates)
