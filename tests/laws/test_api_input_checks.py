"""Regression tests for a user-level review of the Python API: a read-only hardware catalog, array
inputs to the fitted-range notes, validated law constants and number inputs, checked façade inputs,
an honest ``fits``, contradicting plan inputs, Python-worded errors, ``get_law(law)``, warnings
instead of prints, and GB conveniences on the memory results."""

import copy
import math
import pickle
import warnings

import numpy as np
import pytest

from clihelp import run
from scalinglab.core.hardware import Accelerator, get_accelerator, load_catalog
from scalinglab.errors import ScalingLabError
from scalinglab.laws.chinchilla import ParametricLaw
from scalinglab.laws.kaplan import KaplanLaw
from scalinglab.laws.ranges import CHINCHILLA_RUNS
from scalinglab.laws.registry import get_law
from scalinglab.plan.budget import train_plan, training_flops
from scalinglab.plan.memory import inference_memory, model_state_bytes, training_memory

CHIN = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)


# ----- 1. the catalog cannot be edited through an Accelerator --------------------------------------
def test_accelerator_figures_are_read_only_and_the_catalog_survives():
    before = train_plan(7e9, 1e12).gpu_hours
    acc = get_accelerator("H100")
    with pytest.raises(TypeError):
        acc.peak_flops["bf16"] = 1
    with pytest.raises(TypeError):
        acc.sources["peak"] = "mine"
    with pytest.raises((TypeError, AttributeError)):
        del acc.peak_flops["bf16"]
    assert get_accelerator("H100").peak("bf16") == 989.4e12
    assert train_plan(7e9, 1e12).gpu_hours == before


def test_a_callers_dict_is_copied_not_shared():
    peaks = {"bf16": 100e12}
    acc = Accelerator(name="X", peak_flops=peaks, memory_bytes=1e9, bandwidth_bytes_per_s=1e9)
    peaks["bf16"] = 1.0
    assert acc.peak("bf16") == 100e12
    copy_ = dict(acc.peak_flops)  # a plain, editable copy is one call away
    copy_["bf16"] = 1.0
    assert acc.peak("bf16") == 100e12 and acc.peak_flops.copy() == {"bf16": 100e12}


def test_read_only_accelerators_pickle_compare_copy_and_override():
    from scalinglab.core.hardware import FrozenMap

    acc = get_accelerator("H100")
    again = pickle.loads(pickle.dumps(acc))
    assert again == acc and hash(again) == hash(acc)
    assert isinstance(again.peak_flops, FrozenMap)
    assert copy.deepcopy(acc) == acc and copy.copy(acc) == acc
    assert acc.peak_flops == dict(acc.peak_flops)  # equal to a dict with the same items
    faster = acc.with_overrides(peak_tflops=1500, dtype="bf16")
    assert faster.peak("bf16") == 1500e12 and acc.peak("bf16") == 989.4e12
    assert faster != acc and isinstance(faster.peak_flops, FrozenMap)
    assert acc.as_dict()["peak_tflops"]["bf16"] == pytest.approx(989.4)
    assert type(acc.as_dict()["sources"]) is dict  # JSON-ready


def test_toml_catalog_entries_are_read_only_too(tmp_path):
    path = tmp_path / "hw.toml"
    path.write_text('[accelerator.MyChip]\npeak_tflops = { bf16 = 100 }\nmemory_gb = 24\n'
                    'bandwidth_gbs = 500\nsources = { peak = "our bench" }\n'
                    '[accelerator.H100-SXM]\nprice_per_hour = 1.5\n')
    catalog = load_catalog(path)
    chip = catalog.get_accelerator("mychip")
    assert chip.peak("bf16") == 100e12 and chip.sources["peak"] == "our bench"
    with pytest.raises(TypeError):
        chip.peak_flops["bf16"] = 1
    with pytest.raises(TypeError):
        catalog["H100"] = chip  # the catalog itself is a read-only mapping
    assert catalog.get_accelerator("H100").price_per_hour == 1.5
    assert get_accelerator("H100").price_per_hour == 2.49  # the built-in entry is untouched


