"""Transformer shapes: exact parameter counts and FLOPs per token under each named convention.

One ``TransformerShape`` describes a decoder-only GPT. The training engine builds its model from
the same object, so the parameter count here equals ``sum(p.numel())`` of the real model exactly.

Parameter layout (what is counted, in the order nanoGPT builds it):

- token embedding ``vocab * d_model``; learned positions ``ctx * d_model`` (when ``learned_pos``);
- per layer: two norms (weight, plus bias when ``bias``), attention Q and output projections
  ``d_model * n_head * head_dim`` each, K and V ``d_model * n_kv_head * head_dim`` each (grouped
  KV heads), and the MLP: ``2 * d_model * d_ff`` or, gated (SwiGLU-style), ``3 * d_model * d_ff``;
  linear biases when ``bias``;
- a final norm; an output head ``vocab * d_model`` only when embeddings are untied.

"Non-embedding" parameters (Kaplan et al. 2020 §2.1) exclude the token and position embeddings and
an untied output head; they keep norms and biases. ``kaplan_params`` is Kaplan's N exactly (weight
matrices of attention and MLP only), and ``approx_12ld2`` the familiar 12·L·d² estimate of it.
``chinchilla_params`` is Chinchilla's own count of the same shape (relative positions, biases),
the N of Hoffmann et al.'s Table A4.

FLOPs: :meth:`TransformerShape.flops_per_token` gives TRAINING FLOPs per token (3 × forward) under
the named conventions of :data:`FLOP_CONVENTIONS` (docs/conventions.md), each
reproducing its paper's published vectors: ``6N`` (the budgeting headline), ``kaplan``,
``chinchilla`` (App. F, everything counted: the "full" count the sweep budgets with),
``chinchilla_no_embed`` (Table A4's way), ``palm``, ``deepseek`` and the Megatron family.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scalinglab.core.units import FLOP_PER_PARAM_TOKEN
from scalinglab.errors import ScalingLabError


@dataclass(frozen=True)
class TransformerShape:
    """A decoder-only transformer.

    Parameters
    ----------
    n_layer, d_model, n_head : int
        Depth, width and number of query heads; ``d_model`` must be divisible by ``n_head``.
    n_kv_head : int, optional
        Key/value heads (grouped-query attention); defaults to ``n_head``. Must divide ``n_head``.
    d_ff : int, optional
        MLP hidden width; defaults to ``4 * d_model``.
    vocab, ctx : int
        Vocabulary size and context length (tokens).
    gated_mlp : bool
        Gated (SwiGLU-style) MLP with three matrices instead of two.
    tied_embeddings : bool
        Output head shares the token-embedding matrix (GPT-2, nanoGPT).
    bias : bool
        Biases in linear layers and layer norms (GPT-2: True; nanoGPT/LLaMA-style: False).
    learned_pos : bool
        Learned absolute position embeddings (``ctx * d_model`` parameters).
    """

    n_layer: int
    d_model: int
    n_head: int
    n_kv_head: int | None = None
    d_ff: int | None = None
    vocab: int = 50257
    ctx: int = 1024
    gated_mlp: bool = False
    tied_embeddings: bool = True
    bias: bool = False
    learned_pos: bool = True
    head_dim: int = field(init=False)

    def __post_init__(self):
        for name in ("n_layer", "d_model", "n_head", "vocab", "ctx"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ScalingLabError(f"{name}: must be a positive integer, got {value!r}")
        if self.d_model % self.n_head:
            raise ScalingLabError(
                f"d_model {self.d_model} is not divisible by n_head {self.n_head}"
            )
        kv = self.n_head if self.n_kv_head is None else self.n_kv_head
        if not isinstance(kv, int) or kv <= 0 or self.n_head % kv:
            raise ScalingLabError(f"n_kv_head {kv!r} must be a positive divisor of n_head {self.n_head}")
        ff = 4 * self.d_model if self.d_ff is None else self.d_ff
        if not isinstance(ff, int) or ff <= 0:
            raise ScalingLabError(f"d_ff: must be a positive integer, got {ff!r}")
        object.__setattr__(self, "n_kv_head", kv)
        object.__setattr__(self, "d_ff", ff)
        object.__setattr__(self, "head_dim", self.d_model // self.n_head)

    # ----- parameter counts -------------------------------------------------------------------
    @property
    def attn_dim(self) -> int:
        """Width of the concatenated query heads, n_head * head_dim (= d_model here)."""
        return self.n_head * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of the concatenated key (or value) heads."""
        return self.n_kv_head * self.head_dim

    @property
    def norm_params(self) -> int:
        """Parameters of one LayerNorm (weight, and bias when ``bias``)."""
        return self.d_model * (2 if self.bias else 1)

    @property
    def attention_params(self) -> int:
        """Attention parameters of one layer (Q, K, V, output; with biases when ``bias``)."""
        d, q, kv = self.d_model, self.attn_dim, self.kv_dim
        weights = d * q + 2 * d * kv + q * d
        return weights + ((q + 2 * kv + d) if self.bias else 0)

    @property
    def mlp_params(self) -> int:
        """MLP parameters of one layer."""
        d, ff = self.d_model, self.d_ff
        if self.gated_mlp:
            return 3 * d * ff + ((2 * ff + d) if self.bias else 0)
        return 2 * d * ff + ((ff + d) if self.bias else 0)

    @property
    def layer_params(self) -> int:
        """All parameters of one transformer block."""
        return 2 * self.norm_params + self.attention_params + self.mlp_params

    @property
    def embedding_params(self) -> int:
        """Token embedding, learned positions and an untied output head."""
        emb = self.vocab * self.d_model
        pos = self.ctx * self.d_model if self.learned_pos else 0
        head = 0 if self.tied_embeddings else self.vocab * self.d_model
        return emb + pos + head

    @property
    def non_embedding_params(self) -> int:
        """Everything but the embeddings: blocks plus the final norm (Kaplan's N, with norms/biases)."""
        return self.n_layer * self.layer_params + self.norm_params

    @property
    def total_params(self) -> int:
        """Every parameter of the model, counted once (a tied head is not counted twice)."""
        return self.non_embedding_params + self.embedding_params

    @property
    def kaplan_params(self) -> int:
        """Kaplan et al. 2020 Table 1 N: attention and MLP weight matrices only (no biases, norms)."""
        d, q, kv, ff = self.d_model, self.attn_dim, self.kv_dim, self.d_ff
        mlp = (3 if self.gated_mlp else 2) * d * ff
        return self.n_layer * (d * q + 2 * d * kv + q * d + mlp)

    @property
    def approx_12ld2(self) -> int:
        """The 12·L·d² rule of thumb for the non-embedding parameter count."""
        return 12 * self.n_layer * self.d_model**2

    @property
    def approx_12ld2_error(self) -> float:
        """Relative error of 12·L·d² against ``non_embedding_params`` (positive = overestimate)."""
        return self.approx_12ld2 / self.non_embedding_params - 1.0

    # ----- other papers' parameter counts -----------------------------------------------------
    @property
    def chinchilla_params(self) -> int:
        """Chinchilla's own parameter count of this shape (Hoffmann et al. 2022, App. A.1 / Table A4).

        Chinchilla and Gopher use Transformer-XL relative positions and biases everywhere, so their
        count is not ours: per layer QKV with biases, a relative-position projection ``d·q + 2q``
        (d² + 2d for standard shapes), the output projection with bias, both MLP matrices with
        biases and two LayerNorms with bias (4d); then a final LayerNorm (2d) and the token
        embedding ``d·V`` (tied output). This is the N in the denominator of Table A4's "ratio to
        6ND" (docs/conventions.md). A gated MLP counts three matrices.
        """
        d, q, kv, ff = self.d_model, self.attn_dim, self.kv_dim, self.d_ff
        qkv = d * (q + 2 * kv) + (q + 2 * kv)
        rel_pos = d * q + 2 * q
        out = q * d + d
        mlp = (3 * d * ff + 2 * ff + d) if self.gated_mlp else (2 * d * ff + ff + d)
        layer = qkv + rel_pos + out + mlp + 4 * d
        return self.n_layer * layer + 2 * d + d * self.vocab

    # ----- FLOPs ------------------------------------------------------------------------------
    def flops_per_token(
        self, convention: str = "6N", *, include_embeddings: bool | None = None, seq: int | None = None
    ) -> float:
        """TRAINING FLOPs per token (forward + backward = 3 × forward) under a named convention.

        Parameters
        ----------
        convention : str
            One of :data:`FLOP_CONVENTIONS`; :data:`FLOP_CONVENTION_NOTES` says what each counts.
            ``"6N"`` is the budgeting headline; ``"chinchilla"`` (Hoffmann et al. 2022 App. F,
            everything counted) is the "full" count the sweep budgets with.
        include_embeddings : bool, optional
            Count the embedding parameters / embedding and logits FLOPs where the convention has
            that choice (``6N``, ``chinchilla``, ``kaplan``, ``palm``, ``deepseek``, ``megatron*``).
            ``None`` keeps the convention's published choice. The ``6N_nonembed`` and
            ``chinchilla_no_embed`` conventions are fixed at ``False``.
        seq : int, optional
            Sequence length for the attention terms; defaults to ``ctx``.

        Returns
        -------
        float
            FLOPs per training token (a multiply-accumulate is 2 FLOPs).
        """
        return training_flops_per_token(self, convention, include_embeddings=include_embeddings, seq=seq)

    def flops_per_sequence(
        self, convention: str = "6N", *, include_embeddings: bool | None = None, seq: int | None = None
    ) -> float:
        """TRAINING FLOPs for one sequence of ``seq`` (default ``ctx``) tokens: per token × seq."""
        seq = self.ctx if seq is None else seq
        return self.flops_per_token(convention, include_embeddings=include_embeddings, seq=seq) * seq


