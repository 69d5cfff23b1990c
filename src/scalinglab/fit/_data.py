"""What every estimator's ``fit(runs_or_arrays)`` accepts, read in one place.

``runs_or_arrays`` is a pandas DataFrame with the standard columns (``params``, ``tokens``,
``flops``, ``loss``; learning curves add ``run_id`` and ``step``), a mapping of column name to
array, or a run table: any object with a ``runs`` DataFrame and a ``curves`` attribute (a DataFrame
or None), such as ``scalinglab.io.runtable.RunTable`` — recognised by those attributes, so this
layer imports nothing from ``scalinglab.io``. Keyword arrays (``fit(params=n, tokens=d,
loss=y)``) are columns too.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from scalinglab.errors import ScalingLabError


def is_run_table(data) -> bool:
    """Whether ``data`` is a run table: a ``runs`` DataFrame and a ``curves`` attribute."""
    return hasattr(data, "curves") and hasattr(getattr(data, "runs", None), "columns")


def frame_of(data, *, curves: bool = False):
    """The DataFrame inside ``data`` (its ``curves`` when ``curves``), or ``data`` itself."""
    if is_run_table(data):
        if not curves:
            return data.runs
        if data.curves is None:
            raise ScalingLabError("this run table has no learning curves (its curves are None); "
                                  "read the runs with their curves")
        return data.curves
    return data


def columns(data=None, arrays: Mapping | None = None, *, curves: bool = False) -> dict:
    """The columns of ``data`` merged with the keyword ``arrays``: a dict of 1-D numpy arrays.

    Values are not converted to float (a ``run_id`` column may hold strings); use :func:`numeric`
    for the numbers. All columns must have the same length.
    """
    data = frame_of(data, curves=curves)
    if data is None:
        table = {}
    elif hasattr(data, "columns"):
        table = {str(c): data[c].to_numpy() for c in data.columns}
    elif isinstance(data, Mapping):
        table = {str(k): np.atleast_1d(np.asarray(v)) for k, v in data.items()}
    else:
        raise ScalingLabError("fit takes a runs table (a DataFrame, a mapping of column arrays or a run "
                              f"table) or keyword arrays, got {type(data).__name__}")
    for name, value in (arrays or {}).items():
        if value is None:
            continue
        if name in table:
            raise ScalingLabError(f"{name!r} is given twice: pass either a runs table or arrays, not both")
        table[name] = np.atleast_1d(np.asarray(value))
    lengths = {name: v.shape for name, v in table.items()}
    if any(len(shape) != 1 for shape in lengths.values()) or len({s[0] for s in lengths.values()}) > 1:
        shown = ", ".join(f"{k} {v}" for k, v in lengths.items())
        raise ScalingLabError(f"the columns must be 1-D of equal length, got {shown}")
    return table


def numeric(table: dict, name: str, *, what: str = "runs table") -> np.ndarray:
    """Column ``name`` as floats; a missing column is one error naming the columns there are."""
    if name not in table:
        raise ScalingLabError(f"{what} has no {name!r} column (columns: {', '.join(table) or 'none'})")
    try:
        return np.asarray(table[name], dtype=float)
    except (TypeError, ValueError):
        raise ScalingLabError(f"the {name!r} column must hold numbers") from None


def check_positive(name: str, arr: np.ndarray) -> np.ndarray:
    """``arr`` unchanged when every entry is positive and finite, else one error naming the rows."""
    bad = np.flatnonzero(~np.isfinite(arr) | (arr <= 0))
    if bad.size:
        shown = ", ".join(f"row {i + 1}: {arr[i]!r}" for i in bad[:5])
        more = f" and {bad.size - 5} more" if bad.size > 5 else ""
        raise ScalingLabError(f"{name} must be positive and finite ({shown}{more})")
    return arr


def runs_arrays(runs=None, **arrays):
    """(params, tokens, loss) of a table of final losses, checked positive and finite.

    ``runs`` is a runs table (see the module docstring); keyword arrays name the columns.
    """
    table = columns(runs, arrays)
    if not table:
        raise ScalingLabError("fit needs a runs table, or params, tokens and loss arrays")
    n, d, y = (numeric(table, c) for c in ("params", "tokens", "loss"))
    for name, arr in (("params", n), ("tokens", d), ("loss", y)):
        check_positive(name, arr)
    return n, d, y


def predict_inputs(params, tokens):
    """``predict(runs_table)`` or ``predict(params, tokens)``: the (params, tokens) to evaluate."""
    if hasattr(frame_of(params), "columns") or isinstance(params, Mapping):
        if tokens is not None:
            raise ScalingLabError("pass either a runs table or params and tokens, not both")
        table = columns(params)
        return numeric(table, "params"), numeric(table, "tokens")
    if tokens is None:
        raise ScalingLabError("predict needs tokens, or a runs table with params and tokens columns")
    return params, tokens


#: The variables a one-variable law may be fitted over when given a runs table.
VARIABLES = ("params", "tokens", "flops")


def one_variable(data=None, *, variable=None, x=None, y=None, loss=None, variables=VARIABLES):
    """(x, y, variable) for a one-variable law, from a runs table or ``x=`` and ``y=``/``loss=`` arrays.

    With a table the target is its ``loss`` column and ``variable`` names x (it may be left out when
    the table has exactly one of ``variables``); ``variable`` is None for plain arrays.
    """
    if y is not None and loss is not None:
        raise ScalingLabError("pass the target as y= or loss=, not both")
    target = y if y is not None else loss
    if data is None:
        if variable is not None:
            raise ScalingLabError("variable= names a column of a runs table; with arrays pass x= and y=")
        if x is None or target is None:
            raise ScalingLabError("a one-variable law fits a runs table (with variable= one of "
                                  f"{', '.join(variables)}) or x= and y= arrays")
        return np.asarray(x), np.asarray(target), None
    if x is not None or target is not None:
        raise ScalingLabError("pass either a runs table or x and y arrays, not both")
    table = columns(data)
    if variable is None:
        present = [v for v in variables if v in table]
        if len(present) != 1:
            raise ScalingLabError("a one-variable law fitted to a runs table needs variable= one of "
                                  f"{', '.join(variables)} (the table has {', '.join(present) or 'none of them'})")
        variable = present[0]
    if variable not in variables:
        raise ScalingLabError(f"variable must be one of {', '.join(variables)}, got {variable!r}")
    for col in (variable, "loss"):
        if col not in table:
            raise ScalingLabError(f"the runs table has no {col!r} column")
    return numeric(table, variable), numeric(table, "loss"), variable
