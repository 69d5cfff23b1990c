"""One-variable laws: pure power law (Hoffmann et al. 2022 §3 / TEST_VECTORS F9), saturating law,
MasterFitter."""

import numpy as np
import pytest

from scalinglab.compat.fitter import MasterFitter
from scalinglab.errors import ScalingLabError
from scalinglab.fit.powerlaw import PowerLawFit, SaturatingPowerLawFit

# Hoffmann et al. 2022 Table A3, Approach 2 columns (params, tokens) [P] — Hoffmann et al. 2022
# Table A3.
TABLE_A3_APPROACH2 = [(400e6, 7.7e9), (1e9, 20.0e9), (10e9, 219.5e9), (67e9, 1.7e12), (175e9, 4.3e12),
                      (280e9, 7.1e12), (520e9, 13.4e12), (1e12, 26.5e12), (10e12, 292.0e12)]


def test_f9_approach2_interpolation():
    # TEST_VECTORS F9: least squares of log10 D on log10 N over the nine rows: slope 1.04096,
    # intercept 0.93539 (abs 1e-5); 124M params -> 2.292e9 tokens (rel 1e-3).
    n, d = zip(*TABLE_A3_APPROACH2, strict=True)
    law = PowerLawFit().fit(x=n, y=d)
    assert law.exponent_ == pytest.approx(1.04096, abs=1e-5)
    assert law.log_coefficient_ / np.log(10) == pytest.approx(0.93539, abs=1e-5)
    assert law.predict(124e6) == pytest.approx(2.292e9, rel=1e-3)
    lo, hi = law.interval(0.95)
    assert lo < law.exponent_ < hi


def test_kaplan_style_reading():
    # L(N) = (N_c/N)^alpha_N with Kaplan Table 5 constants alpha_N 0.076, N_c 8.8e13 (Kaplan et
    # al. 2020):
    # L(1e9) = 2.37564, L(1e8) = 2.82996 (TEST_VECTORS L1); fitting those points returns the constants.
    n = np.geomspace(1e6, 1e10, 9)
    law = PowerLawFit().fit(x=n, y=(8.8e13 / n) ** 0.076)
    assert law.alpha_ == pytest.approx(0.076, rel=1e-10)
    assert law.scale_ == pytest.approx(8.8e13, rel=1e-8)
    assert law.predict(1e9) == pytest.approx(2.37564, abs=1e-5)
    assert law.predict(1e8) == pytest.approx(2.82996, abs=1e-5)


def test_saturating_recovery():
    # L = E + (X0/X)^alpha with E 1.69, X0 1e8, alpha 0.3, 12 points, 0.3% noise.
    rng = np.random.default_rng(0)
    x = np.geomspace(1e6, 1e10, 12)
    y = (1.69 + (1e8 / x) ** 0.3) * np.exp(rng.normal(0, 0.003, x.size))
    fit = SaturatingPowerLawFit().fit(x=x, y=y)
    assert fit.converged_ and fit.flags_ == []
    assert fit.E_ == pytest.approx(1.69, abs=0.03)
    assert fit.alpha_ == pytest.approx(0.3, abs=0.02)
    exact = SaturatingPowerLawFit().fit(x=x, y=1.69 + (1e8 / x) ** 0.3)
    assert exact.E_ == pytest.approx(1.69, rel=1e-6) and exact.X0_ == pytest.approx(1e8, rel=1e-5)


def test_master_fitter_seed_notebook():
    # The Physics of Scale notebook: L = 1.7 + (8.8e13/N)^0.076 at 8 sizes 1e5–1e8
    # plus N(0, 0.01) noise; MasterFitter(ns, ls).fit() then .alpha, .l_inf, .predict(n).
    ns = np.logspace(5, 8, 8)
    noiseless = 1.7 + (8.8e13 / ns) ** 0.076
    fitter = MasterFitter(ns, noiseless).fit()
    assert fitter.alpha == pytest.approx(0.076, rel=1e-4)
    assert fitter.l_inf == pytest.approx(1.7, abs=1e-4)
    np.testing.assert_allclose(fitter.predict(ns), noiseless, rtol=1e-8)
    rng = np.random.default_rng(1)
    noisy = MasterFitter(ns, noiseless + rng.normal(0, 0.01, 8)).fit()
    # With alpha this small over 3 decades, E and alpha trade off: predictions stay within the noise.
    np.testing.assert_allclose(noisy.predict(ns), noiseless, atol=0.02)
    assert isinstance(noisy.predict(1e9), float)


def test_flags_and_errors():
    x = np.geomspace(1e6, 1e9, 6)
    flat = SaturatingPowerLawFit().fit(x=x, y=0 * x + 3.0 + np.linspace(0, 1e-6, 6))
    assert not flat.converged_ and flat.flags_
    with pytest.raises(ScalingLabError, match="at least 4 points"):
        SaturatingPowerLawFit().fit(x=x[:3], y=[3, 2.9, 2.8])
    with pytest.raises(ScalingLabError, match="positive and finite"):
        SaturatingPowerLawFit().fit(x=x, y=[3, 2.9, -1, 2.7, 2.6, 2.5])
    with pytest.raises(ScalingLabError, match="all x values are equal"):
        PowerLawFit().fit(x=[1e8, 1e8, 1e8], y=[3.0, 2.9, 2.8])
    with pytest.raises(ScalingLabError, match="not fitted"):
        SaturatingPowerLawFit().predict(1e9)