# ----- 2. fitted-range notes take arrays --------------------------------------------------------
def test_notes_accept_arrays_and_name_the_extremes():
    notes = CHINCHILLA_RUNS.notes(np.array([1e9, 1e12]), np.array([1e10, 1e13]))
    assert notes == [
        "N up to 1e+12 is 62.5x above the largest model fitted (1.6e+10)",
        "D up to 1e+13 is 20x above the largest token count fitted (5e+11)",
    ]
    both_sides = CHINCHILLA_RUNS.notes([1e6, 630e9], [1e10, 1e11])
    assert both_sides == [
        "N up to 6.3e+11 is 39.4x above the largest model fitted (1.6e+10)",
        "N down to 1e+06 is 70x below the smallest model fitted (7e+07)",
    ]
    assert CHINCHILLA_RUNS.notes(np.array([1e9, 2e9]), np.array([2e10, 4e10])) == []


def test_notes_of_an_optimum_over_budgets():
    law = get_law("epoch2024")
    best = law.optimum(np.array([1e20, 1e25]))
    notes = law.fitted_range.notes(best.params, best.tokens)
    assert len(notes) == 2 and notes[0].startswith(f"N up to {best.params.max():.3g} is ")


def test_notes_keep_the_scalar_wording():
    assert CHINCHILLA_RUNS.notes(70e9, 1.4e12) == [
        "N = 7e+10 is 4.38x above the largest model fitted (1.6e+10)",
        "D = 1.4e+12 is 2.8x above the largest token count fitted (5e+11)",
    ]
    # numpy scalars and 0-d arrays (what a law returns for one budget) read as scalars
    assert CHINCHILLA_RUNS.notes(np.float64(70e9), np.array(1e11)) == [
        "N = 7e+10 is 4.38x above the largest model fitted (1.6e+10)"]
    with pytest.raises(ScalingLabError, match="params"):
        CHINCHILLA_RUNS.notes(-1.0, 1e11)


# ----- 3. law constants and number inputs ----------------------------------------------------------
@pytest.mark.parametrize(("change", "match"), [
    ({"E": math.nan}, "E must be finite"),
    ({"A": math.inf}, "A must be finite"),
    ({"E": -1.0}, "E .*>= 0"),
    ({"A": 0.0}, "A must be > 0"),
    ({"B": -410.7}, "B must be > 0"),
    ({"alpha": math.nan}, "alpha must be finite"),
    ({"beta": "0.28"}, "beta must be a number"),
])
def test_parametric_law_refuses_bad_constants(change, match):
    with pytest.raises(ScalingLabError, match=match):
        ParametricLaw(**{**CHIN, **change})


@pytest.mark.parametrize("exponents", [{"alpha": 0.0}, {"beta": -0.1}, {"alpha": -0.2, "beta": 0.3}])
def test_degenerate_exponents_predict_but_have_no_frontier(exponents):
    # A degenerate fit builds such a law and flags it (fit/parametric.py): constructing it is fine.
    law = ParametricLaw(**{**CHIN, **exponents})
    assert math.isfinite(law.predict(1e9, 1e10))
    for call in (lambda: law.optimum(1e20), lambda: law.G, lambda: law.compute_for_params(1e9)):
        with pytest.raises(ScalingLabError, match="no finite compute-optimal allocation"):
            call()


def test_an_underflowing_alpha_A_is_the_clear_error():
    # alpha·A underflows to 0 for the smallest double A = 5e-324 ("math domain error" before).
    law = ParametricLaw(E=1.5, A=5e-324, B=10.0, alpha=0.3, beta=0.3)
    assert law.alpha * law.A == 0.0
    with pytest.raises(ScalingLabError, match="no finite compute-optimal allocation"):
        law.optimum(1e20)  # G underflows: still the clear error, not "math domain error"


@pytest.mark.parametrize(("change", "match"), [
    ({"alpha_D": 0.0}, "alpha_D must be > 0"), ({"alpha_N": -0.076}, "alpha_N must be > 0"),
    ({"N_c": math.nan}, "N_c must be finite"), ({"D_c": 0}, "D_c must be > 0"),
])
def test_kaplan_law_refuses_bad_constants(change, match):
    with pytest.raises(ScalingLabError, match=match):
        KaplanLaw(**change)


