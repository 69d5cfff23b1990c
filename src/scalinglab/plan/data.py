"""Data supply: how many tokens a run needs, what corpora exist, and what repeating them costs.

- **Tokens needed** follow from the chosen law's compute-optimal frontier, not a fixed 20 tokens per
  parameter: the ratio is 16–22 for Epoch's fit and 50–150 for Hoffmann's rounded constants between
  1e21 and 1e26 FLOPs [C], and it changes with scale. Over-training multiples and the
  fixed ratios people quote are listed beside it.
- **Corpora** are the published sizes of real open datasets, each with its tokenizer and source
  (dataset cards and papers; docs/planner.md, "Data needs"). Round figures sometimes quoted
  without a source (CommonCrawl 250T, C4 150T,
  GitHub 5T, Wikipedia 3T, ArXiv 2T, Books 10T) are not supported by any located source and are not
  used.
- **The stock of public text** is Villalobos et al. 2024 (ICML 2024; arXiv 2211.04325v2).
- **Repetition** is priced with Muennighoff et al. 2023 (:mod:`scalinglab.laws.data_constrained`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.optimize import brentq

from scalinglab.core.numbers import positive_float
from scalinglab.core.units import FLOP_PER_PARAM_TOKEN
from scalinglab.errors import ScalingLabError
from scalinglab.laws.data_constrained import resolve_data_constrained
from scalinglab.laws.registry import get_law


@dataclass(frozen=True)
class Corpus:
    """A public corpus: ``tokens`` in its own tokenizer (``tokenizer``), with the source of the figure."""

    key: str
    name: str
    tokens: float
    tokenizer: str
    note: str
    source: str

    def as_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "tokens": self.tokens,
                "tokenizer": self.tokenizer, "note": self.note, "source": self.source}


#: Real corpus sizes, each with its source (docs/planner.md, "Data needs"). Token counts depend
#: on the tokenizer: compare within ~20%.
CORPORA: tuple[Corpus, ...] = (
    Corpus("fineweb", "FineWeb", 15e12, "GPT-2",
           "96 CommonCrawl snapshots 2013 to Apr 2024, 44 TB",
           "HuggingFaceFW/fineweb dataset card and blog [P]"),
    Corpus("fineweb-edu", "FineWeb-Edu", 1.3e12, "GPT-2",
           "educational-quality filter of FineWeb (score-2 version: 5.4T)",
           "HuggingFaceFW/fineweb-edu dataset card [P]"),
    Corpus("dolma", "Dolma v1.6", 3.08e12, "GPT-NeoX",
           "CC 2,415B; C4 175B; peS2o 57B; The Stack 430B; Gutenberg 4.8B; Wikipedia 3.6B",
           "allenai/dolma dataset card [P]"),
    Corpus("redpajama-v1", "RedPajama v1", 1.2e12, "LLaMA",
           "CommonCrawl 878B, C4 175B, GitHub 59B, Books 26B, ArXiv 28B, Wikipedia 24B, "
           "StackExchange 20B", "togethercomputer/RedPajama-Data-1T dataset card [P]"),
    Corpus("redpajama-v2", "RedPajama v2 (deduplicated head_middle)", 30.4e12, "LLaMA",
           "en 20.5T, de 3.0T, fr 2.7T, es 2.8T, it 1.5T; 84 CC dumps, about 50.6T before dedup",
           "togethercomputer/RedPajama-Data-V2 dataset card / GitHub README [P]"),
    Corpus("c4", "C4 (en)", 156e9, "SpaCy tokens",
           "365M documents; en.noblocklist 198B; en.noclean 1.4T",
           "Dodge et al. 2021 Table 1 [S]; HF card: 364,868,892 train examples [P]"),
    Corpus("refinedweb", "RefinedWeb (released)", 600e9, "GPT-2",
           "5T tokens extracted, 600B released", "Penedo et al. 2023 abstract [P]"),
    Corpus("the-stack-v2", "The Stack v2 (training set)", 900e9, "StarCoder2",
           "67.5 TB raw, 32.1 TB deduplicated; StarCoder2-15B trained on 4.3T tokens (multi-epoch)",
           "HF blog 'StarCoder2 and The Stack v2' [P]"),
    Corpus("wikipedia-en", "Wikipedia (en)", 6.1e9, "about 1.35 tokens/word",
           ">4.5B words, 6.82M articles (Apr 2024); tokens derived at 1.3-1.4 tokens/word",
           "Wikipedia:Size_of_Wikipedia [P]; token count derived [C]"),
    Corpus("arxiv", "arXiv (RedPajama)", 28e9, "LLaMA",
           "Dolma's peS2o (all Semantic Scholar papers) is 57B", "RedPajama v1 card [P]"),
    Corpus("books", "Books (RedPajama: PG19 + Books3)", 26e9, "LLaMA",
           "Dolma's Project Gutenberg: 4.8B; no public corpus is near 10T",
           "RedPajama v1 card [P]; Dolma card [P]"),
)

#: Villalobos, Ho, Sevilla, Besiroglu, Heim, Hobbhahn 2024, "Will we run out of data? Limits of
#: LLM scaling based on human-generated data" (ICML 2024; arXiv 2211.04325v2) [P, full text].
VILLALOBOS_STOCK = {
    "indexed_web_tokens": 510e12,            # §2.2.1, raw indexed web
    "indexed_web_tokens_ci95": (130e12, 2_100e12),
    "internet_tokens": 3_100e12,             # §2.2.2, incl. deep web (1,900T-5,200T)
    "internet_tokens_ci95": (1_900e12, 5_200e12),
    "effective_stock_tokens": 4e14,          # figure captions: quality-filtered, ~5x repetition
    "usable_fraction": (0.10, 0.40),         # §2.3.1, of deduplicated web data
    "repetition_multiplier": 5.0,            # §2.3.2, Muennighoff's 3-15x cut to 5x
    "full_use_year_median": 2028,
    "full_use_year_80pct": (2026, 2032),
    "source": "Villalobos et al. 2024 (arXiv 2211.04325v2) §2.2-2.3 [P]",
}

#: The ceiling for *unique* tokens anyone can train on: the raw indexed-web stock (central
#: estimate). Unique-token inputs above it are rejected.
PUBLIC_TEXT_STOCK_TOKENS = VILLALOBOS_STOCK["indexed_web_tokens"]

#: Fixed tokens-per-parameter ratios people quote, with where they come from.
FIXED_RATIOS = (
    ("20 tokens/param (Chinchilla 70B on 1.4T)", 20.0, "Hoffmann et al. 2022 [P]"),
    ("1.7 tokens/param (GPT-3 175B on 300B)", 300e9 / 175e9, "Brown et al. 2020 [P]"),
    ("1,875 tokens/param (Llama 3 8B on 15T)", 15e12 / 8e9, "Meta model card [S]"),
)
OVERTRAIN_MULTIPLES = (2.0, 5.0, 10.0)


def get_corpus(name: str) -> Corpus:
    """A catalog corpus by key or name (case-insensitive)."""
    key = str(name).strip().lower()
    for c in CORPORA:
        if key in (c.key, c.name.lower()):
            return c
    raise ScalingLabError(
        f"unknown corpus {name!r}; known: {', '.join(c.key for c in CORPORA)}")


def check_unique_tokens(unique_tokens: float) -> float:
    """Reject unique-token counts that are not positive or exceed the public stock of text."""
    u = positive_float(unique_tokens, "unique_tokens")
    if u > PUBLIC_TEXT_STOCK_TOKENS:
        lo, hi = VILLALOBOS_STOCK["indexed_web_tokens_ci95"]
        raise ScalingLabError(
            f"unique_tokens {u:.3g} exceeds the whole indexed web's stock of text, about 5.1e14 "
            f"tokens (95% CI {lo:.2g}-{hi:.2g}; Villalobos et al. 2024)")
    return u


def _law(law):
    """A preset by name, the project default (:data:`scalinglab.laws.registry.DEFAULT_LAW`) for
    None, or a law object as given."""
    if law is None:
        return get_law()
    return get_law(law) if isinstance(law, str) else law


def optimal_tokens_for_params(params: float, law=None) -> dict:
    """Tokens at which ``params`` is the compute-optimal size under ``law``.

    Inverts the law's frontier numerically (any law with ``optimum(compute)``, Kaplan's included).
    """
    law = _law(law)
    n = positive_float(params, "params")

    def gap(log_c):
        return math.log(law.optimum(math.exp(log_c)).params) - math.log(n)

    lo, hi = math.log(1e8), math.log(1e40)
    if gap(lo) > 0 or gap(hi) < 0:
        raise ScalingLabError(f"params {n:.3g} is outside the range this law's frontier covers")
    alloc = law.optimum(math.exp(brentq(gap, lo, hi, xtol=1e-13, maxiter=500)))
    return {"params": alloc.params, "tokens": alloc.tokens, "flops": alloc.compute,
            "tokens_per_param": alloc.tokens / alloc.params, "loss": alloc.loss}


def tokens_needed(params: float, law=None, overtrain=OVERTRAIN_MULTIPLES,
                  ratios=FIXED_RATIOS) -> list[dict]:
    """Training tokens for a model of ``params`` parameters under each regime.

    Rows: the law's compute-optimal tokens; ``overtrain`` multiples of it; and fixed
    tokens-per-parameter ratios. Each row has ``regime``, ``tokens``, ``tokens_per_param``,
    ``flops`` (6·N·D) and ``loss`` predicted by ``law``.
    """
    law = _law(law)
    opt = optimal_tokens_for_params(params, law)
    n = opt["params"]
    rows = [{"regime": f"compute-optimal ({law.name})", "multiple": 1.0, "source": law.source,
             "tokens": opt["tokens"]}]
    for m in overtrain:
        m = positive_float(m, "overtrain")
        rows.append({"regime": f"over-trained x{m:g}", "multiple": float(m), "source": law.source,
                     "tokens": m * opt["tokens"]})
    for label, ratio, source in ratios:
        rows.append({"regime": label, "multiple": ratio * n / opt["tokens"], "source": source,
                     "tokens": ratio * n})
    for row in rows:
        row["tokens_per_param"] = row["tokens"] / n
        row["flops"] = FLOP_PER_PARAM_TOKEN * n * row["tokens"]
        row["loss"] = float(law.predict(n, row["tokens"]))
    return rows


def repetition(params: float, tokens: float, unique_tokens: float, law=None) -> dict:
    """What training ``params`` parameters on ``tokens`` tokens from ``unique_tokens`` unique ones costs.

    Returns ``epochs``, ``repeated_value`` (D'/D), ``effective_tokens`` (D'),
    ``effective_params`` (N', below N when N exceeds the optimum for the unique data), ``loss``
    and ``loss_penalty`` (vs the same run on all-unique data) under Muennighoff et al. 2023.
    """
    dc = resolve_data_constrained(law)
    u = check_unique_tokens(unique_tokens)
    epochs = max(tokens / u, 1.0)
    return {
        "unique_tokens": u,
        "epochs": epochs,
        "repeated_value": float(dc.repeated_data_value(epochs)),
        "effective_tokens": float(dc.effective_tokens(tokens, u)),
        "effective_params": float(dc.effective_params(params, min(u, tokens))),
        "loss": float(dc.predict(params, tokens, u)),
        "loss_penalty": float(dc.loss_penalty(params, tokens, u)),
        "law": dc.name,
    }


def data_plan(params: float, law=None, unique_tokens: float | None = None,
              overtrain=OVERTRAIN_MULTIPLES) -> dict:
    """Tokens needed by regime, and, with ``unique_tokens``, the epochs and cost of repeating."""
    law = _law(law)
    rows = tokens_needed(params, law, overtrain)
    out = {"params": float(params), "law": law.name, "regimes": rows,
           "corpora": [c.as_dict() for c in CORPORA], "stock": dict(VILLALOBOS_STOCK)}
    if unique_tokens is not None:
        u = check_unique_tokens(unique_tokens)
        out["unique_tokens"] = u
        for row in rows:
            row["repetition"] = repetition(params, row["tokens"], u)
    for row in rows:
        row["fraction_of_stock"] = row["tokens"] / PUBLIC_TEXT_STOCK_TOKENS
        row["corpora_large_enough"] = [c.key for c in CORPORA if c.tokens >= row["tokens"]]
    return out
