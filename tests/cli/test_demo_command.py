"""``scalinglab demo --json``: the real pipeline (train on the default corpus, fit, predict, plan).

The demo's budgets are shrunk here (the real ones take minutes; ``make demo`` runs them) so that
the test trains 9 tiny byte-level models in seconds; everything else is the real demo: the local
executor, the default corpus, the fits, the extrapolation check and the worked 1e24-FLOP plan.
"""

import json

import pytest

from scalinglab.cli import main


def test_demo_json_carries_prediction_and_measurement(tmp_path, capsys, monkeypatch):
    import scalinglab.cli.demo as demo

    monkeypatch.setattr(demo, "DEMO_BUDGETS", (1.5e10, 3e10, 6e10))
    monkeypatch.setattr(demo, "DEMO_SIZES_PER_BUDGET", 4)
    code = main(["demo", "--json", "--out", str(tmp_path / "demo"), "--target-compute", "1e13",
                 "--no-report"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    payload = json.loads(captured.out)  # exactly one JSON object on stdout
    assert payload["execution"]["failed"] == {}
    planned = payload["design"]["runs"]
    assert payload["execution"]["trained"] == planned >= 9
    held = payload["held_out"]
    assert len(held) >= 3 and all(r["budget"] == 6e10 for r in held)
    assert payload["predicted_loss"] == [r["predicted_loss"] for r in held]
    assert payload["actual_loss"] == [r["actual_loss"] for r in held]
    # a byte-level model's loss lies between a perfect model and uniform guessing, ln 256
    assert all(0 < loss < 5.546 for loss in payload["actual_loss"] + payload["predicted_loss"])
    assert payload["fits"]["approach3"] is not None or any("Approach 3" in n for n in payload["notes"])
    assert {row["law"] for row in payload["plan"]["laws"]} >= {"hoffmann2022", "epoch2024"}
    assert payload["plan"]["flops"] == pytest.approx(1e13)
    assert payload["worked_plan"]["flops"] == pytest.approx(1e24)
    # a second demo resumes: nothing is trained again
    code = main(["demo", "--json", "--out", str(tmp_path / "demo"), "--target-compute", "1e13",
                 "--no-report"])
    again = json.loads(capsys.readouterr().out)
    assert code == 0 and again["execution"]["trained"] == 0 and again["execution"]["skipped"] == planned
    assert again["actual_loss"] == payload["actual_loss"]
