"""Budget, memory and inference planning against published runs (TEST_VECTORS §A–§C)."""

import io
from contextlib import redirect_stdout

import pytest

from scalinglab.core.architecture import TransformerShape, palm_flops_per_token
from scalinglab.core.hardware import get_accelerator
from scalinglab.errors import ScalingLabError
from scalinglab.plan.budget import (
    DEFAULT_MFU,
    implied_mfu,
    max_compute_for,
    max_tokens_for,
    mfu_from_throughput,
    train_plan,
)
from scalinglab.plan.inference import (
    cost_per_million_tokens,
    decode_flops_per_token,
    decode_plan,
    decode_seconds_per_token,
    generation_flops,
    prefill_flops,
)
from scalinglab.plan.memory import (
    activation_bytes,
    activation_bytes_per_layer,
    inference_memory,
    kv_cache_bytes,
    kv_cache_bytes_per_token,
    model_state_bytes,
    training_memory,
)

# ----- budget -------------------------------------------------------------------------------------


def test_llama65b_gpu_hours():
    # LLaMA (Touvron et al. 2023) §2.4: 1,022,362 A100-80GB GPU-hours; implied MFU 47.7%; about
    # 21 days on 2048 GPUs.
    plan = train_plan(params=65.2e9, tokens=1.4e12, gpu="A100-80GB", gpus=2048, mfu=0.477)
    assert plan.gpu_hours == pytest.approx(1_022_362, rel=0.01)
    assert plan.wall_clock_days == pytest.approx(21, abs=0.5)
    assert plan.flops == pytest.approx(6 * 65.2e9 * 1.4e12, rel=1e-15)


def test_nanogpt_plan_h6():
    # H6: 6 × 124,337,664 × 300e9 / (312e12 × 8 × 0.30) = 3.46 days (3.4594), abs 0.01 d.
    plan = train_plan(params=124_337_664, tokens=300e9, gpu="A100", gpus=8, mfu=0.30)
    assert plan.wall_clock_days == pytest.approx(3.4594, abs=0.01)


def test_gpt3_pf_days():
    # U10 / GPT-3 Table D.1: GPT-3 Table D.1, 3.14e23 FLOPs = 3.64e3 PF-days (rel 0.5%).
    plan = train_plan(params=174.6e9, tokens=300e9, gpu="V100", dtype="fp16")
    assert plan.pf_days == pytest.approx(3.64e3, rel=5e-3)


# H9/H10: (N, D, reported accelerator-hours, peak TF/s, implied MFU %, predicted/reported at 40%).
RUNS = {
    "LLaMA-1 65B": (65.2e9, 1.4e12, 1_022_362, "A100", 47.7, 1.19),
    "Llama 2 7B": (6.738e9, 2e12, 184_320, "A100", 39.1, 0.98),
    "Llama 2 13B": (13.016e9, 2e12, 368_640, "A100", 37.7, 0.94),
    "Llama 2 34B": (34e9, 2e12, 1_038_336, "A100", 35.0, 0.87),
    "Llama 2 70B": (68.977e9, 2e12, 1_720_320, "A100", 42.8, 1.07),
    "BLOOM": (176.247e9, 366e9, 1_082_990, "A100", 31.8, 0.80),
    "PaLM": (540.35e9, 780e9, 8_404_992, "TPUv4", 30.4, 0.76),
}


@pytest.mark.parametrize("run", RUNS)
def test_published_runs_h9_h10(run):
    n, d, hours, gpu, mfu_pct, ratio = RUNS[run]
    peak = get_accelerator(gpu).peak("bf16")
    mfu = implied_mfu(6 * n * d, hours, peak)
    assert 100 * mfu == pytest.approx(mfu_pct, abs=0.1)  # H9
    assert train_plan(n, d, gpu=gpu, mfu=mfu).gpu_hours == pytest.approx(hours, rel=1e-9)  # H10a
    predicted = train_plan(n, d, gpu=gpu).gpu_hours  # the default MFU 0.40
    assert DEFAULT_MFU == 0.40
    assert predicted / hours == pytest.approx(ratio, abs=0.01)  # H10b
    assert 0.5 <= predicted / hours <= 1.3


