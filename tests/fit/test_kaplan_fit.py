"""Kaplan's L(N, D) form (Kaplan et al. 2020 Eq. 1.5; TEST_VECTORS L3 / Kaplan et al. 2020)."""

import numpy as np
import pytest

from scalinglab.errors import ScalingLabError
from scalinglab.fit.kaplan import KaplanFit, kaplan_loss

# Kaplan 2020 Table 2 joint-fit constants (Kaplan et al. 2020): alpha_N 0.076, alpha_D 0.103, N_c
# 6.4e13, D_c 1.8e13.
TABLE2 = {"Nc": 6.4e13, "Dc": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103}


def test_forward_form_matches_test_vectors():
    # TEST_VECTORS L3: at (1e9, 2e10) 2.37388 with Table 2 constants and 2.43543 with the separate-fit
    # constants (alpha_N 0.076, alpha_D 0.095, N_c 8.8e13, D_c 5.4e13); abs 1e-4.
    assert kaplan_loss(1e9, 2e10, **TABLE2) == pytest.approx(2.37388, abs=1e-4)
    assert kaplan_loss(1e9, 2e10, 8.8e13, 5.4e13, 0.076, 0.095) == pytest.approx(2.43543, abs=1e-4)
    assert kaplan_loss(1e9, 2e11, **TABLE2) == pytest.approx(2.3249, abs=1e-4)


def test_recovers_table2_constants():
    rng = np.random.default_rng(0)
    n = np.repeat(np.geomspace(1e7, 1e10, 8), 6)
    d = np.tile(np.geomspace(1e9, 1e12, 6), 8)
    y = kaplan_loss(n, d, **TABLE2) * np.exp(rng.normal(0, 0.003, n.size))
    fit = KaplanFit().fit(params=n, tokens=d, loss=y)
    assert fit.converged_
    assert fit.alpha_N_ == pytest.approx(0.076, abs=0.005)
    assert fit.alpha_D_ == pytest.approx(0.103, abs=0.005)
    assert fit.predict(1e9, 2e10) == pytest.approx(2.37388, abs=0.01)
    exact = KaplanFit().fit(params=n, tokens=d, loss=kaplan_loss(n, d, **TABLE2))
    assert exact.Nc_ == pytest.approx(6.4e13, rel=1e-3) and exact.Dc_ == pytest.approx(1.8e13, rel=1e-3)


def test_bad_input():
    with pytest.raises(ScalingLabError, match="at least 5"):
        KaplanFit().fit(params=[1e8, 2e8, 4e8, 8e8], tokens=[1e9, 2e9, 3e9, 4e9], loss=[3, 2.9, 2.8, 2.7])
    with pytest.raises(ScalingLabError, match="two model sizes"):
        KaplanFit().fit(params=[1e8] * 6, tokens=np.geomspace(1e9, 1e11, 6), loss=np.linspace(3, 2.5, 6))
