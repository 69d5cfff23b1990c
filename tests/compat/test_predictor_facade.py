"""The seed's ``ScalingLawPredictor`` (``../shared/seeds/000_*.txt`` §1) with correct numbers.

The seed's usage code must run unchanged but for the import; its printed numbers must be the
published ones (TEST_VECTORS §D), not the seed's invented formulas.
"""

import re
from pathlib import Path

import pytest

from scalinglab import ScalingLawPredictor
from scalinglab.errors import ScalingLabError

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"

# Verbatim from the seed's section 1 "# Usage" block, minus nothing: it needs only the class.
SEED_USAGE = """
# Usage
predictor = ScalingLawPredictor(law_type='chinchilla')

# Example: 1e24 FLOPs budget
compute_budget = 1e24
configs = predictor.compare_configurations(compute_budget)

for config in configs:
    print(f"{config['name']}:")
    print(f"  Parameters: {config['params']/1e9:.1f}B")
    print(f"  Tokens: {config['tokens']/1e9:.1f}B")
    print(f"  Predicted loss: {config['loss']:.4f}")
"""


def _seed_usage_from_file():
    """The usage block as it stands in the seed document, when the seed is available."""
    paths = sorted(SEEDS.glob("000_*.txt"))
    if not paths:
        pytest.skip(f"seed 000 not found under {SEEDS}")
    text = paths[0].read_text()
    match = re.search(r"(# Usage\npredictor = ScalingLawPredictor.*?)```", text, re.S)
    assert match, "usage block of ScalingLawPredictor not found in the seed"
    return match.group(1)


def _printed_rows(output: str) -> dict:
    rows, name = {}, None
    for line in output.splitlines():
        if not line.startswith(" ") and line.endswith(":"):
            name = line[:-1]
            rows[name] = {}
        elif (match := re.match(r"\s+(Parameters|Tokens|Predicted loss): ([0-9.]+)", line)):
            rows[name][match.group(1)] = float(match.group(2))
    return rows


def _check_seed_output(output: str):
    rows = _printed_rows(output)
    optimal = rows["Compute-optimal"]
    # L8: Hoffmann rounded optimum at 1e24: N 4.130e10 -> "41.3B", D 4.036e12 (rel 1e-3).
    assert optimal["Parameters"] == 41.3
    assert optimal["Tokens"] == pytest.approx(4036, rel=1e-3)
    # Kaplan-style: 300B tokens (GPT-3), N = 1e24/(6·300e9) = 555.6B.
    kaplan = rows["Kaplan-style (300B tokens)"]
    assert kaplan["Tokens"] == 300.0 and kaplan["Parameters"] == 555.6
    # The compute-optimal configuration has the lowest predicted loss under Eq. 10.
    assert min(row["Predicted loss"] for row in rows.values()) == optimal["Predicted loss"]
    assert len(rows) == 4


def test_seed_usage_runs_and_prints_published_numbers(capsys):
    exec(compile(SEED_USAGE, "seed_usage", "exec"), {"ScalingLawPredictor": ScalingLawPredictor})
    _check_seed_output(capsys.readouterr().out)


def test_seed_usage_from_the_seed_file_itself(capsys):
    exec(compile(_seed_usage_from_file(), "seed_000", "exec"), {"ScalingLawPredictor": ScalingLawPredictor})
    _check_seed_output(capsys.readouterr().out)


def test_predict_loss_chinchilla_L9():
    # L9: Hoffmann rounded L(70e9, 1.4e12) = 1.9366 (the seed printed (6ND)^-0.05 = 0.064).
    assert ScalingLawPredictor().predict_loss(70e9, 1.4e12) == pytest.approx(1.9366, abs=1e-4)


def test_predict_loss_kaplan_L3():
    # L3: Kaplan Eq. 4.1, Table 2 joint fit: L(N = 1e9 non-embedding, D = 2e10) = 2.37388.
    predictor = ScalingLawPredictor(law_type="kaplan")
    assert predictor.predict_loss(1e9, 2e10) == pytest.approx(2.37388, abs=1e-5)


def test_compute_optimal_allocation_L8_L13():
    # L8: Hoffmann rounded at 1e24 -> (4.130e10, 4.036e12), ~98 tokens/param, not the seed's 20.
    params, tokens = ScalingLawPredictor("chinchilla").compute_optimal_allocation(1e24)
    assert params == pytest.approx(4.130e10, rel=1e-3)
    assert tokens == pytest.approx(4.036e12, rel=1e-3)
    # L13: Epoch MLE at 1e24 -> (9.601e10, 1.736e12), about 18 tokens/param.
    params, tokens = ScalingLawPredictor("epoch2024").compute_optimal_allocation(1e24)
    assert params == pytest.approx(9.601e10, rel=1e-3)
    assert tokens == pytest.approx(1.736e12, rel=1e-3)


def test_compare_configurations_keys_are_the_seeds():
    rows = ScalingLawPredictor().compare_configurations(1e24)
    for row in rows:
        assert {"name", "params", "tokens", "loss"} <= set(row)
        assert 6 * row["params"] * row["tokens"] == pytest.approx(1e24, rel=1e-12)


def test_unknown_law_type_is_a_clear_error():
    with pytest.raises(ScalingLabError, match="known laws"):
        ScalingLawPredictor(law_type="gpt4")