def test_palm_mfu_h3():
    # H3: 238.3e3 tokens/s on 6144 TPUv4 (275 TF): 46.2% with attention, 45.7% without (6 × 540e9
    # as PaLM App. B computes it); 6144 × 1200 + 3072 × 336 = 8,404,992 chip-hours.
    peak = get_accelerator("TPUv4").peak("bf16")
    with_attention = palm_flops_per_token(540.35e9, 118, 48, 256, 2048)
    assert 100 * mfu_from_throughput(with_attention, 238.3e3, 6144, peak) == pytest.approx(46.2, abs=0.1)
    assert 100 * mfu_from_throughput(6 * 540e9, 238.3e3, 6144, peak) == pytest.approx(45.7, abs=0.1)
    assert 6144 * 1200 + 3072 * 336 == 8_404_992


def test_mtnlg_mfu_h4():
    # H4: 1920 × 2048 tokens per 60.1 s = 65,427 tokens/s; MFU with 6N (530e9) on 2240 × 312 TF = 29.7%.
    tokens_per_s = 1920 * 2048 / 60.1
    assert tokens_per_s == pytest.approx(65_427, abs=1)
    mfu = mfu_from_throughput(6 * 530e9, tokens_per_s, 2240, get_accelerator("A100").peak("bf16"))
    assert 100 * mfu == pytest.approx(29.7, abs=0.1)


def test_llama1_65b_mfu_h8():
    # H8: 380 tokens/s/GPU, 6 × 65.2e9 FLOPs/token, 312 TF → 47.6%.
    assert 100 * mfu_from_throughput(6 * 65.2e9, 380, 1, 312e12) == pytest.approx(47.6, abs=0.1)


def test_llama3_405b_compute_h7():
    # H7: Llama 3 405B 6ND = 405e9 × 15.6e12 → 3.79e25 vs the paper's 3.8e25 (rel 1%).
    assert train_plan(405e9, 15.6e12).flops == pytest.approx(3.8e25, rel=0.01)


# H2: Narayanan 2021 8·T·P/(n·X), T = 300e9 (full recompute: hardware FLOPs = 4/3 × 6·P·T, the
# 96/72 ratio of the "megatron_recompute" convention). (P, GPUs, achieved TF/s, recomputed d, paper d).
NARAYANAN = [
    (175e9, 384, 153, 82.7, 84), (175e9, 1536, 141, 22.4, 23), (530e9, 560, 171, 153.7, 156),
    (175e9, 384, 144, 87.9, 90), (530e9, 1120, 98, 134.1, 136),
]


@pytest.mark.parametrize(("params", "gpus", "tflops", "recomputed", "paper"), NARAYANAN)
def test_narayanan_time_h2(params, gpus, tflops, recomputed, paper):
    a100 = get_accelerator("A100")
    plan = train_plan(flops=8 * 300e9 * params, gpu=a100, gpus=gpus, mfu=tflops * 1e12 / a100.peak("bf16"))
    assert plan.wall_clock_days == pytest.approx(recomputed, abs=0.1)
    assert plan.wall_clock_days == pytest.approx(paper, rel=0.05)


def test_plan_dict_and_cost():
    plan = train_plan(7e9, 2e12, gpu="H100", gpus=64, price_per_gpu_hour=2.0)
    d = plan.as_dict()
    for key in ("params", "tokens", "flops", "pf_days", "gpu_hours", "wall_clock_days", "cost_usd", "mfu"):
        assert key in d
    assert plan.cost_usd == pytest.approx(plan.gpu_hours * 2.0)
    assert plan.wall_clock_days == pytest.approx(plan.gpu_hours / 64 / 24)
    default = train_plan(7e9, 2e12, gpu="H100")
    assert default.price_per_gpu_hour == get_accelerator("H100").price_per_hour
    assert "approximate default" in default.price_source
    no_price = train_plan(7e9, 2e12, gpu="TPUv4")
    assert no_price.cost_usd is None and "no default price" in no_price.price_source


