"""User-level API review of scalinglab.fit: each test reproduces one reported problem.

All data are synthetic (built here from a known law), so the tests need no sweep folder.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from scalinglab.errors import ScalingLabError
from scalinglab.fit import (
    BootstrapResult,
    ChinchillaFit,
    EnvelopeFit,
    IsoFLOPFit,
    KaplanFit,
    PowerLawFit,
    SaturatingPowerLawFit,
    extrapolation_check,
)
from scalinglab.fit.bootstrap import draw_indices
from scalinglab.fit.diagnostics import LEARNING_CURVES_FLAG
from scalinglab.laws.chinchilla import ParametricLaw
from scalinglab.laws.registry import get_law

TRUTH = ParametricLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)


def k_of_n(n):
    """A full-FLOP convention: FLOPs per parameter-token ~10 for tiny models, -> 6 for large ones."""
    return 6.0 + 4.0 * (np.asarray(n, dtype=float) / 1e4) ** -0.2


def _isoflop_runs(k=k_of_n, budgets=(1e18, 3e18, 1e19, 3e19, 1e20), noise=0.0, seed=0):
    """Runs on IsoFLOP budgets whose ``flops`` column counts k(N)·N·D FLOPs (not 6·N·D)."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in budgets:
        n_opt = TRUTH.optimum(c).params
        for f in np.geomspace(1 / 8, 8, 7):
            n = n_opt * f
            d = c / (float(k(n)) * n)
            rows.append((n, d, c, TRUTH.predict(n, d) * np.exp(rng.normal(0, noise))))
    return pd.DataFrame(rows, columns=["params", "tokens", "flops", "loss"])


@pytest.fixture(scope="module")
def runs():
    """35 runs on 5 budgets, 6·N·D FLOPs, 0.5% noise (a clean Approach-3 table)."""
    return _isoflop_runs(k=lambda n: 6.0, noise=0.005)


@pytest.fixture(scope="module")
def fitted(runs):
    return ChinchillaFit().fit(runs)


def _curves(sizes, flops_per_param_token=None):
    """Loss curves of the known law; with ``flops_per_param_token`` a flops column in that convention."""
    rows = []
    for i, n in enumerate(sizes):
        for step, d in enumerate(np.geomspace(1e8, 1e12, 60), start=1):
            rows.append((f"r{i}", n, d, TRUTH.predict(n, d), step))
    out = pd.DataFrame(rows, columns=["run_id", "params", "tokens", "loss", "step"])
    if flops_per_param_token is not None:
        out["flops"] = flops_per_param_token(out["params"]) * out["params"] * out["tokens"]
    return out


# ----- 1. D_opt in the runs' own FLOP convention -------------------------------------------------
def test_isoflop_tokens_opt_comes_from_the_runs_tokens():
    data = _isoflop_runs()
    fit = IsoFLOPFit().fit(data)
    assert fit.tokens_from_ == "runs"
    for p in fit.profiles_:
        # exact relation of the runs, at the fitted N_opt: D = C / (k(N)·N), not C / (6·N)
        expected = p.flops / (k_of_n(p.params_opt) * p.params_opt)
        assert p.tokens_opt == pytest.approx(expected, rel=0.01)
        assert p.flops_per_param_token == pytest.approx(k_of_n(p.params_opt), rel=0.01)
    cs = np.array([p.flops for p in fit.profiles_])
    n_opt = np.array([p.params_opt for p in fit.profiles_])
    b_expected = PowerLawFit().fit(x=cs, y=cs / (k_of_n(n_opt) * n_opt)).exponent_
    assert fit.b_ == pytest.approx(b_expected, abs=0.005)
    # D_opt from the power law at a budget inside the data agrees too
    opt = fit.optimum(1e19)
    assert opt.tokens == pytest.approx(1e19 / (k_of_n(opt.params) * opt.params), rel=0.05)


