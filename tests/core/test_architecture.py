"""Parameter counts and FLOP conventions against published vectors (TEST_VECTORS §A, §B H1/H5)."""

import pytest

from scalinglab.core.architecture import (
    FLOP_CONVENTION_NOTES,
    FLOP_CONVENTIONS,
    TransformerShape,
    deepseek_flops_per_token,
    palm_flops_per_token,
)
from scalinglab.errors import ScalingLabError

# GPT-2 124M as nanoGPT builds it (transformer_sizing.ipynb): L 12, H 12, d 768, T 1024, V 50257.
GPT2 = TransformerShape(n_layer=12, d_model=768, n_head=12, vocab=50257, ctx=1024)


def test_gpt2_parameter_counts():
    # nanoGPT transformer_sizing.ipynb: 124,337,664 params without bias; GPT-2 with biases 124,439,808.
    assert GPT2.total_params == 124_337_664
    assert TransformerShape(n_layer=12, d_model=768, n_head=12, bias=True).total_params == 124_439_808
    # U3, Kaplan Eq. 2.1: N = 12·L·d² = 84,934,656 for GPT-2 small, exactly the weight matrices.
    assert GPT2.kaplan_params == 84_934_656
    assert GPT2.approx_12ld2 == 84_934_656
    # Position embedding 1024 × 768 = 786,432 (PaLM-style N in U5 subtracts it).
    assert GPT2.embedding_params == 50257 * 768 + 786_432


def test_nanogpt_flops_per_sequence_u4_u5():
    # U4: forward FLOPs per 1024-token sequence (weights + attention + dense logits) 291,648,307,200,
    # forward+backward 874,944,921,600 — Korthikanti Eq. 7 counts exactly these terms.
    assert GPT2.flops_per_sequence("megatron") / 3 == 291_648_307_200
    assert GPT2.flops_per_sequence("megatron") == 874_944_921_600
    # U5: PaLM formula (6N + 12·L·H·Q·T)·T with N = 124,337,664 − 786,432 → 875,062,886,400.
    assert GPT2.flops_per_sequence("palm") == 875_062_886_400
    assert palm_flops_per_token(124_337_664 - 786_432, 12, 12, 64, 1024) * 1024 == 875_062_886_400


def test_nanogpt_mfu_h5():
    # H5: 100 × 1024 tokens in 0.755 s on one A100 (312 TF) with the PaLM count → 37.14% (abs 0.01 pp).
    mfu = GPT2.flops_per_sequence("palm") * 100 / 0.755 / 312e12
    assert 100 * mfu == pytest.approx(37.14, abs=0.01)


# Chinchilla Table A4 shapes: (layers, d_model, ffw, heads, kv size), paper ratio, recomputed ratio
# (nanoGPT scaling_laws.ipynb), and the negative control with embeddings and logits (U7).
TABLE_A4 = [
    ((10, 640, 2560, 10, 64), 73e6, 1.03, 1.025036, 1.580),
    ((20, 1024, 4096, 16, 64), 305e6, 1.10, 1.100817, 1.315),
    ((24, 1280, 5120, 10, 128), 552e6, 1.08, 1.082919, 1.231),
    ((26, 1792, 7168, 14, 128), 1.1e9, 1.04, 1.044094, 1.144),
    ((28, 2048, 8192, 16, 128), 1.6e9, 1.03, 1.032902, 1.115),
    ((40, 3584, 14336, 28, 128), 6.8e9, 0.99, 0.994114, 1.028),
]


def _a4_shape(layers, d, ffw, heads, kv):
    assert heads * kv == d
    return TransformerShape(n_layer=layers, d_model=d, n_head=heads, d_ff=ffw, vocab=32000, ctx=2048)


@pytest.mark.parametrize(("dims", "name", "paper", "recomputed", "with_embeddings"), TABLE_A4)
def test_chinchilla_table_a4_u6_u7(dims, name, paper, recomputed, with_embeddings):
    # U6: App. F FLOPs / (6·N·seq), seq 2048, V 32000, embeddings and logits NOT counted, N = the
    # full Chinchilla count (App. A.1). abs 0.005 vs the paper, rel 1e-6 vs the recomputation.
    shape = _a4_shape(*dims)
    n = shape.chinchilla_params
    assert n == pytest.approx(name, rel=0.05)  # the table's names are rounded/truncated counts
    ratio = shape.flops_per_sequence("chinchilla_no_embed") / (6 * n * 2048)
    assert ratio == pytest.approx(paper, abs=0.005)
    assert ratio == pytest.approx(recomputed, rel=1e-6)
    assert shape.flops_per_token("chinchilla", include_embeddings=False) == shape.flops_per_token(
        "chinchilla_no_embed"
    )
    # U7 negative control: counting embeddings and logits does NOT reproduce the table.
    full = shape.flops_per_sequence("chinchilla") / (6 * n * 2048)
    assert full == pytest.approx(with_embeddings, abs=0.001)


