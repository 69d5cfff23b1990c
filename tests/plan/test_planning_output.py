"""Regression tests for a QA pass over planning output: readable numbers at any budget, a price of
0, tables that survive a pipe, and fits that do not leak scipy warnings."""

import json
import re
import warnings

import numpy as np
import pytest

from clihelp import run, run_json
from scalinglab.cli.app import PIPED_WIDTH, console_width, price_per_hour
from scalinglab.core.units import PF_DAY_FLOPS, format_amount, format_number
from scalinglab.errors import ScalingLabError
from scalinglab.laws.downstream import NO_COVARIANCE, ErrorLawFit, SigmoidAccuracyFit
from scalinglab.plan.budget import max_compute_for, train_plan
from scalinglab.plan.inference import cost_per_million_tokens

#: A run of 13 or more digits and separators: the 30-digit integers the QA pass found.
LONG_NUMBER = re.compile(r"\d[\d,]{12,}")


@pytest.fixture
def piped(monkeypatch):
    """stdout is a pipe (pytest's capture) and COLUMNS is unset, as for ``scalinglab ... | less``."""
    monkeypatch.delenv("COLUMNS", raising=False)


def _row(text: str, label: str) -> str:
    """The table line that starts with ``label`` (after the border)."""
    return next(line for line in text.splitlines() if line.lstrip("│┃ ").startswith(label))


# ----- 1. huge and tiny budgets print readably; JSON keeps the raw floats ---------------------
def test_plan_huge_budget_prints_scientific_notation(capsys, piped):
    code, out, _ = run(capsys, "plan", "--compute", "1e30", "--price", "2")
    assert code == 0
    # 1e30 FLOPs = 1.157e10 PF-days = 7.02e11 GPU-hours on one H100 at MFU 0.4 = 2.92e10 days
    assert "1.16e+10 PF-days" in _row(out, "training compute")
    assert "7.02e+11" in _row(out, "GPU-hours")
    assert "2.92e+10 days" in _row(out, "wall-clock")
    assert "$1.40e+12" in _row(out, "cost")  # 7.02e11 GPU-hours at $2
    assert not LONG_NUMBER.search(out), LONG_NUMBER.search(out)
    payload = run_json(capsys, "plan", "--compute", "1e30", "--price", "2")
    assert payload["pf_days"] == pytest.approx(1e30 / PF_DAY_FLOPS, rel=1e-12)
    assert payload["cost_usd"] == pytest.approx(2 * payload["gpu_hours"], rel=1e-12)
    assert isinstance(payload["gpu_hours"], float) and payload["gpu_hours"] > 7e11


def test_plan_tiny_budget_does_not_round_to_zero(capsys, piped):
    code, out, _ = run(capsys, "plan", "--compute", "1e15", "--price", "2")
    assert code == 0
    # 1e15 FLOPs: 1.157e-5 PF-days, 1e15 / (989.4e12 · 0.4) / 3600 = 7.02e-4 GPU-hours, $0.0014
    assert "1.16e-05 PF-days" in _row(out, "training compute")
    assert "0.000702" in _row(out, "GPU-hours")
    assert "2.92e-05 days" in _row(out, "wall-clock")
    assert "$0.0014" in _row(out, "cost")
    assert "0.0 PF-days" not in out


def test_plan_everyday_budget_keeps_grouped_digits(capsys, piped):
    # LLaMA-65B: the familiar 1,021,242 GPU-hours stay written out in full.
    code, out, _ = run(capsys, "plan", "--params", "65B", "--tokens", "1.4T", "--gpu", "A100-80GB",
                       "--gpus", "2048", "--mfu", "0.476")
    assert code == 0
    assert "1,021,242" in _row(out, "GPU-hours")
    assert "6,319.4 PF-days" in _row(out, "training compute")
    assert "20.8 days" in _row(out, "wall-clock")


def test_compare_tiny_budget_shows_sizes_not_zero(capsys, piped):
    code, out, _ = run(capsys, "compare", "--compute", "1e15")
    assert code == 0
    # The dense optimum at 1e15 has 2.34M parameters: 4.67 MB in 16 bits, not "0.0 GB".
    assert "0.00467 GB" in out and "0.0 GB" not in out
    assert "1e+03K" not in out  # format_number rounded 999.6K to "1e+03K"


@pytest.mark.parametrize(("value", "decimals", "text"), [
    (0.0, 0, "0"), (0.0, 1, "0.0"), (7.02e-4, 0, "0.000702"), (1.157e-5, 1, "1.16e-05"),
    (21.34, 1, "21.3"), (1_021_242.4, 0, "1,021,242"), (999_999_999.4, 0, "999,999,999"),
    (1e9, 1, "1.00e+09"), (7.0188e11, 0, "7.02e+11"), (1.157e29, 1, "1.16e+29"),
])
def test_format_amount(value, decimals, text):
    assert format_amount(value, decimals) == text


@pytest.mark.parametrize(("value", "text"), [(999.6e3, "1M"), (999.6e9, "1T"), (999.6, "1K"), (999.4e9, "999B")])
def test_format_number_rounds_before_choosing_the_suffix(value, text):
    assert format_number(value) == text


