"""One training run, described as a plain dataclass (importable without torch).

A ``TrainConfig`` is everything :func:`scalinglab.train.trainer.train` needs: the model shape, the
data, the token budget, the optimiser and the machine. It holds only JSON-friendly values, so the
sweep can store it, hash it (``dataclasses.asdict``) into a run ID and rebuild it with
:meth:`TrainConfig.from_dict`.

The vocabulary size is not a field: it belongs to the tokenizer (256 for ``"byte"``, ``<vocab>``
for ``"bpe:<vocab>"``), so :meth:`TrainConfig.shape` takes it as an argument.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from scalinglab.core.architecture import TransformerShape
from scalinglab.core.numbers import whole_number
from scalinglab.errors import ScalingLabError

#: The corpus a run uses when none is named (see :mod:`scalinglab.train.corpora` for why).
DEFAULT_CORPUS = "python-stdlib"

#: Most training tokens a run may ask for: the largest signed 64-bit count (about 9.2e18). Token
#: and step counts are stored as int64 (the sweep's Parquet tables, torch), and no run comes within
#: orders of magnitude of it, so a larger budget is a typo, not a plan.
MAX_TOKENS = 2**63 - 1

_DEVICES = ("cpu", "cuda", "auto")
_DTYPES = ("fp32", "bf16")


def tokenizer_vocab(spec: str) -> int:
    """Vocabulary size named by a tokenizer spec.

    ``"byte"`` -> 256; ``"bpe:4096"`` -> 4096 (a BPE trained on the corpus); ``"tokens:50304"`` ->
    50304 (a pre-tokenised nanoGPT ``.bin`` corpus whose ids are all below that vocabulary).

    Raises
    ------
    ScalingLabError
        If ``spec`` is none of these, or a BPE vocabulary is not above 256 (the byte alphabet).
    """
    if spec == "byte":
        return 256
    if isinstance(spec, str) and spec.startswith(("bpe:", "tokens:")):
        kind, text = spec.split(":", 1)
        low = 256 if kind == "bpe" else 0
        if text.isdigit() and int(text) > low:
            return int(text)
        example = "bpe:4096" if kind == "bpe" else "tokens:50304"
        raise ScalingLabError(
            f"tokenizer {spec!r}: the vocabulary must be a whole number above {low}, e.g. {example}"
        )
    raise ScalingLabError(
        f"tokenizer {spec!r}: expected 'byte', 'bpe:<vocab>' (e.g. bpe:4096) or 'tokens:<vocab>' "
        f"for a pre-tokenised .bin corpus"
    )


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run.

    Parameters
    ----------
    n_layer, d_model, n_head, n_kv_head, d_ff, ctx, gated_mlp, tied_embeddings, bias
        Model shape, as in :class:`scalinglab.core.architecture.TransformerShape` (``ctx`` is the
        context length in tokens). Learned absolute positions are always used.
    corpus : str
        A named corpus (``scalinglab corpus`` lists them) or a path: a text file or folder,
        ``.jsonl``/``.parquet`` with a text column, a Hugging Face dataset saved with
        ``save_to_disk``, or a nanoGPT ``.bin`` of uint16/uint32 tokens.
    tokenizer : str
        ``"byte"`` (vocabulary 256), ``"bpe:<vocab>"`` (a BPE trained locally on the training
        split) or ``"tokens:<vocab>"`` (a pre-tokenised ``.bin`` corpus).
    val_fraction : float
        Fraction of the corpus' tokens held out for validation (the tail; never overlaps train).
    tokens : int
        Training tokens, at most :data:`MAX_TOKENS`. The run takes
        ``steps = tokens // (batch_size * ctx)`` optimizer steps.
    batch_size : int
        Sequences per optimizer step.
    micro_batch_size : int, optional
        Sequences per forward/backward pass; gradients accumulate over
        ``batch_size // micro_batch_size`` passes. ``None`` means ``batch_size``.
    lr, min_lr_ratio, warmup_steps
        Peak learning rate, reached linearly after ``warmup_steps``, then cosine decay to
        ``lr * min_lr_ratio`` at the last step.
    weight_decay, grad_clip, beta1, beta2
        AdamW decoupled weight decay (applied to matrices only), global gradient-norm clip (0 =
        none) and Adam moments.
    eval_every : int
        Evaluate the validation loss every this many steps (0 = only at the end).
    eval_tokens : int
        Validation tokens per evaluation (rounded down to whole sequences, at least one).
    seed : int
        Seeds initialisation and batch order; on CPU a run is bitwise reproducible.
    device : {"cpu", "cuda", "auto"}
    dtype : {"fp32", "bf16"}
        ``"bf16"`` runs matmuls under bf16 autocast (weights and optimizer state stay fp32).
    compile : bool
        Wrap the model in ``torch.compile``.
    threads : int, optional
        ``torch.set_num_threads`` for the run; ``None`` leaves torch's default.
    checkpoint_every : int
        Save a checkpoint every this many steps when an output folder is given (0 = only at the
        end).
    """

    # model
    n_layer: int = 2
    d_model: int = 64
    n_head: int = 4
    n_kv_head: int | None = None
    d_ff: int | None = None
    ctx: int = 256
    gated_mlp: bool = False
    tied_embeddings: bool = True
    bias: bool = False
    # data
    corpus: str = DEFAULT_CORPUS
    tokenizer: str = "byte"
    val_fraction: float = 0.01
    # budget
    tokens: int = 1_000_000
    batch_size: int = 16
    micro_batch_size: int | None = None
    # optimiser
    lr: float = 3e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 20
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    beta1: float = 0.9
    beta2: float = 0.95
    # evaluation
    eval_every: int = 100
    eval_tokens: int = 65_536
    # machine
    seed: int = 0
    device: str = "auto"
    dtype: str = "fp32"
    compile: bool = False
    threads: int | None = None
    checkpoint_every: int = 0

    def __post_init__(self):
        # The shape rules (positive sizes, d_model divisible by n_head, n_kv_head divides n_head)
        # live in TransformerShape; building one here checks them with the same messages.
        self.shape(tokenizer_vocab(self.tokenizer))
        # Counts in any whole-number spelling (1e6, np.int64(16), "2M") are stored as plain ints,
        # so equal configs hash to one run ID and serialise to JSON.
        counts = {name: 1 for name in ("tokens", "batch_size", "eval_tokens")}
        counts.update({name: 0 for name in ("warmup_steps", "eval_every", "seed", "checkpoint_every")})
        counts.update({name: 1 for name in ("micro_batch_size", "threads")
                       if getattr(self, name) is not None})
        for name, minimum in counts.items():
            object.__setattr__(self, name, whole_number(getattr(self, name), name, minimum=minimum))
        if self.micro_batch_size is not None:
            if self.batch_size % self.micro_batch_size:
                raise ScalingLabError(
                    f"batch_size {self.batch_size} is not a multiple of micro_batch_size "
                    f"{self.micro_batch_size}"
                )
        if self.tokens > MAX_TOKENS:
            raise ScalingLabError(
                f"tokens: {self.tokens:.3g} is more than a run can count (at most {MAX_TOKENS:.3g}, "
                "the largest 64-bit integer)"
            )
        if self.tokens < self.tokens_per_step:
            raise ScalingLabError(
                f"token budget {self.tokens:,} is below one batch of {self.tokens_per_step:,} tokens "
                f"(batch_size {self.batch_size} x ctx {self.ctx})"
            )
        _in_range("val_fraction", self.val_fraction, 0.0, 0.5, open_low=True)
        _in_range("lr", self.lr, 0.0, 10.0, open_low=True)
        _in_range("min_lr_ratio", self.min_lr_ratio, 0.0, 1.0)
        _in_range("weight_decay", self.weight_decay, 0.0, 10.0)
        _in_range("grad_clip", self.grad_clip, 0.0, math.inf)
        _in_range("beta1", self.beta1, 0.0, 1.0, open_high=True)
        _in_range("beta2", self.beta2, 0.0, 1.0, open_high=True)
        if self.device not in _DEVICES:
            raise ScalingLabError(f"device {self.device!r}: expected one of {', '.join(_DEVICES)}")
        if self.dtype not in _DTYPES:
            raise ScalingLabError(f"dtype {self.dtype!r}: expected one of {', '.join(_DTYPES)}")
        if not isinstance(self.corpus, str) or not self.corpus:
            raise ScalingLabError(f"corpus: expected a corpus name or a path, got {self.corpus!r}")
        for name in ("gated_mlp", "tied_embeddings", "bias", "compile"):
            if not isinstance(getattr(self, name), bool):
                raise ScalingLabError(f"{name}: expected true or false, got {getattr(self, name)!r}")

    # ----- derived quantities -----------------------------------------------------------------
    @property
    def vocab(self) -> int:
        """Vocabulary size implied by ``tokenizer``."""
        return tokenizer_vocab(self.tokenizer)

    @property
    def micro_batch(self) -> int:
        """Sequences per forward/backward pass."""
        return self.batch_size if self.micro_batch_size is None else self.micro_batch_size

    @property
    def grad_accum(self) -> int:
        """Forward/backward passes per optimizer step."""
        return self.batch_size // self.micro_batch

    @property
    def tokens_per_step(self) -> int:
        """Training tokens per optimizer step (``batch_size * ctx``)."""
        return self.batch_size * self.ctx

    @property
    def steps(self) -> int:
        """Optimizer steps: whole batches that fit in the token budget."""
        return self.tokens // self.tokens_per_step

    @property
    def trained_tokens(self) -> int:
        """Tokens actually trained on (``steps * tokens_per_step`` <= ``tokens``)."""
        return self.steps * self.tokens_per_step

    def shape(self, vocab: int | None = None):
        """The :class:`~scalinglab.core.architecture.TransformerShape` of this run's model.

        Parameters
        ----------
        vocab : int, optional
            Vocabulary size; defaults to the tokenizer's (:attr:`vocab`).
        """
        return TransformerShape(
            n_layer=self.n_layer,
            d_model=self.d_model,
            n_head=self.n_head,
            n_kv_head=self.n_kv_head,
            d_ff=self.d_ff,
            vocab=self.vocab if vocab is None else vocab,
            ctx=self.ctx,
            gated_mlp=self.gated_mlp,
            tied_embeddings=self.tied_embeddings,
            bias=self.bias,
            learned_pos=True,
        )

    # ----- serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Every field as a JSON-serialisable dict (the same as ``dataclasses.asdict``)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """Rebuild a config from :meth:`to_dict` output; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ScalingLabError(f"unknown training setting(s): {', '.join(unknown)}")
        return cls(**data)

    def replace(self, **changes) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _in_range(name, value, low, high, open_low=False, open_high=False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if open_low else value >= low) and (value < high if open_high else value <= high)
    if not ok:
        lo = "(" if open_low else "["
        hi = ")" if open_high else "]"
        raise ScalingLabError(f"{name}: must be a number in {lo}{low}, {high}{hi}, got {value!r}")