# ----- FLOP conventions ---------------------------------------------------------------------------
#
# Each paper writes its formula for the standard shape (d_attn = n_head·head_dim = d_model,
# d_ff = 4·d_model, plain 2-matrix MLP, full multi-head attention). For other shapes the terms are
# generalised the way Megatron-LM's own code does (``megatron/training/training.py``): "12·L·d²"
# (and 72·L·d² = 6 ×
# it) becomes the actual attention + MLP weight-matrix count (``kaplan_params``: Q and O are
# d·n_head·head_dim, K and V d·n_kv_head·head_dim under GQA, the MLP 2·d·d_ff or 3·d·d_ff gated);
# the "d" of every attention-score term becomes d_attn = n_head·head_dim (GQA shares K/V but every
# query head still scores every position, so it does not shrink); the vocabulary terms stay d·V.
# For the standard shape each generalised formula equals the published one exactly.

#: Names accepted by :meth:`TransformerShape.flops_per_token`.
FLOP_CONVENTIONS = (
    "6N",
    "6N_nonembed",
    "kaplan",
    "chinchilla",
    "chinchilla_no_embed",
    "palm",
    "deepseek",
    "megatron",
    "megatron_selective",
    "megatron_recompute",
)

#: One line per convention: what it counts (training FLOPs per token, 3 × forward).
FLOP_CONVENTION_NOTES = {
    "6N": "6 × total parameters (embeddings included); attention and logits not separately counted. "
    "The budgeting headline (Kaplan 2020 §2.1 rule, Epoch AI, Transformer Math 101).",
    "6N_nonembed": "6 × non-embedding parameters (blocks, norms and biases; no token/position "
    "embeddings, no untied head).",
    "kaplan": "Kaplan 2020 Table 1: 3 × (2N + 2·L·ctx·d_attn), N = attention+MLP weight matrices "
    "only; embeddings and de-embedding (logits) excluded.",
    "chinchilla": "Hoffmann 2022 App. F exact: embeddings, QKV, scores, softmax, attention over V, "
    "output projection, MLP and logits, all counted; no causal halving. The full count the sweep "
    "budgets with.",
    "chinchilla_no_embed": "Hoffmann 2022 App. F without embeddings and logits: how Table A4's "
    "ratios were actually computed (nanoGPT scaling_laws.ipynb).",
    "palm": "PaLM App. B / nanoGPT estimate_mfu: 6N + 12·L·H·Q·T, N = total parameters minus learned "
    "position embeddings (a tied embedding stays in N); no causal halving.",
    "deepseek": "DeepSeek LLM 2024 Eq. 2, M = 72·L·d² + 12·L·d·seq: non-embedding FLOPs with "
    "attention, vocabulary (embedding and logits) excluded.",
    "megatron": "Korthikanti 2022 Eq. 7 model FLOPs, 72·L·h²·(1 + s/6h + V/12hL) per token: blocks, "
    "attention scores (12·L·s·h) and logits (6·h·V); no recompute (use for MFU).",
    "megatron_selective": "Korthikanti 2022 Eq. 8 hardware FLOPs with selective recompute, "
    "72·L·h²·(1 + s/3h + V/12hL): the attention core runs twice (use for HFU).",
    "megatron_recompute": "Narayanan 2021 hardware FLOPs with full recompute, "
    "96·L·h²·(1 + s/6h + V/16hL): the blocks' forward runs twice, logits once (use for HFU).",
}


