"""The hyper-parameter rule a sweep writes into each run's config.

Every run of a sweep gets its learning rate, batch, warm-up and schedule from one stated rule, so
that the comparison between model sizes is fair and the fitted law is not an artefact of tuning:

- **Peak learning rate and batch** from the DeepSeek LLM 2024 compute laws (§3.1, fitted on
  1e17-2e20 FLOPs): eta_opt = 0.3118·C^-0.125 and B_opt = 0.2920·C^0.3271 tokens. The constants live in
  :mod:`scalinglab.laws.hyperparams`. Extrapolated down to 1e11-1e13 FLOPs they overshoot: the
  learning rate reaches 1e-2 and more, so it is clamped at :attr:`HyperparameterRule.max_lr` =
  5e-3. Measured here (byte-level, python-stdlib, batches of 5-12 x 128 tokens): at 1e-2 two seeds
  of one 74k-parameter run ended 0.26 nats apart (2.31 vs 2.06) and a 591k-parameter run ended at
  2.30; at 5e-3 the seeds agree to 0.005-0.01 nats (2.140/2.135 and 2.191/2.182), and beat 3e-3
  (2.169/2.164).
- **At least** :attr:`~HyperparameterRule.min_steps` **optimizer steps** (300 by default): at tiny
  budgets the published batch leaves too few steps for Adam to converge, so the batch shrinks
  until the run takes that many steps (never below one sequence).
- **Warm-up** of ``N`` tokens (Porian et al. 2024 [S]: warm-up tokens equal to the parameter count
  remove a bias of Kaplan's fixed 3,000-step warm-up), held between 1 step and 10% of the run.
- **Cosine decay to 10%** of the peak at the run's own last step (Hoffmann et al. 2022 §3.1:
  the cosine cycle matched to each run's horizon; ``min_lr_ratio = 0.1``).

The rule's evidence at tiny scale and the clamp are measured in ``benchmarks/results/sweep.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalinglab.errors import ScalingLabError
from scalinglab.laws.hyperparams import deepseek_batch_tokens, deepseek_learning_rate


@dataclass(frozen=True)
class RunHyperparameters:
    """What the rule chose for one run (all counts in optimizer steps or sequences)."""

    lr: float
    batch_size: int
    steps: int
    warmup_steps: int
    min_lr_ratio: float
    lr_published: float
    batch_tokens_published: float
    lr_clamped: bool
    batch_clamped: bool

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class HyperparameterRule:
    """Learning rate, batch and schedule as a function of compute and model size.

    Parameters
    ----------
    max_lr : float
        Clamp on the published learning-rate law at tiny compute.
    min_steps : int
        Fewest optimizer steps a run may take; the batch shrinks to honour it.
    max_warmup_fraction : float
        Longest warm-up, as a fraction of the run's steps.
    min_lr_ratio : float
        Final learning rate of the cosine decay, as a fraction of the peak.
    """

    max_lr: float = 5e-3
    min_steps: int = 300
    max_warmup_fraction: float = 0.1
    min_lr_ratio: float = 0.1

    def choose(self, compute: float, params: float, tokens: float, ctx: int) -> RunHyperparameters:
        """Hyper-parameters for a run of ``compute`` FLOPs, ``params`` parameters, ``tokens`` tokens.

        Parameters
        ----------
        compute : float
            Training FLOPs of the run (the full count the sweep budgets with).
        params : float
            Total parameters (sets the warm-up).
        tokens : float
            Training tokens the run should see.
        ctx : int
            Sequence length in tokens.

        Raises
        ------
        ScalingLabError
            When ``tokens`` is below one sequence per step for :attr:`min_steps` steps, i.e. the
            budget is too small for a meaningful run.
        """
        lr_published = float(deepseek_learning_rate(compute))
        batch_tokens = float(deepseek_batch_tokens(compute))
        if tokens < self.min_steps * ctx:
            raise ScalingLabError(
                f"{tokens:,.0f} tokens ({compute:.3g} FLOPs) is too small a run: it needs at least "
                f"{self.min_steps} steps of one {ctx}-token sequence ({self.min_steps * ctx:,} tokens); "
                "raise the budget or shrink the model"
            )
        published_seqs = max(1, round(batch_tokens / ctx))
        fitting_seqs = max(1, int(tokens // (self.min_steps * ctx)))
        batch = min(published_seqs, fitting_seqs)
        steps = int(tokens // (batch * ctx))
        warmup = math.ceil(params / (batch * ctx))
        warmup = max(1, min(warmup, int(self.max_warmup_fraction * steps)))
        lr = min(lr_published, self.max_lr)
        return RunHyperparameters(
            lr=lr,
            batch_size=batch,
            steps=steps,
            warmup_steps=warmup,
            min_lr_ratio=self.min_lr_ratio,
            lr_published=lr_published,
            batch_tokens_published=batch_tokens,
            lr_clamped=lr < lr_published,
            batch_clamped=batch < published_seqs,
        )

    def as_dict(self) -> dict:
        return {"rule": "deepseek2024-clamped", "max_lr": self.max_lr, "min_steps": self.min_steps,
                "max_warmup_fraction": self.max_warmup_fraction, "min_lr_ratio": self.min_lr_ratio}
