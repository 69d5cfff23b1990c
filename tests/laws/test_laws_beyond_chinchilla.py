"""Laws beyond Chinchilla against the published vectors of TEST_VECTORS §D (L16–L30) and
docs/laws.md
§4, §6–§10. Each test names the vector it reproduces and the tolerance the source allows."""

import math

import numpy as np
import pytest

from scalinglab.core.architecture import deepseek_flops_per_token
from scalinglab.errors import ScalingLabError
from scalinglab.laws.chinchilla import ParametricLaw
from scalinglab.laws.data_constrained import (
    MUENNIGHOFF_2023,
    DataConstrainedLaw,
    data_constrained_optimum,
    epochs_needed,
)
from scalinglab.laws.downstream import (
    ErrorLawFit,
    SigmoidAccuracyFit,
    SigmoidAccuracyLaw,
    TwoStepPredictor,
    gadre_error_law,
    gadre_loss_law,
)
from scalinglab.laws.emergence import (
    emergence_report,
    exact_match_probability,
    expected_edit_distance,
    find_task,
    wei_table,
)
from scalinglab.laws.hyperparams import (
    deepseek_batch_tokens,
    deepseek_data,
    deepseek_hyperparameters,
    deepseek_learning_rate,
    deepseek_model_scale,
)
from scalinglab.laws.inference import (
    chinchilla_compute_for_params,
    inference_aware_for_loss,
    inference_aware_optimum,
)
from scalinglab.laws.moe import (
    KRAJEWSKI_2024_DENSE,
    KRAJEWSKI_2024_MOE,
    LUDZIEJEWSKI_2025,
    total_params,
)
from scalinglab.laws.precision import (
    effective_param_fraction,
    ptq_degradation_scaling,
    weight_memory_bytes,
)

# ----- Muennighoff et al. 2023 (L16-L19) -------------------------------------------------------


def test_muennighoff_constants_L16():
    # L16: LSE (a, b, e) = (6.255414, 7.3049974, 0.6254804) -> A 520.825, B 1487.716, E 1.86914,
    # G 0.22580 (rel 1e-5).
    m = MUENNIGHOFF_2023
    assert m.A == pytest.approx(520.825, rel=1e-5)
    assert m.B == pytest.approx(1487.716, rel=1e-5)
    assert m.E == pytest.approx(1.86914, rel=1e-5)
    assert m.G == pytest.approx(0.22580, rel=1e-4)
    assert m.rd_star == 15.387756 and m.rn_star == 5.309743


def test_muennighoff_readme_losses_L17():
    # L17: datablations README "Parametric Fit", printed to full precision (abs 1e-12).
    assert MUENNIGHOFF_2023.predict(6.34e9, 242e9, 25e9) == pytest.approx(2.2256440889984477, abs=1e-12)
    assert MUENNIGHOFF_2023.predict(8.67e9, 178e9, 25e9) == pytest.approx(2.2269634075087867, abs=1e-12)


def test_muennighoff_grid_optimum_L18():
    # L18: README grid search at C = 1e22, U = 25e9: D = 237,336,955,477 tokens (9.4935 epochs),
    # N = 7,022,364,735 (rel 1e-9).
    opt = data_constrained_optimum(None, 1e22, 25e9)
    assert opt["tokens"] == pytest.approx(237_336_955_477, rel=1e-9)
    assert opt["params"] == pytest.approx(7_022_364_735, rel=1e-9)
    assert opt["epochs"] == pytest.approx(9.4935, abs=1e-4)
    assert opt["unique_tokens"] == 25e9
    assert opt["flops"] == pytest.approx(1e22, rel=1e-12)
    # The constrained optimum is smaller and longer-trained than the unconstrained one.
    assert opt["params"] < opt["unconstrained"]["params"]
    assert opt["loss"] > opt["unconstrained"]["loss"]
    assert opt["effective_tokens"] < opt["tokens"]