def test_plan_with_shape_convention():
    shape = TransformerShape(n_layer=12, d_model=768, n_head=12)
    plan = train_plan(tokens=1e9, gpu="A100", shape=shape, convention="chinchilla")
    assert plan.params == shape.total_params
    assert plan.flops == pytest.approx(shape.flops_per_token("chinchilla") * 1e9)
    with pytest.raises(ScalingLabError, match="needs the model shape"):
        train_plan(1e9, 1e9, convention="palm")


def test_inverse_questions():
    # The inverse functions invert train_plan.
    flops = max_compute_for("H100", gpus=8, days=10)
    assert train_plan(flops=flops, gpu="H100", gpus=8).wall_clock_days == pytest.approx(10, rel=1e-12)
    assert max_compute_for("H100", gpu_days=80) == pytest.approx(flops, rel=1e-12)
    usd = max_compute_for("A100", usd=1e6, price_per_gpu_hour=2.0)
    assert train_plan(flops=usd, gpu="A100", price_per_gpu_hour=2.0).cost_usd == pytest.approx(1e6)
    tokens = max_tokens_for(7e9, gpu_days=1000, gpu="A100")
    assert 6 * 7e9 * tokens == pytest.approx(1000 * 86400 * 312e12 * 0.40, rel=1e-12)
    with pytest.raises(ScalingLabError, match="exactly one"):
        max_compute_for("H100", days=1, usd=5)
    with pytest.raises(ScalingLabError, match="no default price"):
        max_compute_for("TPUv4", usd=100)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gpus": 0}, "gpus"), ({"gpus": 1.5}, "gpus"), ({"mfu": 1.5}, "mfu"), ({"mfu": 0}, "mfu"),
        ({"gpu": "H1000"}, "unknown accelerator"), ({"gpu": "V100"}, "no bf16"),
        ({"params": -1}, "params"), ({"tokens": float("nan")}, "tokens"), ({"dtype": "fp12"}, "dtype"),
        ({"convention": "bogus"}, "unknown FLOP convention"),
    ],
)
def test_plan_bad_input(kwargs, message):
    args = {"params": 7e9, "tokens": 1e12, **kwargs}
    with pytest.raises(ScalingLabError, match=message):
        train_plan(**args)


# ----- memory -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("zero", "figure", "computed"), [(0, 120, 120.0), (1, 31.4, 31.41), (2, 16.6, 16.64), (3, 1.9, 1.875)])
def test_zero_figure1_m1(zero, figure, computed):
    # M1: ZeRO Fig. 1, Ψ = 7.5e9, K = 12, N_d = 64 (abs 0.1 GB vs the figure).
    states = model_state_bytes(7.5e9, zero=zero, dp=64)
    assert states.total / 1e9 == pytest.approx(figure, abs=0.1)
    assert states.total / 1e9 == pytest.approx(computed, abs=0.005)


@pytest.mark.parametrize(("params", "gb"), [(7e9, 112), (70e9, 1120), (175e9, 2800), (405e9, 6480)])
def test_sixteen_bytes_per_param_m2(params, gb):
    # M2: mixed-precision Adam at 16 B/param.
    assert model_state_bytes(params).total == pytest.approx(gb * 1e9, rel=1e-12)


