"""Every CLI command × bad value: exit code 2, exactly one line on stderr, never a traceback.

Commands are discovered from the app, so a command another module has not registered yet is
skipped rather than failed; the cases below name the bad value each one must reject.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scalinglab.cli import build_app, main

SRC = str(Path(__file__).resolve().parents[2] / "src")

PLAN = ["plan", "--params", "7B", "--tokens", "1T", "--gpu", "H100"]
COUNT = ["count", "--layers", "12", "--d-model", "768"]


def _with(base, option, value):
    """``base`` with ``option`` set to ``value`` (replaced if present, appended otherwise)."""
    argv = list(base)
    if option in argv:
        argv[argv.index(option) + 1] = value
    else:
        argv += [option, value]
    return argv


CASES = [
    # (command, what is bad, argv)
    ("count", "negative", _with(COUNT, "--layers", "-12")),
    ("count", "zero", _with(COUNT, "--layers", "0")),
    ("count", "NaN", _with(COUNT, "--d-model", "nan")),
    ("count", "text", _with(COUNT, "--d-model", "wide")),
    ("count", "fraction", _with(COUNT, "--layers", "1.5")),
    ("count", "heads do not divide", _with(COUNT, "--heads", "7")),
    ("count", "kv heads do not divide", _with(COUNT, "--kv-heads", "5")),
    ("count", "missing option", ["count", "--layers", "12"]),
    ("count", "unknown option", [*COUNT, "--depth", "3"]),
    ("plan", "negative", _with(PLAN, "--params", "-7B")),
    ("plan", "zero", _with(PLAN, "--tokens", "0")),
    ("plan", "NaN", _with(PLAN, "--mfu", "nan")),
    ("plan", "MFU above 1", _with(PLAN, "--mfu", "40")),
    ("plan", "text", _with(PLAN, "--gpus", "many")),
    ("plan", "fraction of a GPU", _with(PLAN, "--gpus", "1.5")),
    ("plan", "unknown GPU", _with(PLAN, "--gpu", "H1000")),
    ("plan", "dtype the GPU lacks", [*_with(PLAN, "--gpu", "V100"), "--dtype", "bf16"]),
    ("plan", "unknown dtype", _with(PLAN, "--dtype", "fp12")),
    ("plan", "ZeRO stage", _with(PLAN, "--zero", "4")),
    ("plan", "recompute", _with(PLAN, "--recompute", "some")),
    ("plan", "unknown convention", _with(PLAN, "--convention", "7N")),
    ("plan", "negative price", _with(PLAN, "--price", "-2")),
    ("plan", "inf peak", _with(PLAN, "--peak-tflops", "inf")),
    ("plan", "missing tokens", ["plan", "--params", "7B"]),
    ("plan", "layers without width", [*PLAN, "--layers", "12"]),
    ("plan", "missing catalog", [*PLAN, "--catalog", "/nonexistent/hw.toml"]),
    ("hardware", "unknown GPU", ["hardware", "H1000"]),
    ("hardware", "missing catalog", ["hardware", "--catalog", "/nonexistent/hw.toml"]),
    # Commands of the laws module, when registered (ARCHITECTURE.md CLI contract).
    ("predict", "negative", ["predict", "--params", "-70B", "--tokens", "1.4T"]),
    ("predict", "NaN", ["predict", "--params", "70B", "--tokens", "nan"]),
    ("predict", "text", ["predict", "--params", "big", "--tokens", "1.4T"]),
    ("predict", "unknown law", ["predict", "--params", "70B", "--tokens", "1.4T", "--law", "nope2099"]),
    ("optimal", "zero", ["optimal", "--compute", "0"]),
    ("optimal", "negative", ["optimal", "--compute", "-1e24"]),
    ("optimal", "text", ["optimal", "--compute", "lots"]),
    ("optimal", "unknown law", ["optimal", "--compute", "1e24", "--law", "nope2099"]),
    ("laws", "unexpected argument", ["laws", "nope2099", "extra"]),
]


def _registered() -> set[str]:
    app = build_app()
    names = set()
    for command in app.registered_commands:
        names.add(command.name or command.callback.__name__.replace("_", "-"))
    return names


REGISTERED = _registered()


@pytest.mark.parametrize(("command", "bad", "argv"), CASES, ids=[f"{c}-{b}" for c, b, _ in CASES])
def test_bad_input_exits_2_with_one_line(command, bad, argv, capsys):
    if command not in REGISTERED:
        pytest.skip(f"command {command!r} is not registered")
    for as_json in (False, True):
        code = main([*argv, "--json"] if as_json else argv)
        captured = capsys.readouterr()
        assert code == 2, (bad, captured.err)
        lines = captured.err.strip("\n").split("\n")
        assert len(lines) == 1 and lines[0].strip(), captured.err
        assert "Traceback" not in captured.err + captured.out
        assert captured.out == ""  # nothing half-printed on stdout


def test_bad_input_in_a_real_process():
    # One end-to-end case through the interpreter: the exit status and stderr a shell sees.
    code = "import sys; from scalinglab.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run(
        [sys.executable, "-c", code, *_with(PLAN, "--gpu", "H1000"), "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "H1000" in result.stderr and "Traceback" not in result.stderr
