"""Bootstrap intervals against Epoch's (Besiroglu et al. 2024 notebook cells 21-26, TEST_VECTORS
F5–F6)."""

import numpy as np
import pytest

from scalinglab.errors import ScalingLabError
from scalinglab.fit.bootstrap import bootstrap, draw_indices
from scalinglab.fit.parametric import ChinchillaFit

# Epoch's 95% CIs and bootstrap SEs (Besiroglu et al. 2024 notebook cells 25-26; TEST_VECTORS F5).
EPOCH_CI = {"E": (1.769, 1.871), "alpha": (0.317, 0.373), "beta": (0.331, 0.415),
            "A": (285.214, 743.626), "B": (1042.357, 5810.344)}
EPOCH_SE = {"E": 0.02566, "alpha": 0.01540, "beta": 0.02060, "A": 124.522, "B": 1293.284}
TEX_START = (6.0073404, 6.0179186, 0.5267228, 0.33917084, 0.2849083)  # TEST_VECTORS L10


@pytest.fixture(scope="module")
def fitted(epoch240):
    return ChinchillaFit().fit(epoch240)


@pytest.fixture(scope="module")
def boot(fitted, epoch240):
    return bootstrap(fitted, epoch240, n_resamples=1000, seed=0, workers=2, compute=5.88e23)


def test_intervals_overlap_epochs(boot):
    # Issue 3: bootstrap intervals overlap Epoch's. With a different random stream the SEs agree
    # within Monte-Carlo error (TEST_VECTORS F5: rel 10% on SEs), checked here at rel 15% for the
    # exponents and E with 1,000 resamples (MC error on an SE ≈ 1/sqrt(2·1000) ≈ 2%, plus the
    # heavier tails of A and B).
    assert boot.n_failed == 0
    for k, (lo, hi) in EPOCH_CI.items():
        mine = boot.interval(k)
        assert mine[0] < hi and lo < mine[1], k
        assert mine[0] == pytest.approx(lo, rel=0.1) and mine[1] == pytest.approx(hi, rel=0.15), k
    for k in ("E", "alpha", "beta"):
        assert boot.se(k) == pytest.approx(EPOCH_SE[k], rel=0.15), k


def test_allocation_exponent_and_tokens_per_param(boot):
    # TEST_VECTORS F6: a = 0.5126, SD 0.0200, 95% CI (0.4807, 0.5561) over Epoch's resamples
    # (abs 0.002 with the same stream; here another stream, so abs 0.01 on the ends).
    lo, hi = boot.interval("a")
    assert lo == pytest.approx(0.4807, abs=0.01) and hi == pytest.approx(0.5561, abs=0.015)
    assert boot.se("a") == pytest.approx(0.0200, rel=0.15)
    np.testing.assert_allclose(boot.samples["a"] + boot.samples["b"], 1.0, rtol=1e-12)
    # Besiroglu et al. 2024: at C = 5.88e23 the raw bootstrap gives tokens/param quantiles 9.9 /
    # 17.2 / 29.0
    # (10/50/90%).
    q10, q50, q90 = np.percentile(boot.samples["tokens_per_param"], [10, 50, 90])
    assert q10 == pytest.approx(9.9, rel=0.15)
    assert q50 == pytest.approx(17.2, rel=0.1)
    assert q90 == pytest.approx(29.0, rel=0.15)


def test_seeded_and_independent_of_workers(fitted, epoch240):
    one = fitted.bootstrap(12, seed=5, workers=1)  # resamples the runs fitted
    two = bootstrap(fitted, epoch240, n_resamples=12, seed=5, workers=2)
    np.testing.assert_allclose(one.samples["alpha"], two.samples["alpha"], rtol=1e-9)
    again = fitted.bootstrap(epoch240, n_resamples=12, seed=5, workers=1)  # the explicit-runs form
    np.testing.assert_array_equal(one.samples["alpha"], again.samples["alpha"])
    other = bootstrap(fitted, epoch240, n_resamples=12, seed=6, workers=1)
    assert not np.allclose(one.samples["alpha"], other.samples["alpha"])


def test_warm_start_matches_grid_refits(fitted, epoch240):
    # The warm start (full-data optimum) must land where the full 4,500-start grid lands.
    idx = draw_indices(len(epoch240), 3, seed=11)
    n, d, y = (epoch240[c].to_numpy() for c in ("params", "tokens", "loss"))
    for i in idx:
        warm = ChinchillaFit().fit(params=n[i], tokens=d[i], loss=y[i], start=fitted.law_)
        grid = ChinchillaFit().fit(params=n[i], tokens=d[i], loss=y[i])
        assert warm.objective_ == pytest.approx(grid.objective_, rel=1e-8)
        assert warm.law_.alpha == pytest.approx(grid.law_.alpha, rel=1e-5)


def test_legacy_stream_matches_numpy_choice():
    # Epoch's cell 21 draws np.random.choice(n, n) after np.random.seed(42).
    np.random.seed(42)
    expected = np.stack([np.random.choice(240, 240, replace=True) for _ in range(3)])
    np.testing.assert_array_equal(draw_indices(240, 3, seed=42, rng="legacy"), expected)


@pytest.mark.slow
def test_f5_epoch_bootstrap_reproduced(fitted, epoch240):
    # TEST_VECTORS F5/F6 with Epoch's own protocol: seed 42 legacy stream, 4,000 resamples, each
    # refitted from the Hoffmann unrounded start. SE: E 0.02566, alpha 0.01540, beta 0.02060;
    # a: 95% CI (0.4807, 0.5561), 80% CI (0.4913, 0.5428). The resamples are Epoch's own, but each
    # refit here runs to gtol 1e-10 where Epoch's BFGS stopped on precision loss, which moves the
    # tail percentiles slightly: abs 5e-4 on the a interval (F6 allows 1e-4 for the same optimiser).
    res = bootstrap(fitted, epoch240, n_resamples=4000, seed=42, workers=2, start=TEX_START, rng="legacy")
    assert res.se("E") == pytest.approx(0.02566, abs=2e-5)
    assert res.se("alpha") == pytest.approx(0.01540, abs=2e-5)
    assert res.se("beta") == pytest.approx(0.02060, abs=2e-5)
    assert res.interval("a") == pytest.approx((0.4807, 0.5561), abs=5e-4)
    assert res.interval("a", 0.8) == pytest.approx((0.4913, 0.5428), abs=5e-4)
    for k, (lo, hi) in EPOCH_CI.items():
        assert res.interval(k) == pytest.approx((lo, hi), rel=5e-3), k


def test_bad_arguments(fitted, epoch240):
    with pytest.raises(ScalingLabError, match="n_resamples"):
        bootstrap(fitted, epoch240, n_resamples=1)
    with pytest.raises(ScalingLabError, match="start"):
        bootstrap(fitted, epoch240, n_resamples=5, start="somewhere")
    with pytest.raises(ScalingLabError, match="compute"):
        bootstrap(fitted, epoch240, n_resamples=5, compute=float("nan"))
    with pytest.raises(ScalingLabError, match="level"):
        bootstrap(fitted, epoch240, n_resamples=3, workers=1).interval("E", level=1.5)
