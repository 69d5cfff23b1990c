"""``scalinglab emergence / data / compare / explain-gap``: one JSON object with ``--json``, the
published numbers inside it (TEST_VECTORS §D), and one line + exit code 2 for every bad input."""

import numpy as np
import pytest

from clihelp import run, run_json
from scalinglab.cli.beyond import optimal_extras
from scalinglab.errors import ScalingLabError
from scalinglab.laws.downstream import SigmoidAccuracyLaw


def test_emergence_json(capsys):
    # L27 / Wei Table 1: at 3.1e23 FLOPs GPT-3 175B's MMLU (57 topics) has emerged; the next
    # thresholds above are Gopher/Chinchilla at 5.0e23.
    out = run_json(capsys, "emergence", "--flops", "3.1e23")
    emerged = {r["ability"] for r in out["emerged"]}
    assert "MMLU (57-topic avg.)" in emerged
    assert out["next"][0]["flops"] == 5.0e23
    assert "Schaeffer" in out["caveat"]
    by_n = run_json(capsys, "emergence", "--params", "40M")
    assert [r["row"] for r in by_n["emerged"]] == [12]
    table = run_json(capsys, "emergence")
    assert len(table["rows"]) == 23
    task = run_json(capsys, "emergence", "--task", "WiC")
    assert task["task"][0]["flops"] == 2.5e24 and task["task"][0]["model"] == "PaLM"


def test_emergence_downstream_json(capsys):
    # L29: Err17(L = 3.0) = 0.5984 with Gadre's RPJ constants; L(1.4e9, 28e9 tokens) = 2.7728.
    out = run_json(capsys, "emergence", "--loss", "3.0")
    assert out["downstream"]["top1_error_17_tasks"] == pytest.approx(0.5984, abs=1e-4)
    out = run_json(capsys, "emergence", "--params", "1.4B", "--tokens", "28B")
    assert out["predicted_c4_loss"] == pytest.approx(2.7728, abs=1e-4)
    assert out["downstream"]["loss"] == out["predicted_c4_loss"]


def test_emergence_fit_file(capsys, tmp_path):
    # The user's own (task loss, accuracy) pairs, here drawn from a known OLMo-ladder sigmoid;
    # the fit returns it and predicts at --loss.
    truth = SigmoidAccuracyLaw(a=-0.7, L0=1.0, k=6.0, b=0.96)
    loss = np.linspace(0.5, 1.6, 12)
    path = tmp_path / "pairs.csv"
    path.write_text("loss,accuracy\n" + "".join(f"{x},{truth.predict(x)}\n" for x in loss))
    out = run_json(capsys, "emergence", "--fit", str(path), "--loss", "1.1")
    assert out["fit"]["L0"] == pytest.approx(1.0, abs=1e-4)
    assert out["fit"]["k"] == pytest.approx(6.0, rel=1e-3)
    assert out["fit"]["accuracy_at_loss"] == pytest.approx(truth.predict(1.1), abs=1e-5)
    assert "downstream" not in out  # --loss is a task loss here, not Gadre's C4 loss
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    code, text, err = run(capsys, "emergence", "--fit", str(bad), "--json")
    assert code == 2 and "columns" in err and text == ""


def test_optimal_extras_for_the_optimal_command():
    # What `optimal --inference-tokens / --unique-tokens` adds (wired in cli/laws_cmds.py).
    extras = optimal_extras("hoffmann2022", 1e22, inference_tokens=0, unique_tokens=25e9)
    ia = extras["inference_aware"]
    assert ia["params"] == pytest.approx(ia["chinchilla"]["params"], rel=1e-6)  # L30 invariance
    dc = extras["data_constrained"]
    assert extras["epochs"] == dc["epochs"] > 1
    assert "extrapolation" in dc["source"]
    # No repetition needed: no top-level epochs.
    assert "epochs" not in optimal_extras("hoffmann2022", 1e22, unique_tokens=1e14)
    for bad in (dict(inference_tokens=-1), dict(unique_tokens=6e14), dict(unique_tokens=0)):
        with pytest.raises(ScalingLabError):
            optimal_extras("hoffmann2022", 1e22, **bad)
    with pytest.raises(ScalingLabError):
        optimal_extras("kaplan2020", 1e22, inference_tokens=1e12)


