"""``ScalingLawPredictor``: the first users' class, answering with the published laws.

The original document ("Scaling Law Prediction") shipped a class with these
method names but invented formulas: a Kaplan "law" normalised at 1e9 with no scale constants, a
Chinchilla "law" ``(6ND)^-0.05`` with no irreducible loss, and a fixed 20 tokens/param optimum.
This façade keeps the names and signatures and delegates to :mod:`scalinglab.laws`:

- ``law_type='chinchilla'`` is Hoffmann et al. 2022 Eq. 10 (``hoffmann2022``); ``'kaplan'`` is
  Kaplan et al. 2020 Eq. 4.1 with the Table 2 joint fit (N non-embedding); any registry name
  (``'epoch2024'``, ``'hoffmann2022-unrounded'``, ...) works too.
- the optimum is the law's own closed form (Hoffmann Eq. 4), not "20 tokens per parameter";
- ``compare_configurations`` uses :func:`scalinglab.plan.configurations.compare_configurations`:
  Kaplan-style (300B tokens, GPT-3's, where the seed used 100B), compute-optimal, and over-trained
  at 5x and 10x the optimum's tokens per parameter (the seed halved the parameters).
"""

from __future__ import annotations

from scalinglab.core.numbers import parse_number
from scalinglab.laws.registry import get_law
from scalinglab.plan.configurations import compare_configurations


class ScalingLawPredictor:
    """Predict loss and compute-optimal allocations with a published law.

    Parameters
    ----------
    law_type : str or law object
        ``'chinchilla'`` (default; Hoffmann 2022 rounded), ``'kaplan'`` or any name of
        :func:`scalinglab.laws.registry.list_laws`. Case-insensitive. A law object (e.g. a
        :class:`~scalinglab.laws.chinchilla.ParametricLaw` you built) is used as it is.

    Numbers may be floats, human strings (``"70B"``, ``"1.4T"``, ``"1e24"``) or arrays (for
    ``predict_loss``); negatives, NaN and booleans raise :class:`~scalinglab.errors.ScalingLabError`.
    """

    def __init__(self, law_type: str = "chinchilla"):
        self.law_type = law_type
        self.law = get_law(law_type)

    def predict_loss(self, num_params, num_tokens):
        """Predicted loss in nats/token for ``num_params`` parameters trained on ``num_tokens``."""
        return self.law.predict(num_params, num_tokens)

    def compute_optimal_allocation(self, compute_budget):
        """Compute-optimal ``(params, tokens)`` for ``compute_budget`` FLOPs (C = 6·N·D)."""
        best = self.law.optimum(compute_budget)
        return best.params, best.tokens

    def compare_configurations(self, compute_budget):
        """Kaplan-style / compute-optimal / over-trained configurations as dicts.

        Each dict has the seed's keys ``name``, ``params``, ``tokens``, ``loss`` plus ``flops``,
        ``tokens_per_param``, ``loss_vs_optimum`` and ``key``.
        """
        compute = parse_number(compute_budget, name="compute_budget")  # "1e24" works; True does not
        return [row.as_dict() for row in compare_configurations(self.law, compute)]