@pytest.mark.parametrize(("a", "s", "h", "term", "saving"), [(96, 2048, 12288, 80, 70), (128, 2048, 20480, 64, 65)])
def test_korthikanti_selective_saving_m3_m4(a, s, h, term, saving):
    # M3: 5as/h = 80 (GPT-3), 64 (MT-NLG); M4: selective recompute saves 70% / 65% (abs 1 pp).
    assert 5 * a * s / h == term
    full = activation_bytes_per_layer(s, 1, h, a)
    selective = activation_bytes_per_layer(s, 1, h, a, recompute="selective")
    assert full == s * h * (34 + term)
    assert 100 * (1 - selective / full) == pytest.approx(saving, abs=1)


def test_activations_per_layer_m5():
    # M5: s·b·h·(34 + 5as/h) at b = 1: GPT-3 2.869 GB; Llama-2-7B (s 4096) 3.255 GB; selective 0.570 GB.
    assert activation_bytes_per_layer(2048, 1, 12288, 96) / 1e9 == pytest.approx(2.869, abs=1e-3)
    assert activation_bytes_per_layer(4096, 1, 4096, 32) / 1e9 == pytest.approx(3.255, abs=1e-3)
    selective = activation_bytes_per_layer(4096, 1, 4096, 32, recompute="selective")
    assert selective / 1e9 == pytest.approx(0.570, abs=1e-3)


def test_activation_parallel_forms():
    # Korthikanti Table 2 rows reduce to the no-parallelism row at t = 1, and full recompute is 2sbh.
    s, b, h, a = 2048, 2, 4096, 32
    base = activation_bytes_per_layer(s, b, h, a)
    assert activation_bytes_per_layer(s, b, h, a, tp=1, sequence_parallel=True) == base
    assert activation_bytes_per_layer(s, b, h, a, tp=8, sequence_parallel=True) == pytest.approx(base / 8)
    assert activation_bytes_per_layer(s, b, h, a, tp=8, recompute="selective") == s * b * h * (10 + 24 / 8)
    assert activation_bytes_per_layer(s, b, h, a, recompute="full") == 2 * s * b * h
    with pytest.raises(ScalingLabError, match="recompute"):
        activation_bytes_per_layer(s, b, h, a, recompute="some")


def test_training_memory():
    shape = TransformerShape(n_layer=32, d_model=4096, n_head=32, vocab=32000, ctx=4096)
    mem = training_memory(shape=shape, gpus=64, zero=3, recompute="selective", gpu="A100")
    assert mem.dp == 64 and mem.capacity == 80e9
    assert mem.states.total == pytest.approx(16 * shape.total_params / 64)
    assert mem.activations == pytest.approx(activation_bytes(shape, recompute="selective"))
    assert mem.total == mem.states.total + mem.activations and mem.fits is True
    assert training_memory(7e9).activations is None
    with pytest.raises(ScalingLabError, match="divisible"):
        training_memory(7e9, gpus=12, tp=8)
    with pytest.raises(ScalingLabError, match="ZeRO"):
        training_memory(7e9, zero=4)


KV = [
    # M6/M7: (layers, d_model, heads, kv heads, context, bytes/token, per-sequence bytes or GB)
    ("OPT-13B", 40, 5120, 40, 40, 2048, 819_200, 1_677_721_600),
    ("Llama-2-7B", 32, 4096, 32, 32, 4096, 524_288, 2.15e9),
    ("Llama-2-70B", 80, 8192, 64, 8, 4096, 327_680, 1.34e9),
    ("Llama-3-8B", 32, 4096, 32, 8, 8192, 131_072, 1.07e9),
    ("Llama-3-405B", 126, 16384, 128, 8, 131_072, 516_096, 67.6e9),
]


