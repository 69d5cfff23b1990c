"""`scalinglab count`, `plan` and `hardware`: the CLI contract and the published anchors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clihelp import run_json
from scalinglab.cli import main

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_plan_llama65b(capsys):
    # The acceptance example: LLaMA-65B, 1.4T tokens, 2048 A100-80GB at MFU 0.476 →
    # ~1.02M GPU-hours (LLaMA §2.4 reports 1,022,362) and ~21 days.
    out = run_json(capsys, "plan", "--params", "65B", "--tokens", "1.4T", "--gpu", "A100-80GB",
                   "--gpus", "2048", "--mfu", "0.476")
    assert out["gpu_hours"] == pytest.approx(1.02e6, rel=0.01)
    assert out["wall_clock_days"] == pytest.approx(21, abs=0.5)
    for key in ("params", "tokens", "flops", "pf_days", "gpu_hours", "wall_clock_days", "cost_usd", "mfu",
                "memory_per_gpu"):
        assert key in out
    assert out["params"] == 65e9 and out["tokens"] == 1.4e12 and out["gpu"] == "A100-80GB"


def test_plan_memory_and_overrides(capsys):
    out = run_json(capsys, "plan", "--params", "7B", "--tokens", "2T", "--gpu", "H100", "--gpus", "64",
                   "--zero", "3", "--layers", "32", "--d-model", "4096", "--seq", "4096",
                   "--recompute", "selective", "--price", "2")
    mem = out["memory_per_gpu"]
    assert mem["zero"] == 3 and mem["dp"] == 64
    assert mem["model_states_bytes"] == pytest.approx(16 * 7e9 / 64)
    assert mem["activations_bytes"] > 0 and mem["fits"] is True
    assert out["cost_usd"] == pytest.approx(out["gpu_hours"] * 2)
    custom = run_json(capsys, "plan", "--params", "7B", "--tokens", "2T", "--gpu", "H100",
                      "--peak-tflops", "500", "--memory-gb", "40")
    assert custom["peak_flops_per_s"] == 500e12
    assert custom["gpu_hours"] == pytest.approx(6 * 7e9 * 2e12 / (500e12 * 0.4) / 3600)
    assert custom["memory_per_gpu"]["capacity_bytes"] == 40e9


def test_plan_from_compute(capsys):
    out = run_json(capsys, "plan", "--compute", "5.88e23", "--gpu", "A100", "--gpus", "1024")
    assert out["flops"] == 5.88e23 and out["params"] is None and out["memory_per_gpu"] is None
    assert out["gpu_hours"] == pytest.approx(5.88e23 / (312e12 * 0.4) / 3600)
    both = run_json(capsys, "plan", "--compute", "5.88e23", "--params", "70B", "--gpu", "A100")
    assert both["tokens"] == pytest.approx(1.4e12)  # the tokens that compute buys at 6N


def test_plan_catalog_file(capsys, tmp_path):
    path = tmp_path / "hw.toml"
    path.write_text('[accelerator.MyChip]\npeak_tflops = { bf16 = 100 }\nmemory_gb = 24\nbandwidth_gbs = 500\n')
    out = run_json(capsys, "plan", "--params", "1B", "--tokens", "20B", "--gpu", "mychip", "--catalog", str(path))
    assert out["gpu"] == "MyChip" and out["cost_usd"] is None
    assert out["gpu_hours"] == pytest.approx(6 * 1e9 * 20e9 / (100e12 * 0.4) / 3600)


def test_count_gpt2(capsys):
    # nanoGPT GPT-2 124M (no bias): 124,337,664 params; U4 874,944,921,600 and U5 875,062,886,400
    # FLOPs per 1024-token sequence; Kaplan N 84,934,656.
    out = run_json(capsys, "count", "--layers", "12", "--d-model", "768", "--heads", "12", "--vocab", "50257",
                   "--ctx", "1024")
    assert out["params"] == 124_337_664
    assert out["kaplan_params"] == out["approx_12ld2"] == 84_934_656
    assert out["flops_per_sequence"]["megatron"] == 874_944_921_600
    assert out["flops_per_sequence"]["palm"] == 875_062_886_400
    biased = run_json(capsys, "count", "--layers", "12", "--d-model", "768", "--bias")
    assert biased["params"] == 124_439_808


def test_count_gqa_options(capsys):
    out = run_json(capsys, "count", "--layers", "32", "--d-model", "4096", "--heads", "32", "--kv-heads", "8",
                   "--d-ff", "14336", "--gated", "--untied", "--rope", "--vocab", "128256", "--ctx", "8192")
    # Llama-3-8B: 8,030,261,248 parameters (the Hugging Face checkpoint count [R]; RMSNorm weights included).
    assert out["params"] == 8_030_261_248
    assert out["shape"]["n_kv_head"] == 8


def test_hardware(capsys):
    listing = run_json(capsys, "hardware")
    names = [a["name"] for a in listing["accelerators"]]
    assert {"H100-SXM", "A100-80GB", "TPUv6e", "MI300X"} <= set(names)
    h100 = run_json(capsys, "hardware", "h100")
    assert h100["name"] == "H100-SXM" and h100["peak_tflops"]["bf16"] == 989.4


@pytest.mark.parametrize(
    "argv",
    [
        ["plan", "--params", "7B", "--tokens", "2T", "--gpu", "A100", "--gpus", "64", "--layers", "32",
         "--d-model", "4096"],
        ["count", "--layers", "12", "--d-model", "768"],
        ["hardware"],
        ["hardware", "V100"],
    ],
)
def test_tables_render(capsys, argv):
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.strip() and not out.lstrip().startswith("{")


def test_planning_path_imports_no_torch_or_ray():
    # `import scalinglab; import scalinglab.cli` and a whole `plan` must not load torch or ray.
    code = (
        "import sys, io, contextlib\n"
        "import scalinglab, scalinglab.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    rc = scalinglab.cli.main(['plan', '--params', '7B', '--tokens', '2T', '--gpu', 'H100', '--json'])\n"
        "assert rc == 0, rc\n"
        "heavy = sorted(m for m in ('torch', 'ray', 'matplotlib', 'pandas') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = set(filter(None, result.stdout.strip().split(",")))
    assert "torch" not in loaded and "ray" not in loaded, loaded