def test_data_json(capsys):
    # The law's optimum, not a fixed 20: Hoffmann rounded at N = 3.219e10 gives D = 2.982e12 (L8).
    out = run_json(capsys, "data", "--params", "32.19B", "--law", "hoffmann2022")
    assert out["regimes"][0]["tokens"] == pytest.approx(2.982e12, rel=1e-3)
    assert any(c["key"] == "fineweb" and c["tokens"] == 15e12 for c in out["corpora"])
    assert out["stock"]["indexed_web_tokens"] == 510e12
    # With a unique-token limit: epochs and the Muennighoff price; with --compute also the
    # data-constrained optimum (L18: C 1e22, U 25B -> N 7,022,364,735).
    out = run_json(capsys, "data", "--compute", "1e22", "--unique-tokens", "25B")
    assert out["data_constrained_optimum"]["params"] == pytest.approx(7_022_364_735, rel=1e-9)
    assert out["data_constrained_optimum"]["epochs"] == pytest.approx(9.4935, abs=1e-4)
    assert all("repetition" in r for r in out["regimes"])
    out = run_json(capsys, "data", "--params", "7B", "--corpus", "dolma")
    assert out["unique_tokens"] == 3.08e12 and out["corpus"]["key"] == "dolma"


def test_compare_json(capsys):
    out = run_json(capsys, "compare", "--compute", "1e22", "--experts", "32", "--bits", "16,4",
                   "--inference-tokens", "0")
    assert out["moe"][1]["active_params"] == pytest.approx(12.3e9, rel=0.01)  # L22
    assert [r["bits"] for r in out["quantized"]["rows"]] == [16, 4]
    ia = out["inference_aware"]  # D_inf = 0 returns the Chinchilla optimum (L30 invariance)
    assert ia["params"] == pytest.approx(ia["chinchilla"]["params"], rel=1e-6)


def test_explain_gap_json_and_plot(capsys, tmp_path):
    png = tmp_path / "gap.png"
    out = run_json(capsys, "explain-gap", "--plot", str(png))
    assert 0.73 <= out["non_embedding_exponent"] <= 0.79
    assert 0.45 <= out["total_exponent"] <= 0.52
    assert out["plot"] == str(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run_ = out["runs"][0]
    assert run_["local_exponent"]["1e+06"] == pytest.approx(0.965, abs=1e-3)  # L15
    code, text, err = run(capsys, "explain-gap")
    assert code == 0 and "Porian" in text


@pytest.mark.parametrize("argv, needle", [
    (("emergence", "--params", "-5"), "negative"),
    (("emergence", "--flops", "0"), "greater than zero"),
    (("emergence", "--params", "7B", "--flops", "1e22"), "not both"),
    (("emergence", "--task", "telepathy"), "unknown task"),
    (("emergence", "--loss", "3", "--training-data", "pile"), "unknown training data"),
    (("emergence", "--tokens", "1T"), "--tokens needs --params"),
    (("emergence", "--loss", "1.0"), "leaves its range"),
    (("emergence", "--fit", "/nonexistent/pairs.csv"), "cannot read"),
    (("data", "--params", "-70B"), "negative"),
    (("data",), "exactly one"),
    (("data", "--params", "7B", "--unique-tokens", "1e16"), "stock"),
    (("data", "--compute", "1e22", "--unique-tokens", "600T"), "stock"),
    (("data", "--params", "7B", "--corpus", "nope"), "unknown corpus"),
    (("data", "--params", "7B", "--law", "nope"), "unknown law"),
    (("data", "--params", "7B", "--overtrain", "2,x"), "--overtrain"),
    (("compare", "--compute", "-1e22"), "negative"),
    (("compare", "--compute", "1e22", "--inference-tokens", "-1"), "negative"),
    (("compare", "--compute", "1e22", "--experts", "0.5"), "at least 1"),
    (("compare", "--compute", "1e22", "--gpu", "abacus"), "unknown accelerator"),
    (("compare", "--compute", "1e22", "--law", "kaplan2020"), "Chinchilla form"),
    (("compare",), "--compute"),
    (("explain-gap", "--laws", "nope"), "unknown law"),
    (("explain-gap", "--laws", ","), "at least one"),
])
def test_bad_input_one_line_exit_2(capsys, argv, needle):
    for extra in (("--json",), ()):
        code, out, err = run(capsys, *argv, *extra)
        assert code == 2
        assert out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0] and "Traceback" not in err


def test_defaults_follow_the_project_default_law(capsys):
    from scalinglab.laws.registry import DEFAULT_LAW

    assert run_json(capsys, "data", "--params", "7B")["law"] == DEFAULT_LAW
    assert run_json(capsys, "compare", "--compute", "1e22")["quantized"]["law"] == DEFAULT_LAW
