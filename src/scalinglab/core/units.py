"""Compute units, and numbers printed the way people say them.

Print counts as ``70B``, ``1.4T``, ``2.5M``; convert FLOPs to PF-days and GPU-hours. Reading what
people type is :mod:`scalinglab.core.numbers`.
"""

from __future__ import annotations

import math

from scalinglab.errors import ScalingLabError

#: One petaFLOP/s sustained for one day, in FLOPs: 1e15 * 86,400 (Brown et al. 2020, GPT-3 §D).
PF_DAY_FLOPS = 1e15 * 86_400
SECONDS_PER_HOUR = 3_600.0
SECONDS_PER_DAY = 86_400.0

#: Training FLOPs per parameter per token, the 6 of C = 6·N·D: a forward pass costs 2 FLOPs per
#: parameter per token (a multiply and an add), the backward pass twice that (Kaplan et al. 2020,
#: §2.1; Hoffmann et al. 2022, App. F). The one home of the 6.
FLOP_PER_PARAM_TOKEN = 6.0

#: Inference (forward-only) FLOPs per parameter per token, the 2 of 2·N (Kaplan et al. 2020, §2.1).
INFERENCE_FLOP_PER_PARAM_TOKEN = 2.0


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