def test_repeated_data_value_L19():
    # L19: D'/U at 2, 4, 8, 16, 40, 100 epochs; D'/D at 4 epochs 0.931; ceilings 16.39 and 6.31.
    m = MUENNIGHOFF_2023
    expected = {2: 1.968, 4: 3.726, 8: 6.624, 16: 10.58, 40: 15.17, 100: 16.36}
    for epochs, ratio in expected.items():
        tol = dict(rel=1e-3) if ratio > 10 else dict(abs=1e-3)
        assert m.effective_tokens(epochs * 1e9, 1e9) / 1e9 == pytest.approx(ratio, **tol)
    # The value of repeated data Muennighoff et al. 2023 give: 4 epochs ~93.1%, 16 ~66.1%, 40
    # ~37.9%.
    assert m.repeated_data_value(4) == pytest.approx(0.931, abs=1e-3)
    assert m.repeated_data_value(16) == pytest.approx(0.661, abs=1e-3)
    assert m.repeated_data_value(40) == pytest.approx(0.379, abs=1e-3)
    assert m.repeated_data_value(1) == 1.0
    assert 1 + m.rd_star == pytest.approx(16.39, abs=1e-2)
    assert 1 + m.rn_star == pytest.approx(6.31, abs=1e-2)
    # Excess parameters saturate at U_N·(1 + R_N*).
    u = 1e9
    n_opt = m.optimal_params_for_tokens(u)
    assert m.effective_params(1e6 * n_opt, u) / n_opt == pytest.approx(1 + m.rn_star, rel=1e-9)


def test_repetition_penalty_and_epochs():
    m = MUENNIGHOFF_2023
    assert m.loss_penalty(6.34e9, 242e9, 242e9) == 0.0
    assert m.loss_penalty(6.34e9, 242e9, 25e9) > 0
    assert epochs_needed(100e9, 25e9) == 4.0
    assert epochs_needed(10e9, 25e9) == 1.0
    with pytest.raises(ScalingLabError):
        m.repeated_data_value(0.5)
    with pytest.raises(ScalingLabError):
        data_constrained_optimum(None, -1e22, 25e9)
    with pytest.raises(ScalingLabError):
        data_constrained_optimum(None, 1e22, float("nan"))


def test_data_constrained_optimum_other_law_and_grid_widening():
    # A Chinchilla preset borrows Muennighoff's decay terms; labelled as an extrapolation.
    opt = data_constrained_optimum("epoch2024", 1e22, 25e9)
    assert "extrapolation" in opt["source"]
    assert isinstance(DataConstrainedLaw.from_parametric(ParametricLaw(1.7, 400, 400, 0.3, 0.3)),
                      DataConstrainedLaw)
    # With very little unique data the optimum sits far from the Chinchilla point; the search must
    # not stop at the README grid's edge (i = 3).
    tight = data_constrained_optimum(None, 1e22, 2e9)
    n0 = tight["unconstrained"]["params"]
    assert tight["params"] < n0 / 3 or tight["grid_span"] == 3.0
    edge_check = MUENNIGHOFF_2023.predict(tight["params"] * 0.97, tight["tokens"] / 0.97, 2e9)
    assert edge_check >= tight["loss"] - 1e-9


# ----- Mixture of experts (L20-L22) ------------------------------------------------------------


def test_krajewski_table1_L20():
    # L20: Krajewski 2024 Eq. 9 with Table 1: g/G^γ = 2.1, 0.6287, 0.1882 at G = 1, 8, 64;
    # L_MoE(1e9, 2e10, G=1) = 3.2761, G=8: 3.1404; L_dense(1e9, 2e10) = 2.9803 (abs 1e-4).
    k = KRAJEWSKI_2024_MOE
    assert (k.a, k.alpha, k.b, k.beta, k.g, k.gamma, k.c) == (18.1, 0.115, 30.8, 0.147, 2.1, 0.58, 0.47)
    d = KRAJEWSKI_2024_DENSE
    assert (d.a, d.alpha, d.b, d.beta, d.c) == (16.3, 0.126, 26.7, 0.127, 0.47)
    for g, term in ((1, 2.1), (8, 0.6287), (64, 0.1882)):
        assert k.granularity_term(g) == pytest.approx(term, abs=1e-4)
    assert k.predict(1e9, 2e10, 1) == pytest.approx(3.2761, abs=1e-4)
    assert k.predict(1e9, 2e10, 8) == pytest.approx(3.1404, abs=1e-4)
    assert d.predict(1e9, 2e10) == pytest.approx(2.9803, abs=1e-4)