def test_isoflop_without_tokens_or_with_a_fixed_k_uses_c_over_k_n():
    data = _isoflop_runs()
    for fit, k in ((IsoFLOPFit().fit(data.drop(columns="tokens")), 6.0),
                   (IsoFLOPFit(flops_per_param_token=8.0).fit(data), 8.0)):
        assert fit.tokens_from_ == "flops"
        for p in fit.profiles_:
            assert p.tokens_opt == pytest.approx(p.flops / (k * p.params_opt), rel=1e-12)
    with pytest.raises(ScalingLabError, match="flops_per_param_token"):
        IsoFLOPFit(flops_per_param_token=-6).fit(data)
    # With 6·N·D FLOPs both paths agree (the classic C = 6ND table).
    six = _isoflop_runs(k=lambda n: 6.0)
    a, b = IsoFLOPFit().fit(six), IsoFLOPFit().fit(six.drop(columns="tokens"))
    assert a.b_ == pytest.approx(b.b_, abs=1e-9)


def test_envelope_tokens_opt_comes_from_the_curves_tokens():
    fit = EnvelopeFit(n_bootstrap=0).fit(_curves(np.geomspace(3e7, 3e10, 12), flops_per_param_token=k_of_n))
    expected = fit.flops_ / (k_of_n(fit.params_opt_) * fit.params_opt_)
    np.testing.assert_allclose(fit.tokens_opt_, expected, rtol=1e-9)
    b_expected = PowerLawFit().fit(x=fit.flops_, y=expected).exponent_
    assert fit.b_ == pytest.approx(b_expected, abs=1e-9)


