"""A model shape from a target size: the depth/width rule ``scalinglab train --params`` uses.

The rule, stated once:

1. ``--params`` is the **non-embedding** parameter count N (Kaplan et al. 2020 §2.1), the size
   scaling laws are written in; embeddings depend on the tokenizer and are added on top.
2. Aspect ratio ``d_model / n_layer = 64``. Kaplan et al. 2020 Fig. 5 find the loss within a few
   percent of its best for aspect ratios from about 20 to 200 at fixed N [P], and 64 is GPT-2
   small's and nanoGPT's 768/12. Since N ≈ 12·L·d², this gives ``L = round((N / (12·64²))^(1/3))``
   (at least 1).
3. Heads of 32 dimensions below ``d_model = 256`` (so that small models still have several heads),
   64 from there on (GPT-2). ``d_model`` is a multiple of the head size.
4. Given L, the width is the multiple of the head size whose exact non-embedding count (from
   :class:`~scalinglab.core.architecture.TransformerShape`) is closest to N in log space.

Examples: 85M -> 12 layers x 768 (GPT-2 small's blocks); 2M -> 3 x 224; 50k -> 1 x 64. The
smallest shape (1 x 32) has 12,384, so targets below 10,000 are refused.
"""

from __future__ import annotations

import math

from scalinglab.core.architecture import TransformerShape
from scalinglab.errors import ScalingLabError

#: d_model / n_layer, from Kaplan et al. 2020 Fig. 5's flat region and GPT-2 small (768/12).
ASPECT_RATIO = 64


def head_dim_for(d_model: int) -> int:
    """Head size by the rule above: 32 below d_model 256, else 64."""
    return 32 if d_model < 256 else 64


def shape_for_params(non_embedding_params: float, *, vocab: int = 256, ctx: int = 256,
                     aspect_ratio: int = ASPECT_RATIO, **shape_options) -> TransformerShape:
    """The shape with about ``non_embedding_params`` non-embedding parameters.

    Parameters
    ----------
    non_embedding_params : float
        Target N (non-embedding parameters).
    vocab, ctx : int
        Vocabulary and context of the shape.
    aspect_ratio : int
        Target ``d_model / n_layer``.
    **shape_options
        Other :class:`TransformerShape` fields (``gated_mlp``, ``bias``, ...).
    """
    if not (isinstance(non_embedding_params, (int, float)) and math.isfinite(non_embedding_params)
            and non_embedding_params >= 10_000):
        raise ScalingLabError(
            f"params: a model needs at least 10,000 non-embedding parameters, got {non_embedding_params!r}"
        )
    n = float(non_embedding_params)
    n_layer = max(1, round((n / (12 * aspect_ratio**2)) ** (1 / 3)))
    ideal = math.sqrt(n / (12 * n_layer))
    best = None
    for d in _widths_near(ideal):
        shape = TransformerShape(n_layer=n_layer, d_model=d, n_head=d // head_dim_for(d), vocab=vocab,
                                 ctx=ctx, **shape_options)
        err = abs(math.log(shape.non_embedding_params / n))
        if best is None or err < best[0]:
            best = (err, shape)
    return best[1]


def _widths_near(ideal: float) -> list[int]:
    out = set()
    for step in (32, 64):
        low = max(step, int(ideal // step) * step)
        out.update(w for w in (low - step, low, low + step) if w >= step and head_dim_for(w) == step)
    out.add(32)  # the smallest model always has a candidate
    return sorted(out)