def test_krajewski_table2_loose():
    # Not strict (TEST_VECTORS §F): Table 2's compute-optimal "64 x active" configs. With
    # total = (8E+4)/12 x active and F = 6·N_act·D the closed form lands within 6% on the active
    # size and 1.5% on the loss (7B: 6.62B).
    table2 = ((100e6, 8, 2.95e18, 3.133), (1e9, 16, 1.93e20, 2.491), (7e9, 32, 6.46e21, 2.076),
              (70e9, 32, 4.16e23, 1.694), (1e12, 64, 4.97e25, 1.367))
    for active, g, flops, loss in table2:
        opt = KRAJEWSKI_2024_MOE.optimum(flops, g, expansion=64)
        assert opt["active_params"] == pytest.approx(active, rel=0.06)
        assert opt["loss"] == pytest.approx(loss, rel=0.015)
        assert opt["total_params"] == pytest.approx(opt["active_params"] * (8 * 64 + 4) / 12)


def test_ludziejewski_table4_L21():
    # L21: Eq. 6 reduced at fixed E, Table 3 constants; μ, ν abs 2e-4; m, n rel 0.2% for E >= 4.
    mu = {1: -0.1817, 2: -0.1780, 4: -0.1731, 8: -0.1676, 16: -0.1617, 32: -0.1557}
    nu = {1: -0.1965, 2: -0.2065, 4: -0.2192, 8: -0.2338, 16: -0.2494, 32: -0.2652}
    m = {4: 24.85, 8: 21.83, 16: 19.02, 32: 16.54}
    n = {4: 87.70, 8: 119.9, 16: 167.5, 32: 234.7}
    for e in mu:
        k = LUDZIEJEWSKI_2025.reduced_constants(e)
        assert k["mu"] == pytest.approx(mu[e], abs=2e-4)
        assert k["nu"] == pytest.approx(nu[e], abs=2e-4)
        if e in m:
            assert k["m"] == pytest.approx(m[e], rel=2e-3)
            assert k["n"] == pytest.approx(n[e], rel=2e-3)
    # E = 1 is the dense model: Ê(1) = E_start.
    assert LUDZIEJEWSKI_2025.e_hat(1) == pytest.approx(2.0732, rel=1e-12)


def test_ludziejewski_compute_optimum_L22():
    # L22: Eq. 7 with |μ|, |ν|; computed (N, D) at F = 1e20, 1e21, 1e22 (rel 1%), paper Table 1
    # within 3%.
    computed = {1: ((1.73e9, 9.65e9), (5.71e9, 29.2e9), (18.9e9, 88.3e9)),
                32: ((674e6, 24.7e9), (2.88e9, 57.9e9), (12.3e9, 136e9))}
    paper = {1: ((1.7e9, 9.7e9), (5.7e9, 29.3e9), (18.8e9, 88.6e9)),
             32: ((669e6, 24.9e9), (2.85e9, 58.4e9), (12.2e9, 136.9e9))}
    for e in (1, 32):
        for f, (nc, dc), (npap, dpap) in zip((1e20, 1e21, 1e22), computed[e], paper[e], strict=True):
            opt = LUDZIEJEWSKI_2025.optimum(f, e)
            assert opt["active_params"] == pytest.approx(nc, rel=0.01)
            assert opt["tokens"] == pytest.approx(dc, rel=0.01)
            assert opt["active_params"] == pytest.approx(npap, rel=0.03)
            assert opt["tokens"] == pytest.approx(dpap, rel=0.03)
            assert 6 * opt["active_params"] * opt["tokens"] == pytest.approx(f, rel=1e-9)
    # More experts: fewer active parameters, more tokens, lower loss, more memory.
    dense, moe = LUDZIEJEWSKI_2025.optimum(1e22, 1), LUDZIEJEWSKI_2025.optimum(1e22, 32)
    assert moe["loss"] < dense["loss"] and moe["total_params"] > dense["total_params"]


def test_moe_bad_input():
    with pytest.raises(ScalingLabError):
        total_params(1e9, 0.5)
    with pytest.raises(ScalingLabError):
        LUDZIEJEWSKI_2025.predict(-1e9, 1e10, 8)
    with pytest.raises(ScalingLabError):
        KRAJEWSKI_2024_MOE.predict(1e9, 1e10, 0)


# ----- DeepSeek LLM (L23-L25) ------------------------------------------------------------------


