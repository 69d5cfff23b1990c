"""Human numbers and compute units.

Parse what people type (``70B``, ``1.4T``, ``3.14e23``, ``70_000_000_000``, ``2.5M``) and print
numbers back the same way. Convert FLOPs to PF-days and GPU-hours.
"""

from __future__ import annotations

import math
import re

from scalinglab.errors import ScalingLabError

#: One petaFLOP/s sustained for one day, in FLOPs: 1e15 * 86,400 (Brown et al. 2020, GPT-3 §D).
PF_DAY_FLOPS = 1e15 * 86_400
SECONDS_PER_HOUR = 3_600.0
SECONDS_PER_DAY = 86_400.0

_SUFFIX = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
_NUMBER = re.compile(r"^\s*([0-9][0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMbBgGtTpP]?)\s*$")


def parse_number(text, *, name: str = "value", allow_zero: bool = False, integer: bool = False) -> float:
    """Parse a human number such as ``70B``, ``1.4T``, ``3.14e23`` or ``70_000_000_000``.

    Parameters
    ----------
    text : str or number
        What the user typed. Suffixes K, M, B (or G), T, P are powers of 1,000.
    name : str
        What the number is (``"params"``), used in the error message.
    allow_zero : bool
        Accept 0 (e.g. a count of inference tokens). Negative numbers are always rejected.
    integer : bool
        Require a whole number (e.g. a GPU count) and return an ``int``.

    Raises
    ------
    ScalingLabError
        For garbage, negatives, NaN/inf, zero where not allowed, and fractions where an integer is
        required. The message names the offending value.
    """
    if isinstance(text, bool):
        raise ScalingLabError(f"{name}: expected a number, got {text!r}")
    if isinstance(text, (int, float)):
        value = float(text)
        shown = repr(text)
    else:
        shown = str(text).strip()
        if shown.lower() in {"nan", "inf", "+inf", "-inf", "infinity", "-infinity"}:
            raise ScalingLabError(f"{name}: {shown!r} is not a finite number")
        if shown.startswith("-"):
            raise ScalingLabError(f"{name}: {shown!r} is negative; it must be {_wanted(allow_zero)}")
        match = _NUMBER.match(shown.lstrip("+"))
        if not match:
            raise ScalingLabError(
                f"{name}: cannot read {shown!r} as a number (try 70B, 1.4T, 3.14e23 or 70_000_000_000)"
            )
        mantissa, suffix = match.groups()
        try:
            value = float(mantissa.replace("_", "")) * _SUFFIX[suffix.upper()]
        except ValueError as exc:
            raise ScalingLabError(f"{name}: cannot read {shown!r} as a number") from exc
    if not math.isfinite(value):
        raise ScalingLabError(f"{name}: {shown} is not a finite number")
    if value < 0:
        raise ScalingLabError(f"{name}: {shown} is negative; it must be {_wanted(allow_zero)}")
    if value == 0 and not allow_zero:
        raise ScalingLabError(f"{name}: must be greater than zero, got {shown}")
    if integer:
        if value != round(value):
            raise ScalingLabError(f"{name}: must be a whole number, got {shown}")
        return int(round(value))
    return value


def _wanted(allow_zero: bool) -> str:
    """What a number that may (or may not) be zero must be, for the error message."""
    return "0 or more" if allow_zero else "positive"


def format_number(value: float, digits: int = 3) -> str:
    """Print a count the way people say it: ``70B``, ``1.4T``, ``2.5M``; tiny or huge as ``3.14e23``."""
    if value is None or not math.isfinite(value):
        return str(value)
    # Round to the digits shown before choosing the suffix: 999.6e9 reads 1T, not 1e+03B.
    value = float(f"{value:.{digits}g}")
    magnitude = abs(value)
    for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if 1 <= magnitude / scale < 1000:
            return f"{value / scale:.{digits}g}{suffix}"
    if magnitude >= 1e15 or (0 < magnitude < 1e-2):
        return f"{value:.{digits}g}" if "e" in f"{value:.{digits}g}" else f"{value:.{digits - 1}e}"
    return f"{value:.{digits}g}"


#: Amounts at or above this print in scientific notation: "1,747,692,204,029" is not readable.
AMOUNT_SCIENTIFIC_FROM = 1e9


def format_amount(value: float, decimals: int = 1, digits: int = 3) -> str:
    """Print an amount in a fixed unit (GPU-hours, days, dollars, PF-days, GB) for a table.

    Parameters
    ----------
    value : float
        The amount.
    decimals : int
        Decimals in the everyday range, where digits are grouped: ``1,022,362`` (0), ``21.3`` (1).
    digits : int
        Significant digits where fixed decimals would mislead: huge amounts (from
        :data:`AMOUNT_SCIENTIFIC_FROM` up) print as ``7.02e+11``, and amounts below 1, which
        fixed decimals would round towards 0, as ``0.000702`` or ``1.16e-05``.

    Returns
    -------
    str
        At most about 15 characters whatever the magnitude; 0 prints as ``0`` (with
        ``decimals`` decimals).
    """
    if value is None or not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    if magnitude == 0:
        return f"{0:.{decimals}f}"
    if magnitude >= AMOUNT_SCIENTIFIC_FROM:
        return f"{value:.{digits - 1}e}"
    if magnitude < 1:
        return f"{value:.{digits}g}"
    return f"{value:,.{decimals}f}"


def flops_to_pf_days(flops: float) -> float:
    """FLOPs -> PF-days (1 PF-day = 8.64e19 FLOPs)."""
    return flops / PF_DAY_FLOPS


def pf_days_to_flops(pf_days: float) -> float:
    """PF-days -> FLOPs."""
    return pf_days * PF_DAY_FLOPS


def flops_to_gpu_hours(flops: float, peak_flops_per_s: float, mfu: float) -> float:
    """GPU-hours to execute ``flops`` on devices of the given peak at model-FLOP utilisation ``mfu``."""
    if not 0 < mfu <= 1:
        raise ScalingLabError(f"mfu: must be in (0, 1], got {mfu}")
    return flops / (peak_flops_per_s * mfu) / SECONDS_PER_HOUR


def gpu_hours_to_flops(gpu_hours: float, peak_flops_per_s: float, mfu: float) -> float:
    """Model FLOPs delivered by ``gpu_hours`` of devices at the given peak and MFU."""
    if not 0 < mfu <= 1:
        raise ScalingLabError(f"mfu: must be in (0, 1], got {mfu}")
    return gpu_hours * SECONDS_PER_HOUR * peak_flops_per_s * mfu
