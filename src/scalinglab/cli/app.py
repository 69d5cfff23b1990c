"""The shared Typer app and the helpers every command uses to speak Rich or JSON."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from typing import Any

import typer

from scalinglab.errors import ScalingLabError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Plan, predict, fit and measure language-model scaling laws.",
    context_settings={"help_option_names": ["-h", "--help"]},
)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object instead of tables.")


def _plain(value: Any) -> Any:
    """Make ``value`` JSON-safe: numpy scalars/arrays to Python, dataclasses via ``as_dict``."""
    if hasattr(value, "as_dict"):
        return _plain(value.as_dict())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalar or array
        return _plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        # Never emit NaN/inf silently: JSON has no such values, and a NaN answer is a bug.
        raise RuntimeError(f"internal error: non-finite number {value!r} in output")
    return value


def emit(payload: dict, as_json: bool, render: Callable[[], None] | None = None) -> None:
    """Print ``payload`` as one JSON object (``--json``) or call ``render`` to draw it with Rich."""
    if as_json or render is None:
        sys.stdout.write(json.dumps(_plain(payload), indent=2, allow_nan=False) + "\n")
    else:
        render()


#: Width of the tables when stdout is a pipe or a file and COLUMNS is not set. Rich would use 80
#: columns there (or the width of the terminal the command was started from) and squash a wide
#: table, cutting its numbers to "2.00…"; a file or ``less`` has no such limit, and 120 columns
#: hold the widest tables (``compare``, ``data``, ``explain-gap``) whole.
PIPED_WIDTH = 120


def console_width() -> int | None:
    """The width to draw tables at: ``None`` (Rich's own choice: the terminal's width) on a
    terminal, ``COLUMNS`` when set, :data:`PIPED_WIDTH` when writing to a pipe or a file."""
    import os

    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    isatty = getattr(sys.stdout, "isatty", None)
    if isatty is not None and isatty():
        return None
    return PIPED_WIDTH


def console():
    """A Rich console on stdout, :func:`console_width` wide (imported lazily: rich costs startup time)."""
    from rich.console import Console

    return Console(width=console_width())


def number(text: str, name: str, **kwargs) -> float:
    """Parse a human number from an option (``70B``, ``1.4T``, ``3e23``) or raise ScalingLabError."""
    from scalinglab.core.numbers import parse_number

    return parse_number(text, name=name, **kwargs)


def price_per_hour(text: str | None, name: str = "--price") -> float | None:
    """Parse a price in USD per GPU-hour, or ``None`` (use the catalog's default).

    0 is a real answer (hardware you own: "just tell me the time") and costs $0; negatives,
    NaN and inf raise ScalingLabError.
    """
    return None if text is None else number(text, name, allow_zero=True)


def fraction(text: str, name: str) -> float:
    """Parse a fraction in (0, 1], such as an MFU."""
    from scalinglab.core.numbers import parse_number

    value = parse_number(text, name=name)
    if value > 1:
        raise ScalingLabError(f"{name}: must be a fraction in (0, 1], got {text}")
    return value


def figure_path(path: str, name: str = "--plot") -> str:
    """Check a figure file name before any work is done: not a folder, a format matplotlib writes
    (from the extension, which matplotlib would otherwise silently add), a folder that exists."""
    from pathlib import Path

    from matplotlib.backend_bases import FigureCanvasBase

    target = Path(path)
    if target.is_dir():
        raise ScalingLabError(f"{name}: {path!r} is a folder; give a file name such as {str(target / 'figure.png')!r}")
    formats = FigureCanvasBase.get_supported_filetypes()
    suffix = target.suffix.lower().lstrip(".")
    if suffix not in formats:
        raise ScalingLabError(f"{name}: {path!r} needs a figure extension: .png, .pdf, .svg "
                              f"(or {', '.join('.' + f for f in sorted(formats) if f not in ('png', 'pdf', 'svg'))})")
    if not target.parent.is_dir():
        raise ScalingLabError(f"{name}: cannot write {path!r}: folder {str(target.parent)!r} does not exist")
    return path


def save_figure(fig, path: str, name: str = "--plot", **kwargs) -> str:
    """``fig.savefig(path)`` after :func:`figure_path`; an unwritable path is a user mistake."""
    figure_path(path, name)
    try:
        fig.savefig(path, **kwargs)
    except (OSError, ValueError) as exc:
        raise ScalingLabError(f"{name}: cannot write {path!r}: {getattr(exc, 'strerror', None) or exc}") from None
    return path