@pytest.mark.parametrize("compute, lr, batch, scale, tokens", [
    (1e20, 9.86e-4, 1.017e6, 5.251e9, 1.905e10),
    (1e22, 5.545e-4, 4.588e6, 5.873e10, 1.703e11),
    (1e24, 3.118e-4, 2.069e7, 6.568e11, 1.523e12),
])
def test_deepseek_laws_L23(compute, lr, batch, scale, tokens):
    # L23: DeepSeek LLM §3.1-3.2 (rel 1e-3).
    assert deepseek_learning_rate(compute) == pytest.approx(lr, rel=1e-3)
    assert deepseek_batch_tokens(compute) == pytest.approx(batch, rel=1e-3)
    assert deepseek_model_scale(compute) == pytest.approx(scale, rel=1e-3)
    assert deepseek_data(compute) == pytest.approx(tokens, rel=1e-3)
    # L24: M_opt·D_opt/C = 1.0001 at any C (abs 1e-4).
    assert deepseek_model_scale(compute) * deepseek_data(compute) / compute == pytest.approx(1.0001, abs=1e-4)


def test_deepseek_7b_67b_L25():
    # L25: M(30, 4096, 4096) = 42,278,584,320; at 2T tokens C = 8.456e22, η 4.25e-4, B 9.22e6
    # (2,252 x 4096); M(95, 8192, 4096) = 497,276,682,240; C 9.946e23, η 3.12e-4, B 2.065e7.
    m7 = deepseek_flops_per_token(30, 4096, 4096)
    assert m7 == 42_278_584_320
    c7 = m7 * 2e12
    hp = deepseek_hyperparameters(c7, seq_len=4096)
    assert c7 == pytest.approx(8.456e22, rel=1e-3)
    assert hp["learning_rate"] == pytest.approx(4.25e-4, rel=1e-3)
    assert hp["batch_tokens"] == pytest.approx(9.22e6, rel=1e-3)
    assert round(hp["batch_sequences"]) == 2252
    m67 = deepseek_flops_per_token(95, 8192, 4096)
    assert m67 == 497_276_682_240
    c67 = m67 * 2e12
    assert c67 == pytest.approx(9.946e23, rel=1e-3)
    assert deepseek_learning_rate(c67) == pytest.approx(3.12e-4, rel=1e-3)
    assert deepseek_batch_tokens(c67) == pytest.approx(2.065e7, rel=1e-3)
    with pytest.raises(ScalingLabError):
        deepseek_learning_rate(0)


# ----- Emergence and downstream (L26-L29) ------------------------------------------------------


def test_wei_table_shape_L26():
    # L26: 23 rows; 10 few-shot + 13 augmented; 22 with numeric FLOPs (the BIG-Bench row is "many").
    rows = wei_table()
    assert len(rows) == 23
    assert [r.row for r in rows] == list(range(1, 24))
    assert sum(r.group == "few-shot" for r in rows) == 10
    assert sum(r.group == "augmented" for r in rows) == 13
    assert sum(r.flops is not None for r in rows) == 22
    assert rows[9].model == "many" and rows[9].flops is None and rows[9].params is None


# Every row of Wei et al. 2022 Table 1 (Wei et al. 2022 Table 1) [P]: (row, FLOPs, params, model).
WEI_ROWS = [
    (1, 2.3e22, 13e9, "GPT-3"), (2, 3.1e23, 175e9, "GPT-3"), (3, 3.1e23, 175e9, "GPT-3"),
    (4, 1.3e22, 7.1e9, "Gopher"), (5, 5.0e23, 280e9, "Gopher"), (6, 5.0e23, 280e9, "Gopher"),
    (7, 3.1e23, 175e9, "GPT-3"), (8, 5.0e23, 70e9, "Chinchilla"), (9, 2.5e24, 540e9, "PaLM"),
    (11, 1.3e23, 68e9, "FLAN"), (12, 8.9e19, 40e6, "LaMDA"), (13, 1.3e22, 7.1e9, "Gopher"),
    (14, 1.3e23, 68e9, "LaMDA"), (15, 2.9e23, 62e9, "PaLM"), (16, 3.3e22, 11e9, "T5"),
    (17, 1.3e23, 68e9, "LaMDA"), (18, 5.0e23, 280e9, "Gopher"), (19, 3.1e23, 175e9, "GPT-3"),
    (20, 3.1e23, 175e9, "GPT-3"), (21, 2.6e23, 52e9, "Anthropic"), (22, 2.9e23, 62e9, "PaLM"),
    (23, 1.4e22, 6e9, "EleutherAI"),
]