# ----- 2. a price of 0 is a price -------------------------------------------------------------
def test_plan_price_zero(capsys, piped):
    payload = run_json(capsys, "plan", "--params", "7B", "--tokens", "1T", "--price", "0")
    assert payload["cost_usd"] == 0.0 and payload["price_per_gpu_hour"] == 0.0
    assert payload["price_source"] == "user-supplied"
    assert payload["gpu_hours"] == pytest.approx(6 * 7e9 * 1e12 / (989.4e12 * 0.4) / 3600, rel=1e-3)
    code, out, _ = run(capsys, "plan", "--params", "7B", "--tokens", "1T", "--price", "0")
    assert code == 0 and re.search(r"│ cost\s+│ \$0\s+│ \$0/GPU-h, user-supplied", out), out


@pytest.mark.parametrize(("price", "needle"), [("-1", "negative"), ("nan", "not a finite"),
                                                ("inf", "not a finite"), ("1e400", "not a finite"),
                                                ("free", "cannot read")])
def test_plan_bad_price_is_one_line(capsys, price, needle):
    for extra in ([], ["--json"]):
        code, out, err = run(capsys, "plan", "--params", "7B", "--tokens", "1T", f"--price={price}", *extra)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith("error: --price") and needle in err, err


def test_price_zero_in_the_api():
    assert train_plan(7e9, 1e12, price_per_gpu_hour=0).cost_usd == 0.0
    assert cost_per_million_tokens(0, 8, 2000) == 0.0
    assert price_per_hour("0") == 0.0 and price_per_hour(None) is None
    with pytest.raises(ScalingLabError, match="0 or more"):
        price_per_hour("-2")
    with pytest.raises(ScalingLabError, match="negative"):
        train_plan(7e9, 1e12, price_per_gpu_hour=-1)
    # Free hours buy unlimited compute with a dollar budget: an error, not a division by zero.
    with pytest.raises(ScalingLabError, match="unlimited"):
        max_compute_for("H100", usd=1000, price_per_gpu_hour=0)
    assert max_compute_for("H100", gpu_days=1, price_per_gpu_hour=0) == pytest.approx(86_400 * 989.4e12 * 0.4)


# ----- 3. wide tables survive a pipe ----------------------------------------------------------
def _width(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def test_console_width_policy(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    assert console_width() == PIPED_WIDTH == 120  # pytest's captured stdout is not a terminal
    monkeypatch.setenv("COLUMNS", "97")
    assert console_width() == 97


def test_compare_piped_is_not_truncated(capsys, piped):
    payload = run_json(capsys, "compare", "--compute", "1e23")
    code, out, _ = run(capsys, "compare", "--compute", "1e23")
    assert code == 0 and "…" not in out and _width(out) <= PIPED_WIDTH
    for row in payload["moe"]:  # every loss and decode time printed whole
        assert f"{row['loss']:.4f}" in out and f"{row['decode_ms_per_token']:.2f}" in out


@pytest.mark.parametrize("argv", [
    ("compare", "--compute", "1e23", "--inference-tokens", "1T"),
    ("compare", "--compute", "1e30"),
    ("data", "--params", "70B", "--unique-tokens", "1T"),
    ("explain-gap",),
    ("hardware",),
])
def test_wide_tables_fit_80_columns_without_cutting(capsys, monkeypatch, argv):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "…" not in out and _width(out) <= 80


def test_compare_json_ignores_the_width(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    code, out, _ = run(capsys, "compare", "--compute", "1e23", "--json")
    assert code == 0 and json.loads(out)["moe"][0]["name"] == "dense"


# ----- 4. downstream fits: no scipy warning escapes; the situation is a fitted attribute ----------
def _fit_silently(estimator, x, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(x, y)
    assert [str(w.message) for w in caught] == []
    return estimator


@pytest.mark.parametrize(("loss", "accuracy"), [
    ([2.0, 3.0, 4.0, 5.0], [0.8, 0.6, 0.4, 0.3]),  # four points for four parameters
    ([2.0, 2.5, 3.0, 3.5, 4.0], [0.7] * 5),  # a flat curve
])
def test_sigmoid_fit_underdetermined_flags_instead_of_warning(loss, accuracy):
    fit = _fit_silently(SigmoidAccuracyFit(), loss, accuracy)
    assert fit.covariance_estimated_ is False and fit.warnings_ == [NO_COVARIANCE]
    assert fit.rmse_ < 1e-6  # still a curve through the points
    assert np.allclose(fit.predict(loss), accuracy, atol=1e-6)


def test_sigmoid_fit_well_posed_has_no_warnings():
    loss = np.linspace(2.0, 4.0, 9)
    accuracy = -0.75 / (1 + np.exp(-4.0 * (loss - 3.0))) + 1.0
    fit = _fit_silently(SigmoidAccuracyFit(), loss, accuracy)
    assert fit.covariance_estimated_ is True and fit.warnings_ == []
    assert fit.L0_ == pytest.approx(3.0, abs=1e-4) and fit.k_ == pytest.approx(4.0, rel=1e-3)


def test_error_law_fit_three_points_flags_instead_of_warning():
    fit = _fit_silently(ErrorLawFit(), [2.0, 3.0, 4.0], [0.5, 0.6, 0.7])
    assert fit.covariance_estimated_ is False and fit.warnings_ == [NO_COVARIANCE]


def test_emergence_fit_reports_the_flag(capsys, tmp_path):
    path = tmp_path / "four.csv"
    path.write_text("loss,accuracy\n2,0.8\n3,0.6\n4,0.4\n5,0.3\n")
    out = run_json(capsys, "emergence", "--fit", str(path))
    assert out["fit"]["covariance_estimated"] is False
    assert out["fit"]["warnings"] == [NO_COVARIANCE]
    code, text, err = run(capsys, "emergence", "--fit", str(path))
    assert code == 0 and err == "" and "do not pin down every parameter" in text
