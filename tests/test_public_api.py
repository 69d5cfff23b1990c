"""The names a notebook user imports: ``scalinglab.X`` and ``scalinglab.train.X``, all real objects."""

import subprocess
import sys

import pytest

import scalinglab


@pytest.mark.parametrize("name", scalinglab.__all__)
def test_every_top_level_name_resolves(name):
    assert getattr(scalinglab, name) is not None


def test_top_level_api_is_the_library_itself():
    from scalinglab.fit.parametric import ChinchillaFit
    from scalinglab.laws.registry import get_law

    assert scalinglab.ChinchillaFit is ChinchillaFit and scalinglab.get_law is get_law
    # The default law through the short path answers the same question with the same number.
    assert scalinglab.get_law("epoch2024").predict(70e9, 1.4e12) == get_law("epoch2024").predict(70e9, 1.4e12)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        scalinglab.nope  # noqa: B018


def test_importing_the_api_names_loads_no_torch_or_ray_until_training_is_touched():
    code = (
        "import sys, scalinglab\n"
        "from scalinglab import get_law, ChinchillaFit, train_plan, read_runs, TrainConfig, isoflop_design, run_sweep\n"
        "import scalinglab.train\n"
        "print(sorted(m for m in ('torch', 'ray') if m in sys.modules))\n"
        "from scalinglab.train import train, GPT\n"
        "print('torch' in sys.modules, callable(train), GPT.__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "True True GPT"
