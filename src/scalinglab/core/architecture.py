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
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
