"""Units and human numbers (TEST_VECTORS §A, U1, U2, U10)."""

import pytest

from scalinglab.core.hardware import get_accelerator
from scalinglab.core.numbers import parse_number
from scalinglab.core.units import (
    PF_DAY_FLOPS,
    flops_to_gpu_hours,
    flops_to_pf_days,
    format_number,
    gpu_hours_to_flops,
    pf_days_to_flops,
)
from scalinglab.errors import ScalingLabError


def test_pf_day_u1():
    # U1, Kaplan 2020 §1.3: 1 PF-day = 1e15 × 86,400 FLOPs.
    assert PF_DAY_FLOPS == 8.64e19
    assert pf_days_to_flops(1.0) == 8.64e19
    assert flops_to_pf_days(8.64e19) == 1.0


@pytest.mark.parametrize(("gpu", "expected"), [("A100", 1.1232e18), ("H100-SXM", 3.56184e18)])
def test_gpu_hour_at_dense_peak_u2(gpu, expected):
    # U2 (docs/conventions.md): FLOPs in one GPU-hour at the dense BF16 peak, 312 TF and 989.4 TF.
    peak = get_accelerator(gpu).peak("bf16")
    assert gpu_hours_to_flops(1.0, peak, 1.0) == pytest.approx(expected, rel=1e-12)
    assert flops_to_gpu_hours(expected, peak, 1.0) == pytest.approx(1.0, rel=1e-12)


def test_six_nd_u10():
    # U10: GPT-3 Table D.1 3.14e23 FLOPs = 3.64e3 PF-days (rel 0.5%); GPT-3 small 2.25e20;
    # Chinchilla 5.88e23 (6ND exact).
    gpt3 = 6 * 174.6e9 * 300e9
    assert gpt3 == pytest.approx(3.14e23, rel=5e-3)
    assert flops_to_pf_days(gpt3) == pytest.approx(3.64e3, rel=5e-3)
    assert flops_to_pf_days(gpt3) == pytest.approx(3637, abs=0.5)
    assert 6 * 125e6 * 300e9 == pytest.approx(2.25e20, rel=1e-12)
    assert 6 * 70e9 * 1.4e12 == pytest.approx(5.88e23, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "value"),
    [("70B", 70e9), ("1.4T", 1.4e12), ("3.14e23", 3.14e23), ("70_000_000_000", 70e9),
     ("2.5M", 2.5e6), ("2k", 2e3), (" 65b ", 65e9), ("0.476", 0.476), (7, 7.0)],
)
def test_parse_number(text, value):
    assert parse_number(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize("text", ["-5", "nan", "inf", "abc", "1.2.3", "", "5X", "0", True])
def test_parse_number_rejects(text):
    with pytest.raises(ScalingLabError):
        parse_number(text, name="params")


def test_parse_number_integer_and_zero():
    assert parse_number("2048", integer=True) == 2048
    assert parse_number("0", allow_zero=True) == 0
    with pytest.raises(ScalingLabError, match="whole number"):
        parse_number("1.5", name="gpus", integer=True)
    with pytest.raises(ScalingLabError, match="gpus"):
        parse_number("-1", name="gpus", integer=True)


@pytest.mark.parametrize(("value", "text"), [(70e9, "70B"), (1.4e12, "1.4T"), (2.5e6, "2.5M"), (124e6, "124M")])
def test_format_number(value, text):
    assert format_number(value) == text


def test_mfu_outside_unit_interval_is_an_error():
    with pytest.raises(ScalingLabError):
        flops_to_gpu_hours(1e20, 312e12, 1.5)
    with pytest.raises(ScalingLabError):
        gpu_hours_to_flops(1.0, 312e12, 0.0)
