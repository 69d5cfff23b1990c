"""Each law knows the runs it was fitted on, and predict/optimal say when a question leaves them."""

import pytest

from clihelp import run, run_json
from scalinglab.fit.parametric import ChinchillaFit
from scalinglab.laws.ranges import CHINCHILLA_RUNS, KAPLAN_RUNS
from scalinglab.laws.registry import LAWS, get_law


def test_presets_carry_the_published_ranges():
    # Hoffmann et al. 2022 abstract/§3: 70M-16B parameters, 5B-500B tokens (Epoch refit the same
    # runs); Kaplan et al. 2020 §1.2: 768-1.5e9 non-embedding parameters, 22M-23B tokens.
    assert CHINCHILLA_RUNS.params == (70e6, 16e9) and CHINCHILLA_RUNS.tokens == (5e9, 500e9)
    assert KAPLAN_RUNS.params == (768.0, 1.5e9) and KAPLAN_RUNS.tokens == (22e6, 23e9)
    for name in ("hoffmann2022", "hoffmann2022-unrounded", "epoch2024", "epoch2024-rounded"):
        assert LAWS[name].fitted_range is CHINCHILLA_RUNS
    assert LAWS["kaplan2020"].fitted_range is KAPLAN_RUNS


def test_notes_name_the_factor_outside_and_nothing_inside():
    law = get_law("epoch2024")
    assert law.fitted_range.notes(1e9, 20e9) == []
    assert law.fitted_range.notes(70e6, 500e9) == []  # the bounds are inside
    # Chinchilla itself: 70B is 4.375x the largest model fitted, 1.4T tokens 2.8x the largest count.
    assert law.fitted_range.notes(70e9, 1.4e12) == [
        "N = 7e+10 is 4.38x above the largest model fitted (1.6e+10)",
        "D = 1.4e+12 is 2.8x above the largest token count fitted (5e+11)",
    ]
    assert get_law("kaplan").fitted_range.notes(100.0, 1e9) == [
        "N = 100 is 7.68x below the smallest model fitted (768)",
    ]


def test_predict_reports_the_extrapolation(capsys):
    inside = run_json(capsys, "predict", "--params", "1B", "--tokens", "20B")
    assert inside["extrapolation"] == []
    assert inside["fitted_range"]["params"] == [70e6, 16e9]
    outside = run_json(capsys, "predict", "--params", "70B", "--tokens", "1.4T")
    assert len(outside["extrapolation"]) == 2 and "4.38x above" in outside["extrapolation"][0]
    code, out, _ = run(capsys, "predict", "--params", "70B", "--tokens", "1.4T")
    assert code == 0 and "extrapolating" in out and "4.38x above the largest model" in out
    code, out, _ = run(capsys, "predict", "--params", "1B", "--tokens", "20B")
    assert code == 0 and "extrapolating" not in out


def test_optimal_reports_the_extrapolation_of_its_allocation(capsys):
    # Kaplan at 1e5 FLOPs: N_opt = 1.3e9 * (C/2 in PF-days)^0.73 is a hundredth of a parameter.
    payload = run_json(capsys, "optimal", "--compute", "1e5", "--law", "kaplan")
    low, _ = KAPLAN_RUNS.params
    assert payload["params"] < low
    assert payload["extrapolation"][0].startswith(f"N = {payload['params']:.3g} is {low / payload['params']:.3g}x below")
    # At the Gopher budget the Epoch optimum (~75B, ~1.3T tokens) lies above both maxima.
    assert len(run_json(capsys, "optimal", "--compute", "5.76e23")["extrapolation"]) == 2
    # At 1e20 FLOPs the optimum (~1.3B parameters, ~13B tokens) lies inside the fitted runs.
    assert run_json(capsys, "optimal", "--compute", "1e20")["extrapolation"] == []


def test_laws_listing_has_the_ranges(capsys):
    rows = {row["name"]: row for row in run_json(capsys, "laws")["laws"]}
    assert rows["kaplan2020"]["fitted_range"]["tokens"] == [22e6, 23e9]
    assert rows["epoch2024"]["fitted_range"]["params"] == [70e6, 16e9]


def test_a_fitted_law_knows_its_own_runs(epoch240):
    law = ChinchillaFit().fit(epoch240).law_
    assert law.fitted_range.params == pytest.approx((epoch240["params"].min(), epoch240["params"].max()))
    assert law.fitted_range.tokens == pytest.approx((epoch240["tokens"].min(), epoch240["tokens"].max()))
    assert law.fitted_range.notes(epoch240["params"].max() * 10, epoch240["tokens"].min())[0].startswith(
        f"N = {epoch240['params'].max() * 10:.3g} is 10x above")


def test_fit_budget_says_how_far_its_optimum_extrapolates(capsys, chinchilla_fig4_csv):
    # Epoch's 240 runs reach 1.62e10 parameters and 3.18e11 tokens; the Gopher-budget optimum of
    # the refit (~73B parameters, ~1.3T tokens) lies above both.
    payload = run_json(capsys, "fit", str(chinchilla_fig4_csv), "--drop-highest-loss", "5", "--budget", "5.76e23")
    notes = payload["optimum"]["extrapolation"]
    assert len(notes) == 2
    assert notes[0].startswith(f"N = {payload['optimum']['params']:.3g} is ")
    assert "above the largest model fitted (1.62e+10)" in notes[0]
    assert "above the largest token count fitted (3.18e+11)" in notes[1]
    inside = run_json(capsys, "fit", str(chinchilla_fig4_csv), "--drop-highest-loss", "5", "--budget", "1e20")
    assert inside["optimum"]["extrapolation"] == []
