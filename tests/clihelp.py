"""Helpers for the CLI tests: call ``scalinglab.cli.main`` in-process and capture what it prints."""

import json

from scalinglab.cli import main


def run(capsys, *argv):
    """``main(argv)``: (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    """``main([*argv, "--json"])`` must exit 0 and print exactly one JSON object; return it."""
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)  # exactly one object: json.loads rejects trailing output