def check_convention(convention: str) -> str:
    """Return ``convention`` if it is one of :data:`FLOP_CONVENTIONS`, else raise a listing error."""
    if convention not in FLOP_CONVENTIONS:
        raise ScalingLabError(
            f"unknown FLOP convention {convention!r}; choose one of: {', '.join(FLOP_CONVENTIONS)}"
        )
    return convention


def kaplan_forward_flops_per_token(kaplan_params: float, n_layer: int, ctx: int, d_attn: int) -> float:
    """Kaplan et al. 2020 Table 1 forward FLOPs per token: C_forward = 2N + 2·n_layer·n_ctx·d_attn.

    ``kaplan_params`` is Kaplan's N (attention and MLP weight matrices only).
    """
    return 2 * kaplan_params + 2 * n_layer * ctx * d_attn


def palm_flops_per_token(params: float, n_layer: int, n_head: int, head_dim: int, seq: int) -> float:
    """PaLM (Chowdhery et al. 2022) App. B model FLOPs per training token: 6N + 12·L·H·Q·T.

    N includes the shared input/output embedding; nanoGPT's ``estimate_mfu`` passes the total minus
    the learned position embedding. Attention is not halved for causality (torchtitan says so).
    """
    return FLOP_PER_PARAM_TOKEN * params + 12 * n_layer * n_head * head_dim * seq


