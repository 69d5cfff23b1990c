"""The ``scalinglab`` command line: a thin shell over the Python API.

Each command parses its options, calls one library function and renders the answer either as Rich
tables or, with ``--json``, as exactly one JSON object on stdout. A user mistake
(:class:`~scalinglab.errors.ScalingLabError` or a bad option) is printed as one line on stderr
with exit code 2, never a traceback.

Commands live in small modules (``cli/planning.py``, ``cli/fitting.py``, ...) that register on the
shared Typer ``app`` in :mod:`scalinglab.cli.app`; heavy libraries are imported inside the command
functions so that ``scalinglab plan`` starts fast.
"""

from __future__ import annotations

import importlib
import sys

# Modules that register commands on the app. Each imports only light modules at import time.
COMMAND_MODULES = (
    "scalinglab.cli.planning",
    "scalinglab.cli.laws_cmds",
    "scalinglab.cli.fitting",
    "scalinglab.cli.training",
    "scalinglab.cli.sweeping",
    "scalinglab.cli.beyond",
    "scalinglab.cli.reporting",
    "scalinglab.cli.demo",
)


def build_app():
    """Return the Typer app with every available command registered."""
    from scalinglab.cli.app import app

    for name in COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # A command module not written yet is simply absent; any other missing module is a bug.
            if exc.name != name:
                raise
    return app


def _click_exceptions(name: str) -> tuple:
    """Exception class ``name`` from click and from Typer's vendored copy of click (Typer >= 0.28
    raises its own ``typer._click.exceptions`` classes, which do not subclass click's). Either
    may be absent, depending on the installed Typer."""
    types = []
    try:
        import click
    except ImportError:
        click = None
    if click is not None:
        types.append(getattr(click.exceptions, name))
    try:
        from typer._click import exceptions as vendored
    except ImportError:
        vendored = None
    if vendored is not None and hasattr(vendored, name):
        types.append(getattr(vendored, name))
    return tuple(types)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``scalinglab`` script; returns the process exit code."""
    from scalinglab.errors import ScalingLabError

    app = build_app()
    try:
        app(args=argv, prog_name="scalinglab", standalone_mode=False)
    except ScalingLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except _click_exceptions("UsageError") as exc:
        # Typer/click would print a multi-line box; a user mistake gets one line.
        message = exc.format_message().replace("\n", " ")
        print(f"error: {message}", file=sys.stderr)
        return 2
    except _click_exceptions("Exit") as exc:
        return exc.exit_code
    except _click_exceptions("Abort"):
        print("aborted", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def entry() -> None:  # pragma: no cover - console-script shim
    sys.exit(main())