# DeepSeek LLM Table 3 (n_vocab 102400, l_seq 4096): (L, d) -> M, 6N1/M, 6N2/M.
DEEPSEEK_T3 = [
    (8, 512, 352e6, 0.43, 1.32),
    (12, 768, 963e6, 0.53, 1.02),
    (24, 1024, 3.02e9, 0.60, 0.81),
    (24, 2048, 9.66e9, 0.75, 0.88),
    (32, 4096, 45.1e9, 0.857, 0.91),  # paper prints 0.85; recomputed 0.857 (U8)
    (40, 5120, 85.6e9, 0.88, 0.92),
    (80, 8192, 419e9, 0.92, 0.94),
]


@pytest.mark.parametrize(("layers", "d", "m", "r1", "r2"), DEEPSEEK_T3)
def test_deepseek_table3_u8(layers, d, m, r1, r2):
    # U8: M rel 0.5%, ratios abs 0.01.
    shape = TransformerShape(n_layer=layers, d_model=d, n_head=d // 64, vocab=102400, ctx=4096)
    M = shape.flops_per_token("deepseek")
    assert M == deepseek_flops_per_token(layers, d, 4096)
    assert M == pytest.approx(m, rel=5e-3)
    n1 = shape.kaplan_params  # 12·L·d²
    n2 = n1 + 102400 * d
    assert 6 * n1 / M == pytest.approx(r1, abs=0.01)
    assert 6 * n2 / M == pytest.approx(r2, abs=0.01)
    # "Complete" FLOPs (6N2's vocabulary term added to M).
    assert shape.flops_per_token("deepseek", include_embeddings=True) == M + 6 * 102400 * d


def test_deepseek_m_exact_l25():
    # L25: M(30, 4096, 4096) and M(95, 8192, 4096), exact.
    assert deepseek_flops_per_token(30, 4096, 4096) == 42_278_584_320
    assert deepseek_flops_per_token(95, 8192, 4096) == 497_276_682_240


def test_palm_540b_u9():
    # U9: 6N + 12·L·H·Q·T with N 540.35e9, L 118, H 48, Q 256, T 2048: 3.28e12 FLOPs/token (rel
    # 0.5% vs the paper, 3.2777e12 recomputed); × 780e9 tokens = 2.56e24.
    per_token = palm_flops_per_token(540.35e9, 118, 48, 256, 2048)
    assert per_token == pytest.approx(3.28e12, rel=5e-3)
    assert per_token == pytest.approx(3.2777e12, rel=1e-4)
    assert per_token * 780e9 == pytest.approx(2.56e24, rel=5e-3)


# Korthikanti 2022 Table 5: A100 312 TF, s 2048, V 51200; (h, L, heads, GPUs, B, iteration s),
# MFU %, HFU % (selective recompute). abs 0.3 pp (H1).
KORTHIKANTI_T5 = [
    ((6144, 48, 64, 8, 4, 1.10), 41.5, 43.7),
    ((12288, 96, 96, 64, 64, 13.75), 51.4, 52.8),
    ((20480, 105, 128, 280, 280, 37.83), 56.0, 57.0),
    ((25600, 128, 160, 512, 512, 71.49), 56.3, 57.0),
    ((20480, 105, 128, 2240, 2240, 39.15), 54.2, None),
]


@pytest.mark.parametrize(("config", "mfu", "hfu"), KORTHIKANTI_T5)
def test_korthikanti_table5_h1(config, mfu, hfu):
    h, layers, heads, gpus, batch, seconds = config
    shape = TransformerShape(n_layer=layers, d_model=h, n_head=heads, vocab=51200, ctx=2048)
    per_second = batch / seconds / (gpus * 312e12)
    assert 100 * shape.flops_per_sequence("megatron") * per_second == pytest.approx(mfu, abs=0.3)
    if hfu is not None:
        assert 100 * shape.flops_per_sequence("megatron_selective") * per_second == pytest.approx(hfu, abs=0.3)


def test_megatron_formulas_literal():
    # Korthikanti Eq. 7 and Narayanan's full-recompute formula, per token, for a standard shape.
    L, h, s, V = 24, 2048, 2048, 51200
    shape = TransformerShape(n_layer=L, d_model=h, n_head=16, vocab=V, ctx=s)
    eq7 = 72 * L * h**2 * (1 + s / (6 * h) + V / (12 * h * L))
    eq8 = 72 * L * h**2 * (1 + s / (3 * h) + V / (12 * h * L))
    full = 96 * L * h**2 * (1 + s / (6 * h) + V / (16 * L * h))
    assert shape.flops_per_token("megatron") == pytest.approx(eq7, rel=1e-12)
    assert shape.flops_per_token("megatron_selective") == pytest.approx(eq8, rel=1e-12)
    assert shape.flops_per_token("megatron_recompute") == pytest.approx(full, rel=1e-12)


def test_gqa_generalisation_matches_megatron_code():
    # Megatron-LM training.py (38644dd) counts 12·B·s·L·h²·(1 + ffn/h + g/a + s/h +
    # V/(2Lh)) per iteration with g query groups of a heads; our GQA generalisation must agree.
    L, h, a, g, ffn, s, V = 16, 2048, 16, 4, 5632, 4096, 32000
    shape = TransformerShape(n_layer=L, d_model=h, n_head=a, n_kv_head=g, d_ff=ffn, vocab=V, ctx=s)
    megatron_code = 12 * L * h**2 * (1 + ffn / h + g / a + s / h + V / (2 * L * h))
    assert shape.flops_per_token("megatron") == pytest.approx(megatron_code, rel=1e-12)


def test_kaplan_convention():
    # Kaplan Table 1: C_forward = 2N + 2·n_layer·n_ctx·d_attn; training = 3 × forward.
    assert GPT2.flops_per_token("kaplan") == 3 * (2 * 84_934_656 + 2 * 12 * 1024 * 768)
    with_vocab = GPT2.flops_per_token("kaplan", include_embeddings=True)
    assert with_vocab - GPT2.flops_per_token("kaplan") == 3 * (4 * 768 + 2 * 768 * 50257)


def test_six_n_conventions():
    assert GPT2.flops_per_token("6N") == 6 * 124_337_664
    assert GPT2.flops_per_token("6N_nonembed") == 6 * GPT2.non_embedding_params
    assert GPT2.flops_per_token("6N", include_embeddings=False) == GPT2.flops_per_token("6N_nonembed")
    with pytest.raises(ScalingLabError, match="never counts embeddings"):
        GPT2.flops_per_token("6N_nonembed", include_embeddings=True)


def test_conventions_are_listed_and_described():
    assert set(FLOP_CONVENTION_NOTES) == set(FLOP_CONVENTIONS)
    assert "sweep" in FLOP_CONVENTION_NOTES["chinchilla"]  # the full count the sweep budgets with
    for name in FLOP_CONVENTIONS:
        assert GPT2.flops_per_token(name) > 0
        assert GPT2.flops_per_sequence(name) == pytest.approx(GPT2.flops_per_token(name) * 1024)


def test_unknown_convention_lists_valid_ones():
    with pytest.raises(ScalingLabError, match="chinchilla_no_embed"):
        GPT2.flops_per_token("flops")
    with pytest.raises(ScalingLabError, match="seq"):
        GPT2.flops_per_token("palm", seq=0)


def test_gqa_and_gated_shapes():
    # GQA shrinks K/V projections, not the attention-score terms; a gated MLP has three matrices.
    mha = TransformerShape(n_layer=4, d_model=512, n_head=8, ctx=256)
    gqa = TransformerShape(n_layer=4, d_model=512, n_head=8, n_kv_head=2, ctx=256)
    saved = 4 * 2 * 512 * (512 - 128)
    assert mha.kaplan_params - gqa.kaplan_params == saved
    assert mha.flops_per_token("palm") - gqa.flops_per_token("palm") == 6 * saved
    gated = TransformerShape(n_layer=4, d_model=512, n_head=8, d_ff=1024, gated_mlp=True)
    assert gated.mlp_params == 3 * 512 * 1024
    untied = TransformerShape(n_layer=4, d_model=512, n_head=8, ctx=256, tied_embeddings=False)
    assert untied.total_params - mha.total_params == 50257 * 512
