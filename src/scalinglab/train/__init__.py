"""Train small GPT models on real text (torch is imported only inside this package's modules).

Importing ``scalinglab.train`` is light: :class:`TrainConfig` needs no torch. The model
(:mod:`.model`), data (:mod:`.data`, :mod:`.corpora`, :mod:`.tokenizers`) and the training loop
(:func:`scalinglab.train.trainer.train`) import torch when they are used.
"""

from scalinglab.train.config import DEFAULT_CORPUS, TrainConfig

__all__ = ["DEFAULT_CORPUS", "TrainConfig"]
