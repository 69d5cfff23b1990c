"""The shape rule: depth, width and heads of every model scalinglab builds, from one place.

``scalinglab train --params``, ``scalinglab count`` (its default heads), the sweep designs
(:class:`~scalinglab.sweep.family.ShapeFamily`) and :func:`scalinglab.shape_for_params` all ask
this module, so a size names the same model everywhere. The rule, stated once:

1. **A size is a total parameter count** (embeddings, positions and an untied head included;
   :attr:`~scalinglab.core.architecture.TransformerShape.total_params`), the count the sweeps
   budget, fit and report in (Hoffmann et al. 2022 count total parameters). At tiny scale the
   embeddings are a large share of the model, so the same number read as non-embedding
   parameters would name a model several times larger.
2. **Widths** come from :data:`WIDTHS` (8 to 16,384), each divisible by its head width.
3. **Heads** (:func:`n_head_for`): ``d_model // head_dim_for(d_model)``, with a head width of
   16 up to d_model 128 (one head below 16), 32 up to 384 and 64 above (GPT-2's 64; Radford et
   al. 2019), so that small models still have several heads.
4. **Aspect ratio** d_model / n_layer (:func:`preferred_aspect`): 32 below d_model 512, 64 from
   there on (GPT-2 small: 768 / 12). Kaplan et al. 2020 §3.1 (Fig. 5) find the loss depends
   weakly on shape for aspect ratios from about 20 to 200, so the choice only has to be
   consistent. A shape is a candidate when its ratio is within 0.7-1.5x the preferred one
   (one-layer models are admitted up to 1.5x: the narrowest widths cannot reach the ratio).
5. **A size's shape** (:func:`shape_for_params`) is the candidate closest to it in log size,
   plus 0.1 x the log distance of its aspect from the preferred one; a size no candidate comes
   within :data:`MAX_SIZE_MISS` (2x) of is refused.

Examples at vocabulary 256 and context 128 (the byte-level sweep): 50k -> 1 layer x 48 (3 heads);
1M -> 5 x 128 (8 heads); 10M -> 8 x 320 (10 heads); 85M -> 12 x 768 (12 heads, GPT-2 small).
"""

from __future__ import annotations

import math

from scalinglab.core.architecture import TransformerShape
from scalinglab.core.numbers import positive_float
from scalinglab.errors import ScalingLabError

#: Widths (d_model) the rule draws from; every one divisible by its head width.
WIDTHS = (8, 12, 16, 24, 32, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512, 640, 768, 1024, 1280,
          1536, 2048, 2560, 3072, 4096, 5120, 6144, 8192, 10240, 12288, 16384)

#: Aspect ratios admitted, as multiples of :func:`preferred_aspect`.
ASPECT_BAND = (0.7, 1.5)

#: Weight of the aspect-ratio misfit (log distance) against the log size miss when choosing.
MISFIT_WEIGHT = 0.1

#: Deepest model considered.
MAX_LAYERS = 128

#: How far (as a factor) the chosen shape may miss the size asked for before it is refused.
MAX_SIZE_MISS = 2.0


def head_dim_for(d_model: int) -> int:
    """Head width for ``d_model``: one head below 16, 16 up to 128, 32 up to 384, 64 above."""
    return d_model if d_model < 16 else 16 if d_model <= 128 else 32 if d_model <= 384 else 64


def n_head_for(d_model: int) -> int:
    """Number of heads the rule gives ``d_model``: ``d_model // head_dim_for(d_model)``.

    The floor is the rule as the sweeps have always built it: d_model 24 gets one head of 24, 48
    three heads of 16.

    Raises
    ------
    ScalingLabError
        If ``d_model`` is not a positive integer, or not divisible by that many heads (e.g. 100:
        6 heads of 16 do not tile it), when the heads must be given.
    """
    if not isinstance(d_model, int) or isinstance(d_model, bool) or d_model <= 0:
        raise ScalingLabError(f"d_model: must be a positive integer, got {d_model!r}")
    n_head = d_model // head_dim_for(d_model)
    if d_model % n_head:
        raise ScalingLabError(f"d_model {d_model} is not divisible by the {n_head} heads of "
                              f"{head_dim_for(d_model)} the shape rule gives it; give the number of heads")
    return n_head


def preferred_aspect(d_model: int) -> float:
    """d_model / n_layer the rule aims for: 32 below d_model 512, 64 from there (GPT-2 small: 64)."""
    return 32.0 if d_model < 512 else 64.0