@pytest.mark.parametrize("name", ["epoch2024", "kaplan2020"])
def test_laws_refuse_booleans(name):
    law = get_law(name)
    with pytest.raises(ScalingLabError, match="params: expected a number"):
        law.predict(True, 1e9)
    with pytest.raises(ScalingLabError, match="tokens"):
        law.predict(1e9, np.array([True, False]))
    with pytest.raises(ScalingLabError, match="compute"):
        law.optimum(True)


@pytest.mark.parametrize("name", ["hoffmann2022", "epoch2024", "kaplan2020"])
def test_laws_accept_human_strings_everywhere(name):
    law = get_law(name)
    assert law.predict("70B", "1.4T") == law.predict(70e9, 1.4e12)
    assert law.optimum("1e24") == law.optimum(1e24)
    assert law.compute_for_params("70B") == law.compute_for_params(70e9)
    assert law.at_compute("1e24", "70B") == law.at_compute(1e24, 70e9)
    # lists of strings behave like arrays of numbers
    np.testing.assert_array_equal(law.predict(["1B", "70B"], "1.4T"), law.predict(np.array([1e9, 70e9]), 1.4e12))


def test_law_input_errors_are_one_clear_line():
    law = get_law()
    with pytest.raises(ScalingLabError, match="cannot read 'big'"):
        law.predict("big", 1e9)
    with pytest.raises(ScalingLabError, match=r"params: must be positive and finite, got -1.0 at index 2"):
        law.predict(np.array([1e9, 2e9, -1.0, 4e9] + [1e9] * 5000), 1e10)
    with pytest.raises(ScalingLabError, match="tokens"):
        law.predict(1e9, [1e9, None])


# ----- 4. the seed façades check their numbers -----------------------------------------------------
@pytest.mark.parametrize("bad", [-70e9, math.nan, math.inf, True, "lots", None])
def test_compute_budget_calculator_refuses_bad_numbers(bad):
    from scalinglab import ComputeBudgetCalculator, ComputeEconomy

    calc = ComputeBudgetCalculator()
    for call in (
        lambda: calc.training_compute(bad, 1.4e12),
        lambda: calc.training_compute(70e9, bad),
        lambda: calc.inference_compute(bad, 1e6),
        lambda: calc.gpu_hours(bad),
        lambda: calc.cost_estimate(bad),
        lambda: calc.cost_estimate(1000, price_per_gpu_hour=-1 if bad is None else bad),  # None = default
        lambda: calc.plan_training(bad, 1.4e12),
        lambda: ComputeEconomy.calculate_c_pfdays(bad, 1e12),
        lambda: ComputeBudgetCalculator(mfu=bad),
    ):
        with pytest.raises(ScalingLabError):
            call()


def test_compute_budget_calculator_reads_human_numbers():
    from scalinglab import ComputeBudgetCalculator, ComputeEconomy

    calc = ComputeBudgetCalculator()
    assert calc.training_compute("70B", "1.4T") == calc.training_compute(70e9, 1.4e12) == 5.88e23
    assert calc.inference_compute(70e9, 0) == 0.0  # no output tokens cost nothing
    assert calc.cost_estimate("1000", price_per_gpu_hour=0) == 0.0
    assert ComputeEconomy.calculate_c_pfdays("70B", "1.4T") == pytest.approx(5.88e23 / 8.64e19)
    with pytest.raises(ScalingLabError, match="num_params"):
        calc.training_compute(-70e9, 1.4e12)
    with pytest.raises(ScalingLabError, match="num_gpus"):
        calc.plan_training(70e9, 1.4e12, num_gpus=1.5)


