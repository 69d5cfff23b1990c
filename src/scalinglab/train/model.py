"""A GPT built from a :class:`~scalinglab.core.architecture.TransformerShape`.

The model is nanoGPT's (Karpathy, ``model.py``): pre-LayerNorm blocks, causal self-attention
through ``torch.nn.functional.scaled_dot_product_attention``, a GELU MLP (or a gated SiLU MLP),
learned absolute positions, and an output head tied to the token embedding unless the shape says
otherwise. Grouped key/value heads (``n_kv_head < n_head``) share each K/V head among
``n_head // n_kv_head`` query heads.

It is built to the parameter layout documented in :mod:`scalinglab.core.architecture`, so that
``sum(p.numel() for p in model.parameters())`` equals ``shape.total_params`` exactly; the tests
check this over many shapes. Q, K and V are one fused linear layer (the same parameters as three,
one matmul instead of three).

``KaplanTransformer(vocab_size, d_model, n_heads, n_layers)`` with
``count_parameters(mode="Kaplan" | "total" | "non_embedding")`` is the same model under the name
and signature of the "Physics of Scale" notebook our first users know.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from scalinglab.core.architecture import TransformerShape
from scalinglab.errors import ScalingLabError


class CausalSelfAttention(nn.Module):
    """Multi-head (or grouped-query) causal self-attention."""

    def __init__(self, shape: TransformerShape):
        super().__init__()
        self.n_head, self.n_kv_head, self.head_dim = shape.n_head, shape.n_kv_head, shape.head_dim
        self.q_dim, self.kv_dim = shape.attn_dim, shape.kv_dim
        self.c_attn = nn.Linear(shape.d_model, self.q_dim + 2 * self.kv_dim, bias=shape.bias)
        self.c_proj = nn.Linear(self.q_dim, shape.d_model, bias=shape.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        q, k, v = self.c_attn(x).split([self.q_dim, self.kv_dim, self.kv_dim], dim=2)
        q = q.view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        k = k.view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)
        v = v.view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)
        if self.n_kv_head != self.n_head:
            # Each K/V head serves a contiguous group of query heads.
            group = self.n_head // self.n_kv_head
            k = k.repeat_interleave(group, dim=1)
            v = v.repeat_interleave(group, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).reshape(B, T, self.q_dim))


class MLP(nn.Module):
    """GELU MLP ``d -> d_ff -> d``, or gated ``(silu(x W_g) * x W_u) W_d`` (Shazeer 2020)."""

    def __init__(self, shape: TransformerShape):
        super().__init__()
        self.gated = shape.gated_mlp
        # The gated MLP's gate and up projections are fused: 2 * d_ff outputs, one matmul.
        width = 2 * shape.d_ff if self.gated else shape.d_ff
        self.c_fc = nn.Linear(shape.d_model, width, bias=shape.bias)
        self.c_proj = nn.Linear(shape.d_ff, shape.d_model, bias=shape.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.c_fc(x)
        if self.gated:
            gate, up = h.chunk(2, dim=-1)
            h = F.silu(gate) * up
        else:
            h = F.gelu(h)
        return self.c_proj(h)


class Block(nn.Module):
    """Pre-LayerNorm transformer block: ``x + attn(ln(x))``, then ``x + mlp(ln(x))``."""

    def __init__(self, shape: TransformerShape):
        super().__init__()
        self.ln_1 = nn.LayerNorm(shape.d_model, bias=shape.bias)
        self.attn = CausalSelfAttention(shape)
        self.ln_2 = nn.LayerNorm(shape.d_model, bias=shape.bias)
        self.mlp = MLP(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """A decoder-only transformer whose parameters are exactly ``shape.total_params``.

    Parameters
    ----------
    shape : TransformerShape
        Depth, width, heads, vocabulary, context and the layout switches.
    """

    def __init__(self, shape: TransformerShape):
        super().__init__()
        if not shape.learned_pos:
            raise ScalingLabError("the training model uses learned positions: learned_pos must be True")
        self.shape = shape
        self.wte = nn.Embedding(shape.vocab, shape.d_model)
        self.wpe = nn.Embedding(shape.ctx, shape.d_model)
        self.blocks = nn.ModuleList(Block(shape) for _ in range(shape.n_layer))
        self.ln_f = nn.LayerNorm(shape.d_model, bias=shape.bias)
        self.lm_head = nn.Linear(shape.d_model, shape.vocab, bias=False)
        if shape.tied_embeddings:
            self.lm_head.weight = self.wte.weight
        self.apply(self._init_weights)
        # GPT-2 §2.3: scale the residual projections by 1/sqrt(2 * n_layer) at initialisation.
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * shape.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """Logits ``(B, T, vocab)`` and, given ``targets``, the mean cross-entropy (nats/token)."""
        T = idx.shape[1]
        if T > self.shape.ctx:
            raise ScalingLabError(f"sequence of {T} tokens is longer than the context {self.shape.ctx}")
        pos = torch.arange(T, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss

    # ----- counting the real tensors ------------------------------------------------------------
    def count_parameters(self, mode: str = "total") -> int:
        """Count this model's parameters from its tensors.

        Parameters
        ----------
        mode : {"total", "non_embedding", "Kaplan"}
            ``"total"``: every parameter once (a tied head counted once). ``"non_embedding"``:
            without the token/position embeddings and an untied head (norms and biases kept).
            ``"Kaplan"``: attention and MLP weight matrices only, Kaplan et al. 2020 §2.1's N.
        """
        key = mode.lower().replace("-", "_")
        unique = {id(p): p for p in self.parameters()}
        total = sum(p.numel() for p in unique.values())
        if key == "total":
            return total
        embedding = {id(self.wte.weight), id(self.wpe.weight), id(self.lm_head.weight)}
        if key in ("non_embedding", "nonembedding"):
            return sum(p.numel() for i, p in unique.items() if i not in embedding)
        if key == "kaplan":
            return sum(
                m.weight.numel()
                for block in self.blocks
                for m in (block.attn.c_attn, block.attn.c_proj, block.mlp.c_fc, block.mlp.c_proj)
            )
        raise ScalingLabError(f"mode {mode!r}: expected 'total', 'non_embedding' or 'Kaplan'")

    def decay_groups(self, weight_decay: float) -> list[dict]:
        """AdamW parameter groups: matrices (and embeddings) decay, norms and biases do not."""
        unique = {id(p): p for p in self.parameters() if p.requires_grad}
        decay = [p for p in unique.values() if p.dim() >= 2]
        no_decay = [p for p in unique.values() if p.dim() < 2]
        return [
            {"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]


class KaplanTransformer(GPT):
    """The "Physics of Scale" notebook's model: ``KaplanTransformer(vocab_size, d_model, n_heads,
    n_layers)``.

    Parameters
    ----------
    vocab_size, d_model, n_heads, n_layers : int
        As in the seed; ``d_ff = 4 * d_model`` and tied embeddings unless overridden.
    ctx : int
        Context length (tokens) of the learned position table.
    **shape_options
        Any other :class:`~scalinglab.core.architecture.TransformerShape` field (``n_kv_head``,
        ``d_ff``, ``gated_mlp``, ``tied_embeddings``, ``bias``).
    """

    def __init__(self, vocab_size: int, d_model: int, n_heads: int, n_layers: int, ctx: int = 1024,
                 **shape_options):
        shape = TransformerShape(n_layer=n_layers, d_model=d_model, n_head=n_heads, vocab=vocab_size,
                                 ctx=ctx, **shape_options)
        super().__init__(shape)