@pytest.mark.parametrize(("model", "layers", "d", "heads", "kv", "ctx", "per_token", "per_seq"), KV)
def test_kv_cache_m6_m7(model, layers, d, heads, kv, ctx, per_token, per_seq):
    shape = TransformerShape(n_layer=layers, d_model=d, n_head=heads, n_kv_head=kv, ctx=ctx)
    assert kv_cache_bytes_per_token(layers, kv, d // heads, "fp16") == per_token  # exact
    total = kv_cache_bytes(shape, dtype="fp16")
    if model == "OPT-13B":
        assert total == per_seq  # exact
    elif model == "Llama-3-405B":  # 67.65 GB printed to 3 significant figures: abs 0.01 GB cannot hold
        assert total == pytest.approx(per_seq, rel=1e-3)
    else:
        assert total == pytest.approx(per_seq, abs=0.01e9)


@pytest.mark.parametrize(("dtype", "gb"), [("bf16", 140), ("int8", 70), ("int4", 35)])
def test_inference_weights_m8(dtype, gb):
    # M8: 70B at 16, 8, 4 bits.
    assert inference_memory(70e9, weight_dtype=dtype).weights == gb * 1e9


# ----- inference ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bytes_", "gpu", "gpus", "ms", "tol"),
    [
        (6.738e9 * 2, "A100-80GB", 1, 6.61, {"abs": 0.05}),  # H11: Llama-2-7B bf16
        (6.738e9 * 2, "H100", 1, 4.02, {"rel": 0.01}),
        (68.977e9 * 2, "A100-80GB", 4, 16.9, {"rel": 0.01}),  # Llama-2-70B
        (68.977e9 * 2, "H100", 8, 5.15, {"rel": 0.01}),
        (405e9 * 1, "H200", 8, 10.6, {"rel": 0.01}),  # Llama-3-405B FP8
    ],
)
def test_decode_bound_h11(bytes_, gpu, gpus, ms, tol):
    assert 1e3 * decode_seconds_per_token(bytes_, gpu, gpus) == pytest.approx(ms, **tol)


def test_serving_cost_h12():
    # H12: 8 GPUs × $2.50/h at 2,000 tokens/s aggregate → $2.78 per 1M tokens.
    assert cost_per_million_tokens(2.50, 8, 2000) == pytest.approx(2.7778, abs=0.01)


@pytest.mark.parametrize(
    ("gpu", "crossover"),
    [("A100-80GB", 153), ("H100", 295), ("H200", 206), ("B200", 281), ("MI300X", 247), ("TPUv5p", 166), ("TPUv6e", 560)],
)
def test_crossover_batch(gpu, crossover):
    # docs/planner.md, inference cost [C]: compute equals weight loading (bf16) at B* ≈ peak /
    # bandwidth.
    assert decode_plan(7e9, gpu=gpu).crossover_batch == pytest.approx(crossover, abs=1)


def test_decode_plan_and_flops():
    plan = decode_plan(6.738e9, gpu="A100-80GB")
    assert 1e3 * plan.seconds_per_token == pytest.approx(6.61, abs=0.05)
    # max 151 tokens/s (docs/planner.md, inference cost)
    assert plan.tokens_per_s == pytest.approx(151, abs=1)
    big = decode_plan(6.738e9, gpu="A100-80GB", batch=1024)  # past B*, compute-bound
    assert big.seconds_per_token == big.compute_seconds_per_step
    shape = TransformerShape(n_layer=12, d_model=768, n_head=12)
    # KV-cached decode at position t: 2·N_matmul + 4·L·t·d_attn + 2·d·V (docs/planner.md,
    # inference cost).
    assert decode_flops_per_token(shape, 100) == 2 * 84_934_656 + 4 * 12 * 100 * 768 + 2 * 768 * 50257
    total = generation_flops(shape, 10, 3)
    steps = sum(decode_flops_per_token(shape, t) for t in (11, 12, 13))
    assert total == pytest.approx(prefill_flops(shape, 10) + steps)


# ----- seed compatibility -------------------------------------------------------------------------

