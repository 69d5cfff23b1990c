"""Emergent abilities: the scales at which Wei et al. 2022 saw them, and why the metric matters.

Wei et al. 2022, "Emergent Abilities of Large Language Models" (TMLR; arXiv 2206.07682v2), Table 1
[P]: 23 rows (10 few-shot prompted, 13 augmented prompting), each the *training FLOPs* (and the
model size of the family that showed it) at which performance first rose clearly above random.
The table ships as package data, ``scalinglab/data/wei2022_table1.csv``.

Read the thresholds with two caveats that every answer carries:

- They are **per model family**: MMLU 30 topics appears for Chinchilla at 70B, 26 topics for Gopher
  at 280B, both near 5e23 FLOPs. Compute is the better-shared axis; parameters are shown for
  reference.
- Schaeffer, Miranda, Koyejo 2023 ("Are Emergent Abilities of LLMs a Mirage?", NeurIPS; arXiv
  2304.15004): if per-token cross-entropy falls smoothly, exact match on an ℓ-token answer is about
  p^ℓ with p = exp(−CE), which looks like a sudden jump, while the token edit distance ℓ·(1 − p) falls
  smoothly. Over 92% of BIG-Bench emergent abilities appear under multiple-choice grade or exact
  string match [S]. "Emerged" here means "crossed a threshold under the metric that paper used".
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from scalinglab.core.numbers import as_array
from scalinglab.errors import ScalingLabError

SOURCE = "Wei et al. 2022 (arXiv 2206.07682v2), Table 1 [P]"

SCHAEFFER_CAVEAT = (
    "Emergence depends on the metric (Schaeffer et al. 2023, arXiv 2304.15004): with per-token "
    "loss falling smoothly, exact match over an l-token answer ~ exp(-l*CE) jumps while token "
    "edit distance ~ l*(1 - exp(-CE)) improves smoothly; most BIG-Bench 'emergent' abilities are "
    "measured by exact match or multiple-choice grade. Thresholds are per model family."
)


@dataclass(frozen=True)
class EmergentAbility:
    """One row of Wei et al. 2022 Table 1. ``flops``/``params`` are None for the row "many"."""

    row: int
    group: str
    ability: str
    flops: float | None
    params: float | None
    model: str

    def as_dict(self) -> dict:
        return {"row": self.row, "group": self.group, "ability": self.ability,
                "flops": self.flops, "params": self.params, "model": self.model}


@lru_cache(maxsize=1)
def wei_table() -> tuple[EmergentAbility, ...]:
    """The 23 rows of Wei et al. 2022 Table 1, in the paper's order."""
    text = (resources.files("scalinglab") / "data" / "wei2022_table1.csv").read_text("utf-8")
    rows = []
    for rec in csv.DictReader(text.splitlines()):
        rows.append(EmergentAbility(
            row=int(rec["row"]), group=rec["group"], ability=rec["ability"],
            flops=float(rec["flops"]) if rec["flops"] else None,
            params=float(rec["params"]) if rec["params"] else None,
            model=rec["model"]))
    return tuple(rows)


def find_task(name: str) -> list[EmergentAbility]:
    """Rows whose ability matches ``name`` (case-insensitive; exact name first, then substring).

    Raises
    ------
    ScalingLabError
        If nothing matches; the message lists a few known abilities.
    """
    key = str(name).strip().lower()
    if not key:
        raise ScalingLabError("task: empty name")
    table = wei_table()
    exact = [r for r in table if r.ability.lower() == key]
    if exact:
        return exact
    partial = [r for r in table if key in r.ability.lower()]
    if partial:
        return partial
    known = "; ".join(r.ability for r in table[:6])
    raise ScalingLabError(
        f"unknown task {name!r}: not in Wei et al. 2022 Table 1 (e.g. {known}; "
        "see `scalinglab emergence --json` for all 23)")


def emergence_report(params: float | None = None, flops: float | None = None,
                     nearest: int = 3) -> dict:
    """Which Wei et al. abilities had emerged by this scale, and the nearest thresholds above.

    Parameters
    ----------
    params : float, optional
        Model size in parameters (compared with the size of the family that showed the ability).
    flops : float, optional
        Training compute in FLOPs (the table's primary axis). Give exactly one of the two.
    nearest : int
        How many of the next thresholds above the scale to list.

    Returns
    -------
    dict
        ``axis`` ("params" or "flops"), ``scale``, ``emerged`` (rows at or below the scale),
        ``not_yet`` (rows above, ascending), ``next`` (the ``nearest`` lowest of ``not_yet``),
        ``unquantified`` (the row without a number), ``caveat``, ``source``.
    """
    if (params is None) == (flops is None):
        raise ScalingLabError("give exactly one of params or flops")
    axis, scale = ("params", params) if params is not None else ("flops", flops)
    value = as_array(scale, axis)  # the laws' one reader: "70B" works here too
    if value.ndim:
        raise ScalingLabError(f"{axis}: expected one number, got an array of {value.size}")
    scale = float(value)
    if not isinstance(nearest, int) or nearest < 0:
        raise ScalingLabError(f"nearest: must be a non-negative integer, got {nearest!r}")
    table = wei_table()
    numeric = [r for r in table if getattr(r, axis) is not None]
    emerged = sorted((r for r in numeric if getattr(r, axis) <= scale),
                     key=lambda r: (getattr(r, axis), r.row))
    above = sorted((r for r in numeric if getattr(r, axis) > scale),
                   key=lambda r: (getattr(r, axis), r.row))
    return {
        "axis": axis,
        "scale": scale,
        "emerged": [r.as_dict() for r in emerged],
        "not_yet": [r.as_dict() for r in above],
        "next": [dict(r.as_dict(), factor_to_go=getattr(r, axis) / scale) for r in above[:nearest]],
        "unquantified": [r.as_dict() for r in table if getattr(r, axis) is None],
        "caveat": SCHAEFFER_CAVEAT,
        "source": SOURCE,
    }


# ----- Schaeffer et al. 2023: the metric makes the jump ---------------------------------------

def exact_match_probability(cross_entropy, length):
    """Probability that all ``length`` answer tokens are right, p**length with p = exp(−CE).

    ``cross_entropy`` in nats/token. ℓ = 5, CE = 0.1 → 0.6065 (Schaeffer et al. 2023, [C]).
    """
    ce, n = _ce_length(cross_entropy, length)
    return _o(np.exp(-n * ce))


def expected_edit_distance(cross_entropy, length):
    """Expected token edit distance ℓ·(1 − p), p = exp(−CE): the smooth metric. ℓ 5, CE 0.1 → 0.4758."""
    ce, n = _ce_length(cross_entropy, length)
    return _o(n * (1.0 - np.exp(-ce)))


def _ce_length(cross_entropy, length):
    ce = np.asarray(cross_entropy, dtype=float)
    n = np.asarray(length, dtype=float)
    if not np.all(np.isfinite(ce)) or np.any(ce < 0):
        raise ScalingLabError(f"cross_entropy: must be non-negative nats/token, got {cross_entropy!r}")
    if not np.all(np.isfinite(n)) or np.any(n < 1):
        raise ScalingLabError(f"length: must be at least 1 token, got {length!r}")
    return ce, n


def _o(arr):
    return float(arr) if np.ndim(arr) == 0 else arr
