"""``scalinglab predict / optimal / laws / demo`` against published numbers (TEST_VECTORS §D).

Every ``--json`` call must print exactly one JSON object; every user mistake exits 2 with one
line on stderr and nothing on stdout.
"""

import pytest

from clihelp import run, run_json


def test_predict_chinchilla_L9(capsys):
    # L9: Hoffmann rounded L(70e9, 1.4e12) = 1.9366 (abs 1e-4); U10: 6ND = 5.88e23 exactly.
    payload = run_json(capsys, "predict", "--params", "70B", "--tokens", "1.4T", "--law", "hoffmann2022")
    assert payload["loss"] == pytest.approx(1.9366, abs=1e-4)
    assert payload["flops"] == pytest.approx(5.88e23, rel=1e-12)
    assert payload["params"] == 70e9 and payload["tokens"] == 1.4e12
    assert payload["law"] == "hoffmann2022" and "Eq. 10" in payload["source"]
    assert payload["tokens_per_param"] == pytest.approx(20.0)


def test_predict_other_laws_L11_L3(capsys):
    # L11: unrounded L(280e9, 300e9) = 1.9672; L3: Kaplan Table 2 joint L(1e9, 2e10) = 2.37388.
    payload = run_json(capsys, "predict", "--params", "280e9", "--tokens", "300_000_000_000",
                       "--law", "Hoffmann2022-Unrounded")
    assert payload["loss"] == pytest.approx(1.9672, abs=1e-4)
    payload = run_json(capsys, "predict", "--params", "1B", "--tokens", "20B", "--law", "kaplan2020")
    assert payload["loss"] == pytest.approx(2.37388, abs=1e-5)
    assert payload["params_convention"] == "non-embedding"


def test_predict_renders_for_humans(capsys):
    code, out, err = run(capsys, "predict", "--params", "70B", "--tokens", "1.4T", "--law", "hoffmann2022")
    assert code == 0 and err == ""
    assert "1.9366" in out


def test_optimal_hoffmann_L8(capsys):
    # L8: rounded constants at C = 1e24 -> N_opt 4.130e10, D_opt 4.036e12 (rel 1e-3).
    payload = run_json(capsys, "optimal", "--compute", "1e24", "--law", "hoffmann2022")
    assert payload["params"] == pytest.approx(4.130e10, rel=1e-3)
    assert payload["tokens"] == pytest.approx(4.036e12, rel=1e-3)
    assert payload["flops"] == 1e24
    assert payload["a"] == pytest.approx(0.45161, abs=1e-5)
    rows = {row["key"]: row for row in payload["configurations"]}
    assert set(rows) == {"kaplan_style", "compute_optimal", "overtrained_5x", "overtrained_10x"}
    # Kaplan-style: GPT-3's 300B tokens (Brown et al. 2020), so N = C/(6·300e9).
    assert rows["kaplan_style"]["tokens"] == 300e9
    assert rows["kaplan_style"]["params"] == pytest.approx(1e24 / 1.8e12, rel=1e-12)
    assert rows["compute_optimal"]["params"] == payload["params"]
    # Over-training multiplies the optimum's tokens per parameter at the same compute.
    opt_ratio = payload["tokens_per_param"]
    for key, m in (("overtrained_5x", 5), ("overtrained_10x", 10)):
        assert rows[key]["tokens_per_param"] == pytest.approx(m * opt_ratio, rel=1e-12)
        assert 6 * rows[key]["params"] * rows[key]["tokens"] == pytest.approx(1e24, rel=1e-12)
    # The optimum of a Chinchilla-form law has the lowest loss of all rows.
    assert all(row["loss_vs_optimum"] >= 0 for row in rows.values())
    assert rows["compute_optimal"]["loss_vs_optimum"] == 0


def test_optimal_unrounded_gives_40b_at_gopher_budget_L10(capsys):
    # L10: the paper's "40B" for 5.76e23 FLOPs (Fig. 4 caption) needs the unrounded constants.
    payload = run_json(capsys, "optimal", "--compute", "5.76e23", "--law", "HOFFMANN2022-unrounded")
    assert payload["params"] == pytest.approx(4.036e10, rel=1e-3)
    assert payload["tokens_per_param"] == pytest.approx(58.93, abs=0.01)
    assert payload["loss"] == pytest.approx(1.9184, abs=1e-4)


