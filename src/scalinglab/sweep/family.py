"""The model shapes a sweep may use, and the best of them for a budget under a law.

The shapes themselves (widths, heads, aspect ratio, the nearest shape to a size) are the one
rule of :mod:`scalinglab.core.shapes`; this module adds what a sweep asks of them: the shape a
law trains best on a compute budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scalinglab.core.shapes import MAX_LAYERS, candidate_shapes, nearest_shape


@dataclass(frozen=True)
class ShapeFamily:
    """The model shapes a design may use (decoder-only, tied embeddings, MLP 4·d, no biases).

    Parameters
    ----------
    vocab, ctx : int
        Vocabulary (from the tokenizer) and context length.
    max_layers : int
        Deepest model considered.
    """

    vocab: int
    ctx: int
    max_layers: int = MAX_LAYERS

    def candidates(self) -> list[dict]:
        """Every shape of the rule (:func:`~scalinglab.core.shapes.candidate_shapes`)."""
        return candidate_shapes(self.vocab, self.ctx, max_layers=self.max_layers)

    def optimum(self, law, compute: float, convention: str, candidates: list[dict] | None = None) -> dict:
        """The candidate with the lowest ``law`` loss when trained on ``compute`` FLOPs.

        Tokens are ``compute / flops_per_token(convention)`` of each shape, so the answer accounts
        for the head and attention FLOPs that a closed form in 6·N·D leaves out. The returned
        entry gains ``tokens`` and ``loss`` and ``at_edge`` (True when the best shape is the
        smallest or largest of the family: the true optimum may lie beyond it).
        """
        candidates = candidates if candidates is not None else self.candidates()

        def loss(c):
            # a fitted exponent can be large: N**alpha may overflow to inf, whose limit (the
            # term -> 0) is the right answer, so the overflow warning is noise here
            with np.errstate(over="ignore"):
                return float(law.predict(c["params"], compute / c["shape"].flops_per_token(convention)))

        best = min(candidates, key=loss)
        sizes = [c["params"] for c in candidates]
        return dict(best, tokens=compute / best["shape"].flops_per_token(convention), loss=loss(best),
                    at_edge=best["params"] in (min(sizes), max(sizes)))

    def nearest(self, candidates: list[dict], params: float) -> dict:
        """The candidate closest to ``params`` (:func:`~scalinglab.core.shapes.nearest_shape`)."""
        return nearest_shape(candidates, params)