@pytest.mark.parametrize("row, flops, params, model", WEI_ROWS)
def test_wei_rows_L27(row, flops, params, model):
    # L27 and every other row: exact.
    r = wei_table()[row - 1]
    assert (r.row, r.flops, r.params, r.model) == (row, flops, params, model)


def test_wei_gotchas():
    # docs/laws.md, known inconsistencies: MMLU 57-topic is GPT-3 175B at 3.1e23, not Gopher;
    # multilingual CoT 2.9e23 PaLM 62B.
    mmlu57 = find_task("MMLU (57-topic avg.)")
    assert len(mmlu57) == 1 and mmlu57[0].model == "GPT-3" and mmlu57[0].flops == 3.1e23
    ml = find_task("multilingual")
    assert len(ml) == 1 and (ml[0].flops, ml[0].params, ml[0].model) == (2.9e23, 62e9, "PaLM")
    assert len(find_task("mmlu")) == 3
    with pytest.raises(ScalingLabError, match="unknown task"):
        find_task("telepathy")


def test_emergence_report_by_flops_and_params():
    # At 1e23 FLOPs the six rows at or below 3.3e22 have emerged; the nearest above are the three
    # 1.3e23 rows (Wei Table 1).
    rep = emergence_report(flops=1e23)
    assert sorted(r["row"] for r in rep["emerged"]) == [1, 4, 12, 13, 16, 23]
    assert [r["flops"] for r in rep["next"]] == [1.3e23] * 3
    assert rep["next"][0]["factor_to_go"] == pytest.approx(1.3)
    assert len(rep["emerged"]) + len(rep["not_yet"]) == 22
    assert rep["unquantified"][0]["row"] == 10
    assert "Schaeffer" in rep["caveat"]
    # By parameters: Chinchilla's 70B MMLU-30 row is in at 70B, Gopher's 280B rows are not.
    by_n = {r["row"] for r in emergence_report(params=70e9)["emerged"]}
    assert 8 in by_n and 5 not in by_n and 12 in by_n
    # A threshold is inclusive.
    assert 12 in {r["row"] for r in emergence_report(flops=8.9e19)["emerged"]}
    for bad in (dict(), dict(params=1e9, flops=1e22), dict(params=-1.0), dict(flops=float("nan"))):
        with pytest.raises(ScalingLabError):
            emergence_report(**bad)


def test_schaeffer_metrics_L28():
    # L28: exact match p^ℓ and edit distance ℓ(1 − p), p = e^−CE (abs 1e-4; 1e-3 for 1.967).
    assert exact_match_probability(0.1, 5) == pytest.approx(0.6065, abs=1e-4)
    assert expected_edit_distance(0.1, 5) == pytest.approx(0.4758, abs=1e-4)
    assert exact_match_probability(0.5, 5) == pytest.approx(0.0821, abs=1e-4)
    assert expected_edit_distance(0.5, 5) == pytest.approx(1.967, abs=1e-3)
    assert exact_match_probability(0.1, 10) == pytest.approx(0.3679, abs=1e-4)
    with pytest.raises(ScalingLabError):
        exact_match_probability(-0.1, 5)


def test_gadre_rpj_L29():
    # L29: repository form with RPJ constants; Err17 = 0.8570 − 2.206·exp(−0.7146·L) (abs 1e-4).
    law = gadre_loss_law("rpj")
    assert law.predict(1.4e9, 20) == pytest.approx(2.7728, abs=1e-4)
    assert law.predict(1.4e9, 640) == pytest.approx(2.5250, abs=1e-4)
    assert law.predict(6.9e9, 20) == pytest.approx(2.4424, abs=1e-4)
    assert law.predict_tokens(1.4e9, 28e9) == pytest.approx(2.7728, abs=1e-4)
    err = gadre_error_law("rpj", 17)
    for loss, e in ((2.5, 0.4874), (3.0, 0.5984), (3.5, 0.6761)):
        assert err.predict(loss) == pytest.approx(e, abs=1e-4)
        assert err.accuracy(loss) == pytest.approx(1 - e, abs=1e-4)
    # Gadre et al. 2024, fit_ds [C], 46-task C4 row.
    c4 = gadre_error_law("C4", 46)
    assert (c4.k, c4.gamma, c4.epsilon) == (1.289, 0.9722, 0.7589)
    with pytest.raises(ScalingLabError):
        gadre_error_law("rpj", 20)
    with pytest.raises(ScalingLabError):
        gadre_loss_law("pile")


