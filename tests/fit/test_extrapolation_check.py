"""The extrapolation check (fit below a threshold, predict above)."""

import numpy as np
import pandas as pd
import pytest

from scalinglab.errors import ScalingLabError
from scalinglab.fit.parametric import ChinchillaFit
from scalinglab.fit.powerlaw import SaturatingPowerLawFit
from scalinglab.fit.validate import extrapolation_check
from scalinglab.laws.chinchilla import ParametricLaw

TRUTH = ParametricLaw(E=1.8168640, A=482.0057174, B=2085.4342006, alpha=0.34781303, beta=0.36585412)


def _runs(noise=0.0):
    rng = np.random.default_rng(0)
    n = np.repeat(np.geomspace(5e7, 2e10, 10), 5)
    d = n * np.tile([5.0, 10.0, 20.0, 40.0, 80.0], 10)
    y = TRUTH.predict(n, d) * np.exp(rng.normal(0, noise, n.size))
    return pd.DataFrame({"params": n, "tokens": d, "flops": 6 * n * d, "loss": y})


def test_exact_law_extrapolates_exactly():
    runs = _runs()
    rep = extrapolation_check(ChinchillaFit(), runs, above=1e21)
    assert rep.n_train + len(rep.held_out) == len(runs)
    assert all(r.flops > 1e21 for r in rep.held_out)
    assert rep.mean_abs_rel_error < 1e-4 and rep.rmse_log < 1e-4


def test_noisy_errors_are_reported_per_run():
    runs = _runs(0.01)
    rep = extrapolation_check(ChinchillaFit(), runs, above=3e9, by="params")
    held = runs[runs["params"] > 3e9]
    assert len(rep.held_out) == len(held)
    errors = np.array([r.rel_error for r in rep.held_out])
    assert rep.mean_abs_rel_error == pytest.approx(np.mean(np.abs(errors)))
    assert 0 < rep.mean_abs_rel_error < 0.05
    d = rep.as_dict()
    assert d["n_test"] == len(held) and len(d["runs"]) == len(held)


def test_chinchilla_data_holdout(chinchilla_fig4_csv):
    # On the Epoch data, a law fitted below 1e21 FLOPs predicts the 23 larger runs to a few percent.
    from scalinglab.io import drop_highest_loss, read_runs

    runs = drop_highest_loss(read_runs(chinchilla_fig4_csv).runs, 5)
    rep = extrapolation_check(ChinchillaFit(), runs, above=1e21)
    assert len(rep.held_out) == int((runs["flops"] > 1e21).sum()) > 0
    assert rep.mean_abs_rel_error < 0.05


def test_one_variable_law_and_errors():
    runs = _runs()
    rep = extrapolation_check(SaturatingPowerLawFit(), runs, above=1e20, variable="flops")
    assert rep.held_out and np.isfinite(rep.rmse_log)
    with pytest.raises(ScalingLabError, match="variable="):
        extrapolation_check(SaturatingPowerLawFit(), runs, above=1e20)
    with pytest.raises(ScalingLabError, match="nothing to predict"):
        extrapolation_check(ChinchillaFit(), runs, above=1e30)
    with pytest.raises(ScalingLabError, match="nothing to fit"):
        extrapolation_check(ChinchillaFit(), runs, above=1.0)
    with pytest.raises(ScalingLabError, match="by must be"):
        extrapolation_check(ChinchillaFit(), runs, above=1e20, by="steps")