def deepseek_flops_per_token(n_layer: int, d_model: int, seq: int) -> float:
    """DeepSeek LLM 2024 §3.2 Eq. 2 "non-embedding FLOPs/token" M = 72·L·d² + 12·L·d·l_seq.

    The paper's literal formula, as it applies it to every model (its own SwiGLU ones included);
    :meth:`TransformerShape.flops_per_token` with ``"deepseek"`` uses the real matrix count, which
    equals this for standard shapes.
    """
    return 72 * n_layer * d_model**2 + 12 * n_layer * d_model * seq


def chinchilla_forward_flops_per_sequence(shape: TransformerShape, seq: int, *, embeddings: bool) -> float:
    """Hoffmann et al. 2022 App. F forward FLOPs for one sequence of ``seq`` tokens.

    Per layer: QKV 2·3·s·d·(ks·nh), logits K@Q 2·s²·(ks·nh), softmax 3·nh·s², softmax@V
    2·s²·(ks·nh), final linear 2·s·(ks·nh)·d, dense 2·s·(2·d·ffw). With ``embeddings``, add the
    embedding 2·s·V·d and the final logits 2·s·d·V. GQA: K and V project to n_kv_head·head_dim;
    a gated MLP has three d×ffw matrices.
    """
    d, q, kv, ff, h = shape.d_model, shape.attn_dim, shape.kv_dim, shape.d_ff, shape.n_head
    attention = (
        2 * seq * d * (q + 2 * kv)  # QKV projections
        + 2 * seq**2 * q  # K @ Q logits
        + 3 * h * seq**2  # softmax
        + 2 * seq**2 * q  # softmax @ V
        + 2 * seq * q * d  # final linear
    )
    dense = 2 * seq * (3 if shape.gated_mlp else 2) * d * ff
    forward = shape.n_layer * (attention + dense)
    if embeddings:
        forward += 2 * seq * shape.vocab * d + 2 * seq * d * shape.vocab
    return float(forward)