# ----- 2. predict() on bad budgets raises, never NaN with a RuntimeWarning -----------------------
@pytest.mark.parametrize("bad", [-1.0, 0.0, np.nan, np.inf, [1e20, -1e20]])
def test_predict_refuses_non_positive_inputs(bad):
    iso = IsoFLOPFit().fit(_isoflop_runs(k=lambda n: 6.0))
    env = EnvelopeFit(n_bootstrap=0).fit(_curves(np.geomspace(3e7, 3e10, 8)))
    power = PowerLawFit().fit(x=[1.0, 2.0, 3.0], y=[1.0, 4.0, 9.5])
    x = np.geomspace(1e6, 1e9, 6)
    sat = SaturatingPowerLawFit().fit(x=x, y=1.7 + (1e5 / x) ** 0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning would fail the test
        for call in (iso.predict, env.predict, power.predict, sat.predict):
            with pytest.raises(ScalingLabError, match="positive and finite"):
                call(bad)
            with pytest.raises(ScalingLabError):  # text that is no number: one clear error too
                call("abc")


# ----- 3. extrapolation_check: clear refusals, numpy thresholds -----------------------------------
def test_extrapolation_check_refuses_what_it_cannot_score(runs):
    for est in (IsoFLOPFit(), EnvelopeFit()):
        with pytest.raises(ScalingLabError, match="not a loss.*ChinchillaFit"):
            extrapolation_check(est, runs, above=3e19)
    with pytest.raises(ScalingLabError, match=r"instance such as ChinchillaFit\(\)"):
        extrapolation_check(ChinchillaFit, runs, above=3e19)
    with pytest.raises(ScalingLabError, match="supports"):
        extrapolation_check(IsoFLOPFit, runs, above=3e19)
    with pytest.raises(ScalingLabError, match="fixed law"):
        extrapolation_check(get_law("epoch2024"), runs, above=3e19)
    with pytest.raises(ScalingLabError, match="supports"):
        extrapolation_check(object(), runs, above=3e19)


def test_extrapolation_check_accepts_numpy_thresholds(runs):
    plain = extrapolation_check(SaturatingPowerLawFit(), runs, above=5e18, variable="params")
    for above in (np.float32(5e18), np.float64(5e18), np.int64(5 * 10**18)):
        rep = extrapolation_check(SaturatingPowerLawFit(), runs, above=above, variable="params")
        assert rep.n_train == plain.n_train and len(rep.held_out) == len(plain.held_out)
    for bad in (True, "3e19", np.nan, -1.0):
        with pytest.raises(ScalingLabError, match="positive number"):
            extrapolation_check(ChinchillaFit(), runs, above=bad)


# ----- 4. every estimator's as_dict / predict / bootstrap before fit ------------------------------
@pytest.mark.parametrize("cls", [IsoFLOPFit, EnvelopeFit, KaplanFit, SaturatingPowerLawFit, PowerLawFit, ChinchillaFit])
def test_unfitted_estimators_say_so(cls):
    est = cls()
    with pytest.raises(ScalingLabError, match="not fitted yet; call fit"):
        est.as_dict()
    args = (1e9, 1e10) if cls in (KaplanFit, ChinchillaFit) else (1e9,)
    with pytest.raises(ScalingLabError, match="not fitted yet; call fit"):
        est.predict(*args)
    if cls is ChinchillaFit:
        with pytest.raises(ScalingLabError, match="not fitted yet"):
            est.bootstrap(10)
    if cls is PowerLawFit:
        with pytest.raises(ScalingLabError, match="not fitted yet"):
            est.interval()


def test_bootstrap_function_refuses_what_it_cannot_resample(runs):
    from scalinglab.fit import bootstrap

    # Approaches 1 and 2 have their own intervals; a class is not an estimator.
    for est in (IsoFLOPFit(), EnvelopeFit(), ChinchillaFit):
        with pytest.raises(ScalingLabError, match=r"ChinchillaFit\(\)"):
            bootstrap(est, runs, n_resamples=10)
    with pytest.raises(ScalingLabError, match="needs runs, or a fitted KaplanFit"):
        bootstrap(KaplanFit(), None, n_resamples=10)


def test_fitted_check_does_not_depend_on_flags():
    for est in (ChinchillaFit(), SaturatingPowerLawFit(), IsoFLOPFit(), EnvelopeFit(), KaplanFit()):
        est.flags_ = ["something"]  # flags_ exists before fit (a dataclass default)
        with pytest.raises(ScalingLabError, match="not fitted yet"):
            est.as_dict()


# ----- 5. predict(runs_frame); one-variable laws on a frame ---------------------------------------
def test_chinchilla_and_kaplan_predict_a_runs_frame(runs, fitted):
    np.testing.assert_allclose(fitted.predict(runs), fitted.predict(runs["params"], runs["tokens"]), rtol=1e-12)
    with pytest.raises(ScalingLabError, match="needs tokens"):
        fitted.predict(runs["params"].to_numpy())
    with pytest.raises(ScalingLabError, match="not both"):
        fitted.predict(runs, runs["tokens"])
    with pytest.raises(ScalingLabError, match="no 'tokens' column"):
        fitted.predict(runs.drop(columns="tokens"))
    kaplan = KaplanFit().fit(runs)
    np.testing.assert_allclose(kaplan.predict(runs), kaplan.predict(runs["params"], runs["tokens"]), rtol=1e-12)


def test_saturating_power_law_fits_a_frame_with_a_variable(runs):
    with pytest.raises(ScalingLabError, match="variable="):
        SaturatingPowerLawFit().fit(runs)  # params, tokens and flops: which one?
    sat = SaturatingPowerLawFit().fit(runs, variable="flops")
    ref = SaturatingPowerLawFit().fit(x=runs["flops"].to_numpy(), y=runs["loss"].to_numpy())
    assert sat.variable_ == "flops" and sat.alpha_ == ref.alpha_ and sat.E_ == ref.E_
    np.testing.assert_allclose(sat.predict(runs), ref.predict(runs["flops"].to_numpy()), rtol=1e-12)
    only = SaturatingPowerLawFit().fit(runs[["params", "loss"]])  # the one variable column present
    assert only.variable_ == "params"
    with pytest.raises(ScalingLabError, match="variable must be one of"):
        SaturatingPowerLawFit().fit(runs, variable="steps")
    with pytest.raises(ScalingLabError, match="x= and y="):
        SaturatingPowerLawFit().fit(x=runs["flops"].to_numpy())
    with pytest.raises(ScalingLabError, match="fitted on arrays"):
        ref.predict(runs)


# ----- 6. concise reprs ---------------------------------------------------------------------------
def test_bootstrap_result_repr_is_concise():
    rng = np.random.default_rng(0)
    samples = {k: rng.normal(v, 0.01 * v, 1000) for k, v in
               {"E": 1.7, "A": 400.0, "B": 410.0, "alpha": 0.34, "beta": 0.28, "a": 0.45, "b": 0.55}.items()}
    res = BootstrapResult(samples=samples, estimate={}, n_resamples=1000, n_failed=3, seed=0, start="warm")
    text = repr(res)
    assert len(text) < 500, text
    assert "n_resamples=1000" in text and "n_failed=3" in text and "alpha=(" in text


def test_extrapolation_report_repr_is_concise(runs):
    rep = extrapolation_check(SaturatingPowerLawFit(), runs, above=3e18, variable="params")
    text = repr(rep)
    assert len(text) < 300 and "n_test=" in text and "mean_abs_rel_error=" in text, text


# ----- 7. bootstrap resamples with too few distinct runs; flat one-variable data ----------------
def test_bootstrap_refuses_resamples_with_too_few_distinct_runs():
    n = np.array([1e7, 3e7, 1e8, 3e8, 1e9, 3e9, 1e10])
    d = np.array([2e9, 5e8, 6e9, 1e9, 3e10, 8e9, 1e11])
    small = pd.DataFrame({"params": n, "tokens": d, "loss": TRUTH.predict(n, d)})
    est = ChinchillaFit().fit(small)
    assert est.converged_
    res = est.bootstrap(20, seed=1, workers=1)
    expected = int(sum(np.unique(row).size < 6 for row in draw_indices(7, 20, 1)))
    assert expected > 0
    assert res.min_unique == 6 and res.n_too_few_unique == expected
    assert res.n_failed >= expected
    assert any("distinct runs" in msg for msg in res.failures)
    assert any("distinct runs" in msg for msg in res.flags)
    assert "distinct" in repr(res)


def test_saturating_power_law_flags_flat_data():
    x = np.geomspace(1e6, 3e8, 6)
    flat = SaturatingPowerLawFit().fit(x=x, y=np.full(6, 2.0))
    assert flat.degenerate_ and any("vanishes" in msg for msg in flat.flags_)
    assert flat.as_dict()["degenerate"] is True
    clean = SaturatingPowerLawFit().fit(x=x, y=1.7 + (1e5 / x) ** 0.3)
    assert not clean.degenerate_ and clean.flags_ == []


# ----- 8. learning curves given to Approach 3 -----------------------------------------------------
def test_chinchilla_fit_warns_on_learning_curves():
    curves = _curves(np.geomspace(3e7, 3e9, 4))[lambda t: t["step"] % 6 == 0]
    est = ChinchillaFit().fit(curves)
    notes = [m for m in est.flags_ if m.startswith(LEARNING_CURVES_FLAG)]
    assert len(notes) == 1 and "final loss" in notes[0]
    # the fit itself is unchanged, and the warning alone does not make it degenerate
    plain = ChinchillaFit().fit(params=curves["params"], tokens=curves["tokens"], loss=curves["loss"])
    assert est.law_ == plain.law_ and est.degenerate_ == plain.degenerate_
    assert not any(m.startswith(LEARNING_CURVES_FLAG) for m in plain.flags_)
    # one row per run (final losses, two token counts per size): no warning
    finals = curves.groupby("run_id").tail(1)
    shorter = finals.assign(run_id=finals["run_id"] + "-short", tokens=finals["tokens"] / 30,
                            loss=TRUTH.predict(finals["params"], finals["tokens"] / 30))
    one_row_each = pd.concat([finals, shorter])
    assert len(one_row_each) == 8
    assert not any(m.startswith(LEARNING_CURVES_FLAG) for m in ChinchillaFit().fit(one_row_each).flags_)


@pytest.mark.parametrize("name", ["ChinchillaFit", "IsoFLOPFit", "EnvelopeFit", "KaplanFit", "SaturatingPowerLawFit"])
def test_estimators_have_sklearn_get_and_set_params(name):
    import scalinglab.fit as fit_pkg
    from scalinglab.fit import envelope, isoflop, kaplan, parametric, powerlaw

    modules = (parametric, isoflop, envelope, kaplan, powerlaw, fit_pkg)
    cls = next(getattr(m, name) for m in modules if hasattr(m, name))
    est = cls()
    params = est.get_params()
    assert params and not any(k.endswith("_") for k in params)  # settings, never fitted values
    assert cls(**params).get_params() == params  # an unfitted copy, as sklearn.clone builds it
    key = next(k for k, v in params.items() if isinstance(v, float) and not isinstance(v, bool))
    assert est.set_params(**{key: params[key] * 2}) is est and est.get_params()[key] == params[key] * 2
    with pytest.raises(ScalingLabError, match="has no setting 'nope'"):
        est.set_params(nope=1)


# ----- 9. one protocol for every estimator class --------------------------------------------------
class _RunTable:
    """A stand-in for scalinglab.io.runtable.RunTable: a runs DataFrame and a curves DataFrame."""

    def __init__(self, runs, curves):
        self.runs, self.curves = runs, curves


def _protocol_cases():
    """(estimator, fit input, fit keywords, predict input, rows predicted) for every estimator class."""
    runs = _isoflop_runs(k=lambda n: 6.0, noise=0.005)
    curves = _curves(np.geomspace(3e7, 3e10, 10))
    table = _RunTable(runs, curves)
    budgets = np.array([2e18, 5e19])
    return [
        (ChinchillaFit(), table, {}, runs, len(runs)),
        (KaplanFit(), {c: runs[c].to_numpy() for c in ("params", "tokens", "loss")}, {}, runs, len(runs)),
        (IsoFLOPFit(), table, {}, budgets, 2),
        (EnvelopeFit(n_bootstrap=0), table, {}, budgets, 2),  # a run table's curves
        (SaturatingPowerLawFit(), runs, {"variable": "params"}, runs, len(runs)),
        (PowerLawFit(), runs, {"variable": "flops"}, runs["flops"].to_numpy(), len(runs)),
    ]


CASES = _protocol_cases()


@pytest.mark.parametrize("case", CASES, ids=lambda c: type(c[0]).__name__)
def test_every_estimator_follows_the_one_protocol(case):
    est, data, keywords, x, rows = case
    est = est.clone()
    # constructor stores settings only; unfitted predict names the one error
    assert set(vars(est)) == set(est.get_params())
    with pytest.raises(ScalingLabError, match=f"this {type(est).__name__} is not fitted yet; call fit"):
        est.predict(x)
    assert est.fit(data, **keywords) is est
    fitted = set(vars(est)) - set(est.get_params())
    assert fitted and all(name.endswith("_") for name in fitted), sorted(fitted)
    assert isinstance(est.flags_, list) and not hasattr(est, "warnings_")
    pred = np.asarray(est.predict(x), dtype=float)
    assert pred.shape == (rows,) and np.all(np.isfinite(pred)) and np.all(pred > 0)
    # losses, never an (N, D) tuple: here all between 1.69 (E of TRUTH) and 10 nats
    assert np.all((pred > 1.69) & (pred < 10.0))
    assert isinstance(est.as_dict(), dict)
    # get_params / clone round trip: same settings, unfitted
    copy = est.clone()
    assert type(est)(**est.get_params()).get_params() == est.get_params() == copy.get_params()
    assert set(vars(copy)) == set(copy.get_params())
    with pytest.raises(ScalingLabError, match="not fitted yet"):
        copy.predict(x)
    if hasattr(est, "optimum"):
        opt = est.optimum(1e20)
        assert opt.compute == 1e20 and opt.params > 0 and opt.tokens > 0 and 1.69 < opt.loss < 10
        assert opt.as_dict()["tokens_per_param"] == pytest.approx(opt.tokens / opt.params)


def test_allocation_answers_come_from_optimum_on_every_estimator_that_has_them():
    runs = _isoflop_runs(k=lambda n: 6.0)
    chinchilla = ChinchillaFit().fit(runs)
    assert chinchilla.optimum(1e20) == chinchilla.law_.optimum(1e20)
    iso = IsoFLOPFit().fit(runs)
    opt = iso.optimum(1e20)
    assert opt.params == pytest.approx(iso.params_law_.predict(1e20), rel=1e-12)
    assert opt.tokens == pytest.approx(iso.tokens_law_.predict(1e20), rel=1e-12)
    # the frontier loss at C follows the profiles' minima: within 1% of the true law's optimum
    assert iso.predict(1e20) == pytest.approx(TRUTH.optimum(1e20).loss, rel=0.01)
    assert opt.loss == iso.predict(1e20)
    assert not hasattr(KaplanFit(), "optimum")  # Kaplan's frontier is the published one


def test_bootstrap_takes_any_estimator_with_quantities():
    from scalinglab.fit import bootstrap

    runs = _isoflop_runs(k=lambda n: 6.0, noise=0.003)
    kaplan = KaplanFit().fit(runs)
    res = bootstrap(kaplan, n_resamples=6, seed=0, workers=1)
    assert set(res.samples) == {"Nc", "Dc", "alpha_N", "alpha_D"} and res.start == "warm"
    assert res.estimate["alpha_N"] == kaplan.alpha_N_ and res.min_unique == 5
    assert res.n_failed + len(res.samples["alpha_N"]) == 6 and res.as_dict()["n_resamples"] == 6