def test_optimal_epoch_L13(capsys):
    # L13: Epoch MLE at 5.88e23 -> N 7.313e10, D/N 18.33 (about 20 tokens/param).
    payload = run_json(capsys, "optimal", "--compute", "5.88e23", "--law", "epoch2024")
    assert payload["params"] == pytest.approx(7.313e10, rel=1e-3)
    assert payload["tokens_per_param"] == pytest.approx(18.33, abs=0.01)


def test_optimal_kaplan(capsys):
    # Hoffmann et al. 2022 §3.4: Kaplan's rule gives 4.68B parameters at 1e21 FLOPs.
    payload = run_json(capsys, "optimal", "--compute", "1e21", "--law", "kaplan")
    assert payload["params"] == pytest.approx(4.68e9, abs=0.005e9)
    assert payload["law"] == "kaplan2020"


def test_optimal_renders_table(capsys):
    code, out, err = run(capsys, "optimal", "--compute", "1e24", "--law", "hoffmann2022")
    assert code == 0 and err == ""
    assert "41.3B" in out and "Kaplan-style" in out and "Over-trained" in out


def test_laws_lists_registry(capsys):
    payload = run_json(capsys, "laws")
    names = {row["name"]: row for row in payload["laws"]}
    for name in ("hoffmann2022", "hoffmann2022-unrounded", "epoch2024", "epoch2024-rounded",
                 "kaplan2020"):
        assert names[name]["source"]
    assert names["hoffmann2022"]["A"] == 406.4  # Hoffmann Eq. 10
    assert names["kaplan2020"]["alpha_D"] == 0.103  # Kaplan Table 2
    code, out, _ = run(capsys, "laws")
    assert code == 0 and "epoch2024" in out