def test_error_law_fitter_recovers_gadre_constants():
    # The fitter, fed points on Gadre's RefinedWeb 17-task law, returns its constants (Gadre et
    # al. 2024).
    truth = gadre_error_law("refinedweb", 17)
    loss = np.linspace(2.3, 4.2, 15)
    fit = ErrorLawFit().fit(loss, truth.predict(loss))
    assert fit.epsilon_ == pytest.approx(0.8653, rel=1e-4)
    assert fit.k_ == pytest.approx(2.215, rel=1e-4)
    assert fit.gamma_ == pytest.approx(0.7070, rel=1e-4)
    assert fit.predict(3.0) == pytest.approx(truth.predict(3.0), abs=1e-6)


def test_sigmoid_fitter_two_step():
    # OLMo ladder step 2 form (Bhagia et al. 2024): recover a known sigmoid from noisy points,
    # then chain
    # with a step-1 Chinchilla-form task-loss law.
    truth = SigmoidAccuracyLaw(a=-0.72, L0=1.05, k=5.0, b=0.97)
    rng = np.random.default_rng(0)
    loss = np.linspace(0.5, 1.8, 25)
    acc = truth.predict(loss) + rng.normal(0, 0.003, loss.size)
    fit = SigmoidAccuracyFit(baseline=0.25).fit(loss, acc)
    assert fit.L0_ == pytest.approx(1.05, abs=0.02)
    assert fit.k_ == pytest.approx(5.0, rel=0.1)
    assert fit.rmse_ < 0.005
    assert fit.predict(1.2) == pytest.approx(truth.predict(1.2), abs=0.01)
    step1 = ParametricLaw(E=0.4, A=200.0, B=300.0, alpha=0.3, beta=0.3)
    two = TwoStepPredictor(step1, fit.law_)
    assert two.predict(1e9, 2e10) == pytest.approx(fit.predict(step1.predict(1e9, 2e10)))
    with pytest.raises(ScalingLabError):
        SigmoidAccuracyFit().fit([1.0, 2.0], [0.5, 0.4])
    with pytest.raises(ScalingLabError):
        SigmoidAccuracyFit().fit([1, 2, 3, 4], [0.5, 0.4, 1.5, 0.2])
    with pytest.raises(ScalingLabError):
        SigmoidAccuracyFit().predict(1.0)


# ----- Inference-aware (L30) -------------------------------------------------------------------

# L30's constants: E 1.6934, A 406.4, B 410.7, α 0.3392, β 0.2849 (Sardana's Chinchilla set).
SARDANA_LAW = ParametricLaw(E=1.6934, A=406.4, B=410.7, alpha=0.3392, beta=0.2849, name="L30")


def test_sardana_13b_L30():
    # L30: a planned 13B model at its closed-form optimal D (619B; ℓ 2.0237; cost with 2T inference
    # tokens 1.003e23) -> N 7.13B, D 1.30T, saving 1.63e22 (16.3%) (rel 1%).
    c = chinchilla_compute_for_params(SARDANA_LAW, 13e9)
    assert c / (6 * 13e9) == pytest.approx(619e9, rel=1e-2)
    r = inference_aware_optimum(SARDANA_LAW, c, 2e12)
    assert r["chinchilla"]["params"] == pytest.approx(13e9, rel=1e-9)
    assert r["target_loss"] == pytest.approx(2.0237, rel=1e-4)
    assert r["chinchilla"]["total_flops"] == pytest.approx(1.003e23, rel=1e-2)
    assert r["params"] == pytest.approx(7.13e9, rel=1e-2)
    assert r["tokens"] == pytest.approx(1.30e12, rel=1e-2)
    assert r["saving_flops"] == pytest.approx(1.63e22, rel=1e-2)
    assert r["saving_fraction"] == pytest.approx(0.163, rel=1e-2)
    assert r["loss"] == pytest.approx(r["target_loss"], abs=1e-10)
    assert r["total_flops"] == pytest.approx(r["training_flops"] + r["inference_flops"])
    assert r["inference_flops"] == pytest.approx(2 * r["params"] * 2e12)


