"""The notebooks in ``examples/`` execute from top to bottom without error (nbclient, no network).

Each notebook's numbers come from the library at run time; these tests also check a few printed
values against the published figures the notebooks cite, so a notebook that ran but printed
nonsense fails too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def execute(name: str, timeout: int = 600):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(EXAMPLES)}})
    client.execute()
    text = []
    images = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{name}: {out.get('ename')}: {out.get('evalue')}"
            if out.output_type == "stream":
                text.append(out.text)
            images += "image/png" in out.get("data", {})
    return "".join(text), images


def _number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, f"no match for {pattern!r}"
    return float(match.group(1).replace(",", ""))


def test_planning_notebook():
    text, images = execute("planning.ipynb")
    assert images >= 4
    # LLaMA-65B: 1,022,362 A100-80GB GPU-hours (Touvron et al. 2023, §2.4) at MFU 0.477.
    assert _number(r"planned: ([\d,]+) GPU-hours", text) == pytest.approx(1_022_362, rel=0.01)
    # Hoffmann rounded optimum at 1e24: 4.130e10 params, 4.036e12 tokens (Hoffmann Eq. 4 closed
    # form [C]).
    assert _number(r"hoffmann2022\s+([\d.e+]+)", text) == pytest.approx(4.13e10, rel=1e-3)


def test_physics_of_scale_notebook(reference_dir, monkeypatch):
    # The notebook reads the Chinchilla runs from the reference folder (never copied into the repo).
    monkeypatch.setenv("SCALINGLAB_REFERENCE_DIR", str(reference_dir))
    text, images = execute("physics_of_scale.ipynb")
    assert images >= 3  # training curves, extrapolation, frontier
    # 12·L·d² is exact for the weight matrices (Kaplan et al. 2020 §2.1): 12·12·512² = 37,748,736.
    assert "weight matrices 37,748,736, 12·L·d² 37,748,736" in text
    # GPT-3 175B on 300B tokens is 3.15e23 FLOPs = 3,646 PF-days with 6ND (Brown et al. 2020 Table
    # D.1 lists 3.64e3 PF-days).
    assert _number(r"GPT-3 175B: \S+ FLOPs = ([\d,]+) PF-days", text) == pytest.approx(3640, rel=0.01)
    # The ladder trained for real: four runs, loss falling with size (a negative log-log slope).
    assert "trained 4 runs" in text and "failed: none" in text
    assert _number(r"log-log slope of loss against parameters: (-[\d.]+)", text) < 0
    # Fit below 3B, predict the ≥ 10B Chinchilla runs: a few percent off (Epoch's digitisation of
    # Chinchilla Fig. 4).
    assert _number(r"mean \|error\| ([\d.]+)%", text) < 5
    # Pearce & Song 2024: counting non-embedding parameters turns Chinchilla's ~0.46 into ~0.74.
    assert _number(r"non-embedding exponent ([\d.]+)", text) == pytest.approx(0.74, abs=0.03)