SEED_USAGE = '''
calculator = ComputeBudgetCalculator()

# LLaMA 70B training plan
plan = calculator.plan_training(
    num_params=70e9,
    num_tokens=1.4e12,
    gpu_type='A100',
    num_gpus=2048
)

print(f"Total FLOPs: {plan['total_flops']:.2e}")
print(f"GPU hours: {plan['gpu_hours']:,.0f}")
print(f"Wall-clock time: {plan['wall_clock_days']:.1f} days")
print(f"Estimated cost: ${plan['total_cost']:,.0f}")
'''

SEED_NOTEBOOK = '''
n_params = [1e6, 1e8, 1e9, 1.75e11] # 1M to GPT-3
tokens = 300e9

for n in n_params:
    c_pf = ComputeEconomy.calculate_c_pfdays(n, tokens)
    print(f"N: {n:10.0e} | Compute: {c_pf:10.2e} PF-days")
'''


def test_seed_usage_runs_unchanged_with_correct_numbers():
    # the planning document: the usage block, verbatim but for the import.
    namespace = {}
    exec("from scalinglab import ComputeBudgetCalculator", namespace)
    with redirect_stdout(io.StringIO()) as out:
        exec(SEED_USAGE, namespace)
    plan = namespace["plan"]
    assert plan["total_flops"] == pytest.approx(5.88e23, rel=1e-12)
    # Dense A100 bf16 peak 312 TF at MFU 0.40, not 100%: 5.88e23 / (312e12 × 0.4) / 3600 h.
    assert plan["gpu_hours"] == pytest.approx(5.88e23 / (312e12 * 0.40) / 3600, rel=1e-12)
    assert plan["wall_clock_days"] == pytest.approx(plan["gpu_hours"] / 2048 / 24, rel=1e-12)
    # Cost counts the GPU-hours once (the seed multiplied by num_gpus again).
    price = get_accelerator("A100").price_per_hour
    assert plan["total_cost"] == pytest.approx(plan["gpu_hours"] * price, rel=1e-12)
    assert "Wall-clock time: 26.6 days" in out.getvalue()


def test_seed_calculator_methods():
    from scalinglab import ComputeBudgetCalculator

    calc = ComputeBudgetCalculator()
    assert calc.training_compute(70e9, 1.4e12) == 6 * 70e9 * 1.4e12
    assert calc.inference_compute(7e9, 1000) == 2 * 7e9 * 1000
    # H100 is 989.4 TF bf16 dense (the seed's "1000 TF FP8" was the bf16 figure, mislabelled).
    assert calc.gpu_hours(3.56184e18, "H100") == pytest.approx(1 / 0.40, rel=1e-12)
    assert calc.gpu_hours(1.1232e18, "A100", mfu=1.0) == pytest.approx(1.0, rel=1e-12)
    assert calc.gpu_hours(125e12 * 3600, "V100", mfu=1.0) == pytest.approx(1.0)  # fp16 on V100
    assert calc.cost_estimate(100, "H100", num_gpus=8) == pytest.approx(100 * get_accelerator("H100").price_per_hour)
    assert calc.cost_estimate(100, "V100", price_per_gpu_hour=2.5) == 250
    with pytest.raises(ScalingLabError, match="no default price"):
        calc.cost_estimate(100, "V100")


def test_seed_notebook_compute_economy():
    # the Physics of Scale notebook: ComputeEconomy.calculate_c_pfdays; GPT-3-sized 1.75e11 ×
    # 300e9 ≈ 3.65e3 PF-days.
    namespace = {}
    exec("from scalinglab import ComputeEconomy", namespace)
    with redirect_stdout(io.StringIO()):
        exec(SEED_NOTEBOOK, namespace)
    from scalinglab import ComputeEconomy

    assert ComputeEconomy.calculate_c_pfdays(1.75e11, 300e9) == pytest.approx(6 * 1.75e11 * 300e9 / 8.64e19)
    assert ComputeEconomy.calculate_c_pfdays(174.6e9, 300e9) == pytest.approx(3.64e3, rel=5e-3)