def test_other_facades_refuse_bad_numbers():
    from scalinglab import (
        DataScalingPlanner,
        EfficiencyComparator,
        EmergentAbilitiesTracker,
        MasterFitter,
        ScalingLawPredictor,
    )

    predictor = ScalingLawPredictor()
    for call in (lambda: predictor.compare_configurations(True), lambda: predictor.compare_configurations(-1),
                 lambda: predictor.predict_loss(True, 1e12), lambda: predictor.compute_optimal_allocation(math.nan)):
        with pytest.raises(ScalingLabError):
            call()
    assert predictor.predict_loss("70B", "1.4T") == predictor.predict_loss(70e9, 1.4e12)
    assert predictor.compare_configurations("1e24") == predictor.compare_configurations(1e24)

    tracker = EmergentAbilitiesTracker()
    assert tracker.check_abilities("70B") == tracker.check_abilities(70e9)
    for bad in (True, "lots", math.nan):
        with pytest.raises(ScalingLabError):
            tracker.check_abilities(bad)

    planner = DataScalingPlanner()
    for regime in ("optimal", "over_train", "under_train", "chinchilla_20"):
        with pytest.raises(ScalingLabError, match="num_params"):
            planner.required_tokens(-70e9, regime)
    with pytest.raises(ScalingLabError, match="multiple"):
        planner.required_tokens(70e9, "over_train", multiple=True)
    assert planner.required_tokens("70B", "chinchilla_20") == 1.4e12
    with pytest.raises(ScalingLabError, match="total_tokens"):
        planner.data_sources_needed("lots")

    with pytest.raises(ScalingLabError, match="base_params"):
        EfficiencyComparator().compare_approaches(base_params="big")
    with pytest.raises(ScalingLabError, match="experts"):
        EfficiencyComparator(experts=0.5)
    with pytest.raises(ScalingLabError, match="quantized_bits"):
        EfficiencyComparator(quantized_bits=-8)
    with pytest.raises(ScalingLabError, match="unknown accelerator"):
        EfficiencyComparator(gpu="H1000")

    with pytest.raises(ScalingLabError, match="ns"):
        MasterFitter(["a", "b"], [3.0, 2.5])
    with pytest.raises(ScalingLabError, match="ls"):
        MasterFitter([1e6, 1e7], [3.0, math.nan])


# ----- 5. fits does not claim True while activations are unknown -----------------------------------
def test_fits_is_unknown_without_activations():
    mem = training_memory(7e9, gpus=8, zero=1, gpu="H100")
    assert mem.activations is None and mem.total < mem.capacity
    assert mem.fits is None and "activations not counted" in mem.fits_note
    assert mem.as_dict()["fits"] is None
    # even the states do not fit: that is known without the activations
    too_big = training_memory(70e9, gpus=1, gpu="H100")
    assert too_big.fits is False and too_big.fits_note == "does not fit"
    # no device: unknown, as before
    assert training_memory(7e9).fits is None


def test_fits_is_true_with_a_shape():
    from scalinglab.core.architecture import TransformerShape

    shape = TransformerShape(n_layer=32, d_model=4096, n_head=32, vocab=50257, ctx=4096)
    mem = training_memory(shape=shape, gpus=64, zero=3, gpu="H100")
    assert mem.activations > 0 and mem.fits is True and mem.fits_note == "fits"


