"""The one reader of the numbers people give scalinglab.

What people type (``70B``, ``1.4T``, ``3.14e23``, ``70_000_000_000``, ``2.5M``), what notebooks pass
(floats, numpy scalars and arrays, lists of either) and what files hold ("2.8B" inside a CSV
column) are all read here, so every layer accepts and refuses the same things, each mistake as one
line naming the value (a :class:`~scalinglab.errors.ScalingLabError`), never a NaN passed on.
"""

from __future__ import annotations

import math
import numbers
import re

import numpy as np

from scalinglab.errors import ScalingLabError

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


def _one(value, name, allow_zero=False):
    """One element of a law's input: a number or a human string (``"70B"``), never a boolean."""
    if isinstance(value, (str, bytes)):
        text = value.decode() if isinstance(value, bytes) else str(value)
        return parse_number(text, name=name, allow_zero=allow_zero)
    if isinstance(value, (bool, np.bool_)):
        raise ScalingLabError(f"{name}: expected a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ScalingLabError(f"{name}: expected a number, got {value!r}") from None


def as_array(value, name, *, allow_zero=False):
    """``value`` as a float array, checked finite and positive (or 0 or more with ``allow_zero``).

    The one reader of every law's number inputs. Accepts what ``train_plan`` accepts: numbers,
    human strings (``"70B"``, ``"1.4T"``, via :func:`~scalinglab.core.numbers.parse_number`) and
    arrays or lists of either. Booleans are refused: ``True`` would silently mean one parameter.
    """
    if isinstance(value, (str, bytes, bool, np.bool_)):
        arr = np.asarray(_one(value, name, allow_zero), dtype=float)
    else:
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):  # ragged nested lists
            raise ScalingLabError(f"{name}: expected a number or an array of numbers, got {value!r}") from None
        if arr.dtype.kind == "b":
            raise ScalingLabError(f"{name}: expected numbers, got booleans {value!r}")
        if arr.dtype.kind in "OSU":  # strings ("70B") or mixed objects: one element at a time
            arr = np.array([_one(v, name, allow_zero) for v in arr.ravel()], dtype=float).reshape(arr.shape)
        else:
            try:
                arr = arr.astype(float, copy=False)
            except (TypeError, ValueError):
                raise ScalingLabError(f"{name}: expected numbers, got {value!r}") from None
    bad = ~np.isfinite(arr) | ((arr < 0) if allow_zero else (arr <= 0))
    if np.any(bad):
        kind = "zero or positive" if allow_zero else "positive"
        if arr.ndim == 0:
            raise ScalingLabError(f"{name}: must be {kind} and finite, got {value!r}")
        # Name the first offender, not a repr of a possibly huge array: one clear line.
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        index = where[0] if len(where) == 1 else where
        raise ScalingLabError(f"{name}: must be {kind} and finite, got {float(arr[where])!r} at index "
                              f"{index} ({int(bad.sum())} of {arr.size} values bad)")
    return arr


def positive(value, name):
    """``value`` as a float array, checked positive and finite (see :func:`as_array`)."""
    return as_array(value, name)


def scalar_or_array(arr):
    """A 0-d result as a plain ``float``, anything else as the array: what laws return."""
    return float(arr) if np.ndim(arr) == 0 else arr


def positive_float(value, name: str, *, allow_zero: bool = False) -> float:
    """One positive (or, with ``allow_zero``, non-negative) finite number as a ``float``."""
    arr = as_array(value, name, allow_zero=allow_zero)
    if arr.ndim != 0:
        raise ScalingLabError(f"{name}: expected one number, got {arr.size} values")
    return float(arr)


def whole_number(value, name: str, *, minimum: int = 1) -> int:
    """``value`` as an ``int`` when it is a whole number of any numeric type (``5``, ``np.int64(5)``,
    ``5.0``, ``"5"``, ``"2K"``) and at least ``minimum``, else one clear error.

    A notebook hands over ``np.int64`` (from ``np.arange``) or ``5.0`` (from arithmetic) as often as
    ``5``; an ``isinstance(value, int)`` check would refuse both with a misleading message.
    """
    if isinstance(value, (str, bytes)):
        text = value.decode() if isinstance(value, bytes) else value
        number = parse_number(text, name=name, allow_zero=True, integer=True)
    elif isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        number = int(value)  # exact: through float, 2**63 - 1 would become 2**63
    elif isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        number = float(value)
        if not (math.isfinite(number) and number.is_integer()):
            raise ScalingLabError(f"{name}: must be a whole number, got {value!r}")
        number = int(number)
    else:
        raise ScalingLabError(f"{name}: must be a whole number, got {value!r}")
    if number < minimum:
        raise ScalingLabError(f"{name}: must be a whole number >= {minimum}, got {value!r}")
    return number


def number_list(values, name: str, *, allow_zero: bool = False, sort: bool = False) -> list[float]:
    """A list of numbers from one number, a sequence or array, or a comma-separated string
    (``"8,32"``, ``"1e11, 1e12"``), each read as :func:`as_array` reads it."""
    if isinstance(values, bytes):
        values = values.decode()
    if isinstance(values, str):
        parts = [p for p in values.split(",") if p.strip()]
        if not parts:
            raise ScalingLabError(f"{name}: expected a comma-separated list of numbers, got {values!r}")
        values = parts
    out = [float(v) for v in np.atleast_1d(as_array(values if not isinstance(values, (list, tuple))
                                                    else list(values), name, allow_zero=allow_zero)).ravel()]
    if not out:
        raise ScalingLabError(f"{name}: expected at least one number")
    return sorted(out) if sort else out