@pytest.mark.parametrize("argv, needle", [
    (("predict", "--params", "abc", "--tokens", "1T"), "--params"),
    (("predict", "--params", "1B", "--tokens", "-5"), "--tokens"),
    (("predict", "--params", "1B", "--tokens", "1T", "--law", "nope"), "nope"),
    (("optimal", "--compute", "0"), "--compute"),
    (("optimal", "--compute", "nan"), "--compute"),
    (("optimal",), "compute"),
    (("optimal", "--compute", "1e24", "--law", "chinchila"), "hoffmann2022"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error:")
    assert needle in err


def test_worked_plan_for_the_demo():
    # The demo ends with this worked plan (the compute-optimal model for 1e24 FLOPs under each
    # law, priced on 2,048 H100s); the sweep part of the demo is tested in test_sweep_*.
    from scalinglab.plan.worked import worked_plan

    payload = worked_plan()
    models = {model["law"]: model for model in payload["models"]}
    # L8 and L13 at 1e24: Hoffmann rounded N 4.130e10; Epoch MLE N 9.601e10, D/N 18.08.
    assert models["hoffmann2022"]["params"] == pytest.approx(4.130e10, rel=1e-3)
    assert models["epoch2024"]["params"] == pytest.approx(9.601e10, rel=1e-3)
    assert models["epoch2024"]["tokens_per_param"] == pytest.approx(18.08, abs=0.01)
    # U2: one H100-SXM GPU-hour at the dense BF16 peak is 3.56184e18 FLOPs; at MFU 0.4 on 2048 GPUs.
    hours = 1e24 / (0.4 * 3.56184e18)
    for model in models.values():
        assert model["gpu_hours"] == pytest.approx(hours, rel=1e-9)
        assert model["wall_clock_days"] == pytest.approx(hours / 2048 / 24, rel=1e-9)


def test_laws_and_their_commands_import_nothing_heavy():
    # Layering rule: laws/plan/cli import no torch, ray, matplotlib, pandas or scipy.optimize at
    # import time (scipy.optimize is loaded only inside numeric_optimum).
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import scalinglab.laws.registry, scalinglab.plan.configurations, scalinglab.plan.worked\n"
        "import scalinglab.compat.predictor, scalinglab.cli.laws_cmds, scalinglab.cli.demo\n"
        "heavy = ('torch', 'ray', 'matplotlib', 'pandas', 'scipy.optimize')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_worked_plan_other_budget_and_hardware():
    from scalinglab.plan.worked import worked_plan

    plan = worked_plan(compute=5.76e23, gpu="A100", gpus=1024, mfu=0.5)
    models = {model["law"]: model for model in plan["models"]}
    # L10: unrounded Hoffmann at the Gopher budget -> N 4.036e10 ("40B", Fig. 4 caption).
    assert models["hoffmann2022-unrounded"]["params"] == pytest.approx(4.036e10, rel=1e-3)
    # L8: rounded -> 3.219e10 and loss 1.9307 under its own law.
    assert models["hoffmann2022"]["params"] == pytest.approx(3.219e10, rel=1e-3)
    assert models["hoffmann2022"]["loss_by_law"]["hoffmann2022"] == pytest.approx(1.9307, abs=1e-4)
    # U2: an A100 GPU-hour at the dense BF16 peak (312 TF) is 1.1232e18 FLOPs.
    assert models["epoch2024"]["gpu_hours"] == pytest.approx(5.76e23 / (0.5 * 1.1232e18), rel=1e-9)
    for model in models.values():
        assert model["loss_by_law"][model["law"]] == model["loss"]


@pytest.mark.parametrize("kwargs, needle", [({"gpus": 0}, "gpus"), ({"compute": -1.0}, "compute"),
                                            ({"mfu": 1.5}, "mfu"), ({"laws": ("nope",)}, "nope")])
def test_worked_plan_bad_input(kwargs, needle):
    from scalinglab.errors import ScalingLabError
    from scalinglab.plan.worked import worked_plan

    with pytest.raises(ScalingLabError, match=needle):
        worked_plan(**kwargs)


def test_compare_configurations_direct():
    from scalinglab.errors import ScalingLabError
    from scalinglab.laws.registry import EPOCH_2024
    from scalinglab.plan.configurations import compare_configurations

    # L13: Epoch MLE at 1e24: optimum 18.08 tokens/param; 2x over-training doubles it.
    rows = compare_configurations(EPOCH_2024, 1e24, kaplan_tokens=100e9, overtrain_factors=(2.0,))
    assert [row.key for row in rows] == ["kaplan_style", "compute_optimal", "overtrained_2x"]
    assert rows[1].tokens_per_param == pytest.approx(18.08, abs=0.01)
    assert rows[2].tokens_per_param == pytest.approx(2 * rows[1].tokens_per_param, rel=1e-12)
    assert rows[0].params == pytest.approx(1e24 / 6e11, rel=1e-12)
    for bad in ({"compute": "lots"}, {"compute": 0.0}, {"compute": 1e24, "overtrain_factors": (0.5,)},
                {"compute": 1e24, "kaplan_tokens": -1.0}):
        with pytest.raises(ScalingLabError):
            compare_configurations(EPOCH_2024, **bad)


@pytest.mark.parametrize("argv", [
    ("predict", "--params", "1e-300", "--tokens", "1e-300", "--law", "kaplan2020"),
    ("optimal", "--compute", "1e300", "--law", "kaplan2020"),
])
def test_out_of_range_inputs_are_one_line_errors_not_nan(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "range" in err


def test_optimal_inference_tokens_zero_is_chinchilla(capsys):
    # Sardana et al. 2024: with no inference demand the inference-aware optimum is the
    # Chinchilla optimum (same loss, same N) — Sardana et al. 2024.
    payload = run_json(capsys, "optimal", "--compute", "1e22", "--law", "hoffmann2022",
                       "--inference-tokens", "0")
    inf = payload["inference_aware"]
    assert inf["params"] == pytest.approx(payload["params"], rel=1e-5)
    assert inf["loss"] == pytest.approx(payload["loss"], rel=1e-9)
    assert "epochs" not in payload


def test_optimal_unique_tokens_reports_epochs(capsys):
    # 25B unique tokens at C = 1e22 cannot reach the unconstrained optimum's ~184B tokens without
    # repeating (Muennighoff et al. 2023 README example budget): epochs = tokens / unique > 1.
    payload = run_json(capsys, "optimal", "--compute", "1e22", "--unique-tokens", "25B")
    dc = payload["data_constrained"]
    assert payload["epochs"] == pytest.approx(dc["tokens"] / 25e9, rel=1e-9)
    assert payload["epochs"] > 1
    assert dc["loss"] > dc["unconstrained"]["loss"]


@pytest.mark.parametrize("flag,value", [("--inference-tokens", "-1T"), ("--unique-tokens", "0"),
                                        ("--unique-tokens", "1e18")])
def test_optimal_extras_bad_input(capfd, flag, value):
    from scalinglab.cli import main

    assert main(["optimal", "--compute", "1e22", flag, value, "--json"]) == 2
    err = capfd.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