def training_flops_per_token(
    shape: TransformerShape,
    convention: str = "6N",
    *,
    include_embeddings: bool | None = None,
    seq: int | None = None,
) -> float:
    """Training FLOPs per token of ``shape`` under ``convention``; see
    :meth:`TransformerShape.flops_per_token` (this is its implementation)."""
    check_convention(convention)
    seq = shape.ctx if seq is None else seq
    if not isinstance(seq, int) or isinstance(seq, bool) or seq <= 0:
        raise ScalingLabError(f"seq: must be a positive integer, got {seq!r}")
    fixed = {"6N_nonembed": False, "chinchilla_no_embed": False}
    if convention in fixed:
        if include_embeddings:
            raise ScalingLabError(
                f"convention {convention!r} never counts embeddings; use {convention.split('_')[0]!r}"
            )
        convention = convention.split("_")[0]
        include_embeddings = False

    L, d, V = shape.n_layer, shape.d_model, shape.vocab
    d_attn = shape.attn_dim
    matrices = shape.kaplan_params  # attention + MLP weight matrices: the "12·L·d²" of every paper
    vocab_flops = FLOP_PER_PARAM_TOKEN * d * V  # 3 × the 2·d·V logits matmul

    if convention == "6N":
        n = shape.total_params if include_embeddings in (None, True) else shape.non_embedding_params
        return FLOP_PER_PARAM_TOKEN * n
    if convention == "kaplan":
        forward = kaplan_forward_flops_per_token(matrices, L, seq, d_attn)
        if include_embeddings:  # Table 1's Embed (4·d) and De-embed (2·d·V) rows
            forward += 4 * d + 2 * d * V
        return 3.0 * forward
    if convention == "chinchilla":
        embeddings = include_embeddings in (None, True)
        return 3.0 * chinchilla_forward_flops_per_sequence(shape, seq, embeddings=embeddings) / seq
    if convention == "palm":
        pos = shape.ctx * d if shape.learned_pos else 0
        n = shape.total_params - pos if include_embeddings in (None, True) else shape.non_embedding_params
        return float(palm_flops_per_token(n, L, shape.n_head, shape.head_dim, seq))
    if convention == "deepseek":
        m = FLOP_PER_PARAM_TOKEN * matrices + 12.0 * L * d_attn * seq
        return m + (vocab_flops if include_embeddings else 0.0)
    # Megatron family (Korthikanti 2022 App. A; Narayanan 2021): per token 72·L·h² + 12·L·s·h + 6·h·V.
    logits = vocab_flops if include_embeddings in (None, True) else 0.0
    blocks, scores = FLOP_PER_PARAM_TOKEN * matrices, 12.0 * L * d_attn * seq
    if convention == "megatron":
        return blocks + scores + logits
    if convention == "megatron_selective":  # Eq. 8: the attention core is recomputed
        return blocks + 2.0 * scores + logits
    # megatron_recompute: 96·L·h²·(1 + s/6h + V/16hL) = 4/3 × blocks and scores, logits once
    return 4.0 / 3.0 * (blocks + scores) + logits