def test_sardana_invariance_L30():
    # L30 invariance: with D_inf = 0 the solver returns the Chinchilla optimum (rel 1e-6).
    for law in (SARDANA_LAW, "hoffmann2022", "epoch2024"):
        r = inference_aware_optimum(law, 1e23, 0)
        assert r["params"] == pytest.approx(r["chinchilla"]["params"], rel=1e-6)
        assert r["tokens"] == pytest.approx(r["chinchilla"]["tokens"], rel=1e-6)
        assert abs(r["saving_flops"]) <= 1e-6 * r["chinchilla"]["total_flops"]


def test_sardana_other_constant_sets():
    # Sardana et al. 2024 [C]: rounded Hoffmann -> N 8.02B, saving 10.1%; Epoch MLE -> 6.09B, 29%.
    for law, n, save in (("hoffmann2022", 8.02e9, 0.101), ("epoch2024", 6.09e9, 0.29)):
        r = inference_aware_optimum(law, chinchilla_compute_for_params(law, 13e9), 2e12)
        assert r["params"] == pytest.approx(n, rel=1e-2)
        assert r["saving_fraction"] == pytest.approx(save, abs=0.005)
    # More inference -> smaller model, more tokens per parameter.
    a = inference_aware_optimum("hoffmann2022", 1e23, 1e12)
    b = inference_aware_optimum("hoffmann2022", 1e23, 1e14)
    assert b["params"] < a["params"] and b["tokens_per_param"] > a["tokens_per_param"]


def test_inference_bad_input():
    with pytest.raises(ScalingLabError, match="inference_tokens"):
        inference_aware_optimum("hoffmann2022", 1e23, -1)
    with pytest.raises(ScalingLabError):
        inference_aware_optimum("hoffmann2022", -1e23, 1e12)
    with pytest.raises(ScalingLabError):
        inference_aware_optimum("kaplan2020", 1e23, 1e12)
    with pytest.raises(ScalingLabError):
        inference_aware_for_loss("hoffmann2022", 1.5, 1e12)  # below E = 1.69


# ----- Precision (Kumar et al. 2024) ----------------------------------------------------------


def test_weight_memory_M8():
    # M8 / docs/laws.md, precision: 70B at 16, 8, 4 bits -> 140, 70, 35 GB (exact); 4-bit with
    # 16-bit scales per
    # 64 weights -> 37.19 GB (convention [R]).
    assert weight_memory_bytes(70e9, 16) == 140e9
    assert weight_memory_bytes(70e9, 8) == 70e9
    assert weight_memory_bytes(70e9, 4) == 35e9
    assert weight_memory_bytes(70e9, 4, block_size=64) / 1e9 == pytest.approx(37.19, abs=0.005)
    with pytest.raises(ScalingLabError):
        weight_memory_bytes(70e9, 0)


def test_kumar_precision_vectors():
    # Kumar et al. 2024 [C] on [S] constants (TEST_VECTORS §F: not strict); recomputed digits abs
    # 1e-4.
    for bits, frac in ((3, 0.6743), (4, 0.7759), (8, 0.9498), (16, 0.9975)):
        assert effective_param_fraction(weight_bits=bits) == pytest.approx(frac, abs=1e-4)
    assert ptq_degradation_scaling(token_factor=2) == pytest.approx(1.4209, abs=1e-4)
    assert ptq_degradation_scaling(param_factor=2) == pytest.approx(0.7879, abs=1e-4)
    assert math.isclose(effective_param_fraction(weight_bits=8, kv_bits=8),
                        effective_param_fraction(weight_bits=8) * (1 - math.exp(-8 / 0.96)))


def test_data_constrained_optimum_unconstrained_is_chinchilla():
    # With more unique tokens than the Chinchilla optimum uses, nothing repeats and the answer is
    # the law's own closed-form optimum (Hoffmann Eq. 4 with Muennighoff's constants): one epoch.
    opt = data_constrained_optimum(None, 1e22, 1e13)
    assert opt["params"] == opt["unconstrained"]["params"]
    assert opt["tokens"] == opt["unconstrained"]["tokens"]
    assert opt["epochs"] == 1.0
    assert opt["loss"] == pytest.approx(MUENNIGHOFF_2023.parametric.optimum(1e22).loss, abs=1e-12)
