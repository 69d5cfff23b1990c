"""Approach 2 (IsoFLOP profiles) and Approach 1 (envelope): synthetic recovery of a = β/(α+β)."""

import numpy as np
import pandas as pd
import pytest

from scalinglab.errors import ScalingLabError
from scalinglab.fit.envelope import EnvelopeFit
from scalinglab.fit.isoflop import IsoFLOPFit, group_budgets
from scalinglab.laws.chinchilla import ParametricLaw

# Epoch's MLE constants (Besiroglu et al. 2024): a = 0.51264 (TEST_VECTORS L13).
TRUTH = ParametricLaw(E=1.8168640, A=482.0057174, B=2085.4342006, alpha=0.34781303, beta=0.36585412)


def _isoflop_runs(noise, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for c in np.geomspace(6e18, 3e21, 9):  # Hoffmann's 9 budgets (Hoffmann et al. 2022 §3.2)
        opt = TRUTH.optimum(c).params
        for f in np.geomspace(1 / 4, 4, 9):
            n = opt * f
            d = c / (6 * n)
            rows.append((n, d, c, TRUTH.predict(n, d) * np.exp(rng.normal(0, noise))))
    return pd.DataFrame(rows, columns=["params", "tokens", "flops", "loss"])


def test_isoflop_recovers_allocation_exponent():
    assert TRUTH.a == pytest.approx(0.51264, abs=1e-5)  # TEST_VECTORS L13
    fit = IsoFLOPFit().fit(_isoflop_runs(0.0))
    # Parabolas in log N approximate the true profile: the vertices sit near N_opt(C).
    assert fit.a_ == pytest.approx(TRUTH.a, abs=0.01)
    assert fit.a_ + fit.b_ == pytest.approx(1.0, abs=1e-9)
    for p in fit.profiles_:
        assert p.params_opt == pytest.approx(TRUTH.optimum(p.flops).params, rel=0.1)
    noisy = IsoFLOPFit().fit(_isoflop_runs(0.003))
    lo, hi = noisy.a_interval_
    assert lo < TRUTH.a < hi and noisy.a_ == pytest.approx(TRUTH.a, abs=0.03)


def test_isoflop_flags_and_errors():
    runs = _isoflop_runs(0.0)
    few = runs.groupby("flops").head(2)  # 2 sizes per budget: no parabola anywhere
    with pytest.raises(ScalingLabError, match="at least 2 usable"):
        IsoFLOPFit().fit(few)
    assert list(group_budgets([1e20, 1.01e20, 2e20, 2.02e20])) == [0, 0, 1, 1]


def _curves(sizes):
    rows = []
    for i, n in enumerate(sizes):
        for d in np.geomspace(1e8, 1e12, 80):
            rows.append((f"r{i}", n, d, TRUTH.predict(n, d)))
    return pd.DataFrame(rows, columns=["run_id", "params", "tokens", "loss"])


def test_envelope_recovers_allocation_exponent():
    # Curves of 20 sizes from the known law: the min-loss envelope over FLOPs picks N_opt(C).
    fit = EnvelopeFit(n_bootstrap=50).fit(_curves(np.geomspace(3e7, 3e10, 20)))
    assert fit.a_ == pytest.approx(TRUTH.a, abs=0.02)
    assert fit.b_ == pytest.approx(1 - TRUTH.a, abs=0.02)
    lo, hi = fit.a_interval_
    assert lo <= fit.a_ + 0.02 and hi >= fit.a_ - 0.02


def test_envelope_needs_curves():
    with pytest.raises(ScalingLabError, match="run_id"):
        EnvelopeFit().fit(pd.DataFrame({"params": [1e8], "tokens": [1e9], "loss": [3.0]}))
    with pytest.raises(ScalingLabError, match="fewer than 2 model sizes"):
        EnvelopeFit().fit(_curves([1e8, 1e9]))