def test_cli_plan_says_the_fit_is_unknown(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(capsys, "plan", "--params", "7B", "--tokens", "1T", "--gpu", "H100", "--gpus", "8",
                       "--zero", "1")
    assert code == 0 and "fit unknown: activations not counted" in out


# ----- 6. contradicting plan inputs are refused -----------------------------------------------------
def test_train_plan_refuses_contradicting_flops():
    with pytest.raises(ScalingLabError, match=r"flops=1e\+20 contradicts params=7e\+09 and tokens=1e\+12.*4\.2e\+22"):
        train_plan(params=7e9, tokens=1e12, flops=1e20)
    # within 1% (a rounded figure) is the same plan; flops with only one of them is fine
    agreed = train_plan(params=7e9, tokens=1e12, flops=4.23e22)
    assert agreed.flops == 4.23e22 and agreed.params == 7e9
    assert train_plan(params=7e9, flops=1e20).flops == 1e20
    assert train_plan(tokens=1e12, flops=1e20).flops == 1e20


def test_train_plan_refuses_params_that_contradict_the_shape():
    from scalinglab.core.architecture import TransformerShape

    shape = TransformerShape(n_layer=12, d_model=768, n_head=12, vocab=50257, ctx=1024)
    assert train_plan(params=shape.total_params, tokens=1e9, shape=shape).params == shape.total_params
    with pytest.raises(ScalingLabError, match="params=7e\\+09 disagrees with shape"):
        train_plan(params=7e9, tokens=1e9, shape=shape)


def test_cli_compute_with_params_still_plans(capsys):
    code, out, err = run(capsys, "plan", "--compute", "5.88e23", "--params", "70B", "--gpu", "A100", "--json")
    assert code == 0, err


# ----- 7. library errors name the Python arguments --------------------------------------------------
def test_missing_dtype_error_names_the_python_way():
    with pytest.raises(ScalingLabError) as info:
        train_plan(7e9, 1e12, gpu="A100", dtype="fp8")
    message = str(info.value)
    assert "A100-80GB has no fp8 peak" in message
    assert "choose another dtype" in message and ".with_overrides(peak_tflops=..., dtype='fp8')" in message
    assert "\n" not in message
    with pytest.raises(ScalingLabError, match="shape="):
        training_flops(1e9, 1e9, convention="palm")
    with pytest.raises(ScalingLabError, match="give params= and tokens=, or the training compute flops="):
        train_plan(params=7e9)
    with pytest.raises(ScalingLabError, match="shape="):
        training_memory()


def test_cli_dtype_error_is_still_one_line(capsys):
    code, _, err = run(capsys, "plan", "--params", "7B", "--tokens", "1T", "--gpu", "A100", "--dtype", "fp8")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--dtype" in err


# ----- 8. get_law passes a law object through -------------------------------------------------------
def test_get_law_returns_a_law_object_unchanged():
    mine = ParametricLaw(**CHIN, name="mine")
    assert get_law(mine) is mine
    kaplan = KaplanLaw()
    assert get_law(kaplan) is kaplan
    from scalinglab import ScalingLawPredictor

    assert ScalingLawPredictor(mine).law is mine
    with pytest.raises(ScalingLabError) as info:
        get_law(12345)
    assert "got a int" in str(info.value) and "12345" not in str(info.value)


# ----- 9. data shortage is a warning, not a print ---------------------------------------------------
def test_data_shortage_warns(capsys):
    from scalinglab import DataScalingPlanner
    from scalinglab.compat.beyond import DataShortageWarning

    with pytest.warns(DataShortageWarning, match="epochs"):
        mix = DataScalingPlanner().data_sources_needed(1e15)
    assert capsys.readouterr().out == ""
    assert sum(mix.values()) == pytest.approx(15.96e12, rel=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DataScalingPlanner().data_sources_needed(1e12)  # enough data: no warning


# ----- 10. memory results in GB ---------------------------------------------------------------------
def test_memory_results_have_gb_figures():
    states = model_state_bytes(7e9)
    assert states.weights_gb == 14.0 and states.grads_gb == 14.0 and states.optimizer_gb == 84.0
    assert states.total_gb == 112.0 and states.gb == {"weights": 14.0, "grads": 14.0, "optimizer": 84.0,
                                                      "total": 112.0}
    mem = training_memory(7e9, gpus=8, zero=3, gpu="H100")
    assert mem.total_gb == pytest.approx(14.0) and mem.capacity_gb == 80.0 and mem.activations_gb is None
    assert mem.gb["model_states"] == pytest.approx(14.0) and mem.gb["activations"] is None
    assert mem.states.weights == 7e9 * 2 / 8  # the byte fields keep their names and units
    assert inference_memory(70e9).gb["weights"] == 140.0


def test_allocation_exponents_of_a_law_with_opposite_exponents_fail_clearly():
    from scalinglab.laws.chinchilla import ParametricLaw

    law = ParametricLaw(E=1.7, A=400.0, B=400.0, alpha=0.3, beta=-0.3)
    with pytest.raises(ScalingLabError, match="alpha \\+ beta = 0"):
        law.a  # noqa: B018


def test_train_plan_derives_the_missing_count_from_flops():
    from scalinglab.plan.budget import train_plan

    # 6 * 7e9 * 1e12 = 4.2e22 FLOPs under 6N.
    assert train_plan(params=7e9, flops=4.2e22).tokens == pytest.approx(1e12, rel=1e-12)
    assert train_plan(tokens=1e12, flops=4.2e22).params == pytest.approx(7e9, rel=1e-12)
    plan = train_plan(flops=4.2e22)
    assert plan.params is None and plan.tokens is None and plan.flops == 4.2e22
