"""``scalinglab emergence / data / compare / explain-gap``: one JSON object with ``--json``, the
published numbers inside it (TEST_VECTORS §D), and one line + exit code 2 for every bad input."""

import json

import pytest

from scalinglab.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)  # exactly one object: json.loads rejects trailing output


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


def test_data_json(capsys):
    # The law's optimum, not a fixed 20: Hoffmann rounded at N = 3.219e10 gives D = 2.982e12 (L8).
    out = run_json(capsys, "data", "--params", "32.19B")
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
    code, out, err = run(capsys, *argv, "--json")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