def _admitted(d_model: int, n_layer: int) -> bool:
    """Whether ``d_model / n_layer`` is within :data:`ASPECT_BAND` of the preferred ratio."""
    low, high = ASPECT_BAND
    ratio = d_model / n_layer / preferred_aspect(d_model)
    return low <= ratio <= high or (n_layer == 1 and ratio <= high)


def candidate_shapes(vocab: int, ctx: int, *, max_layers: int = MAX_LAYERS, **shape_options) -> list[dict]:
    """Every shape the rule admits, smallest width first.

    Parameters
    ----------
    vocab, ctx : int
        Vocabulary and context length (they set the embedding and position parameters).
    max_layers : int
        Deepest model considered.
    **shape_options
        Other :class:`~scalinglab.core.architecture.TransformerShape` fields (``gated_mlp``,
        ``tied_embeddings``, ``bias``, ...); the default is the sweep's (tied, MLP 4·d, no bias).

    Returns
    -------
    list of dict
        ``n_layer``, ``d_model``, ``n_head``, ``params`` (total), ``shape`` and ``misfit`` (log
        distance of the aspect ratio from the preferred one).
    """
    out = []
    for d in WIDTHS:
        n_head = n_head_for(d)
        for layers in range(1, max_layers + 1):
            if not _admitted(d, layers):
                continue
            shape = TransformerShape(n_layer=layers, d_model=d, n_head=n_head, vocab=vocab, ctx=ctx,
                                     **shape_options)
            out.append({"n_layer": layers, "d_model": d, "n_head": n_head,
                        "params": shape.total_params, "shape": shape,
                        "misfit": abs(math.log(d / layers / preferred_aspect(d)))})
    return out


def nearest_shape(candidates: list[dict], params: float) -> dict:
    """The candidate closest to ``params`` total parameters in log size, preferring the usual
    aspect ratio (by :data:`MISFIT_WEIGHT`)."""
    return min(candidates, key=lambda c: abs(math.log(c["params"] / params)) + MISFIT_WEIGHT * c["misfit"])


def choose_shape(candidates: list[dict], params: float, *, name: str = "params") -> dict:
    """:func:`nearest_shape`, refused when it misses ``params`` by more than :data:`MAX_SIZE_MISS`.

    Raises
    ------
    ScalingLabError
        Naming ``name``, the nearest shape's size and the range the candidates span.
    """
    pick = nearest_shape(candidates, params)
    if not 1 / MAX_SIZE_MISS <= pick["params"] / params <= MAX_SIZE_MISS:
        shape = pick["shape"]
        smallest = min(c["params"] for c in candidates)
        largest = max(c["params"] for c in candidates)
        raise ScalingLabError(
            f"{name}: no shape of the family is within {MAX_SIZE_MISS:g}x of {params:.3g} parameters "
            f"(the nearest has {pick['params']:,}); at vocab {shape.vocab} and ctx {shape.ctx} the "
            f"family spans {smallest:,} to {largest:,} parameters")
    return pick


def shape_for_params(params, *, vocab: int = 256, ctx: int = 256, max_layers: int = MAX_LAYERS,
                     name: str = "params", **shape_options) -> TransformerShape:
    """The shape of about ``params`` **total** parameters, by the rule above.

    This is the model a sweep builds for that size (:func:`~scalinglab.sweep.design.ladder_design`)
    and the one ``scalinglab train --params`` trains.

    Parameters
    ----------
    params : float or str
        Target total parameter count (``1e6``, ``"1M"``).
    vocab, ctx : int
        Vocabulary and context of the model (defaults: byte-level, ``scalinglab train``'s context).
    max_layers : int
        Deepest model considered.
    name : str
        What ``params`` is called in an error message (``"--params"``).
    **shape_options
        Other :class:`~scalinglab.core.architecture.TransformerShape` fields (``gated_mlp``,
        ``tied_embeddings``, ``bias``, ...), counted in the total.

    Returns
    -------
    TransformerShape
        Its ``n_layer``, ``d_model`` and ``n_head`` are the rule's; ``total_params`` is within 2x
        of ``params``.

    Raises
    ------
    ScalingLabError
        If ``params`` is not a positive finite number, or no shape comes within 2x of it.
    """
    target = positive_float(params, name)
    return choose_shape(candidate_shapes(vocab, ctx, max_layers=max_layers, **shape_options), target,
                        name=name)["shape"]
