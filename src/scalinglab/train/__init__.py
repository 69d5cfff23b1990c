"""Train small GPT models on real text (torch is imported only inside this package's modules).

Importing ``scalinglab.train`` is light: :class:`TrainConfig` needs no torch. The training loop
(``from scalinglab.train import train``) and the model (``GPT``, ``KaplanTransformer``) load torch
when first used; the shape rule (``shape_for_params``) is :mod:`scalinglab.core.shapes`'s::

    from scalinglab.train import TrainConfig, train
    result = train(TrainConfig(n_layer=2, d_model=64, n_head=2, tokens=2_000_000))
    result.loss, result.tokens_per_s, result.mfu
"""

from scalinglab._lazy import lazy_attributes, lazy_dir
from scalinglab.train.config import DEFAULT_CORPUS, TrainConfig

_LAZY = {
    "train": "scalinglab.train.trainer",
    "TrainResult": "scalinglab.train.trainer",
    "GPT": "scalinglab.train.model",
    "KaplanTransformer": "scalinglab.train.model",
    "shape_for_params": "scalinglab.core.shapes",
    "list_corpora": "scalinglab.train.corpora",
}

__getattr__ = lazy_attributes(__name__, _LAZY)
__dir__ = lazy_dir(globals(), _LAZY)

__all__ = ["DEFAULT_CORPUS", "TrainConfig", *_LAZY]
