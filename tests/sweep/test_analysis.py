"""After the runs: fits, IsoFLOP optima, extrapolation check and plan, on runs with a known truth.

The stand-in run function reports the loss that Hoffmann et al. 2022 Eq. 10 (rounded: E 1.69,
A 406.4, B 410.7, alpha 0.34, beta 0.28) gives for the run's N and D, with an eval curve along the
run. From such noise-free runs the analysis must recover those published constants, predict the
held-out budget exactly, find interior IsoFLOP minima when the sizes are centred on the law's
optimum, say so when they are not, and plan the same model as the law itself.
"""

import pytest

from scalinglab.laws.registry import get_law
from scalinglab.sweep.analysis import analyze_sweep
from scalinglab.sweep.design import isoflop_design
from scalinglab.sweep.runner import run_sweep
from standins import SerialExecutor

LAW = get_law("hoffmann2022")
BUDGETS = [1e11, 3e11, 1e12, 3e12]


def law_run(task):
    cfg = task["config"]
    from scalinglab.train.config import TrainConfig

    n = TrainConfig.from_dict(cfg).shape().total_params
    steps = cfg["tokens"] // (cfg["batch_size"] * cfg["ctx"])
    per_step = cfg["batch_size"] * cfg["ctx"]
    curve = [{"step": s, "tokens": s * per_step, "loss": float(LAW.predict(n, s * per_step))}
             for s in range(steps // 5, steps + 1, max(1, steps // 5))]
    loss = float(LAW.predict(n, cfg["tokens"]))
    return {"loss": loss, "best_loss": loss, "tokens": cfg["tokens"], "curve": curve}




@pytest.fixture(scope="module")
def centred(tmp_path_factory):
    design = isoflop_design(BUDGETS, sizes_per_budget=5, prior_law="hoffmann2022", check_corpus=False)
    folder = tmp_path_factory.mktemp("centred")
    run_sweep(design, folder, executor=SerialExecutor(), run_fn=law_run)
    return folder, analyze_sweep(folder, target_compute=1e15)


def test_approach3_recovers_the_published_constants(centred):
    _, result = centred
    fit = result["fits"]["approach3"]
    # Hoffmann et al. 2022 Eq. 10 (Hoffmann et al. 2022): the generating constants, noise-free data.
    for name, value in (("E", 1.69), ("A", 406.4), ("B", 410.7), ("alpha", 0.34), ("beta", 0.28)):
        assert fit[name] == pytest.approx(value, rel=1e-3), name


def test_extrapolation_predicts_the_held_out_budget(centred):
    _, result = centred
    ext = result["extrapolation"]
    assert ext["fit_budgets"] == BUDGETS[:-1] and ext["held_out_budgets"] == BUDGETS[-1:]
    assert len(ext["runs"]) == 5
    for run in ext["runs"]:
        assert run["actual_loss"] == pytest.approx(float(LAW.predict(run["params"], run["tokens"])))
        assert run["predicted_loss"] == pytest.approx(run["actual_loss"], rel=1e-4)
    assert ext["within_goal"]


def test_isoflop_minima_interior_when_centred_on_the_optimum(centred):
    _, result = centred
    assert [o["budget"] for o in result["isoflop"]] == BUDGETS
    for entry in result["isoflop"]:
        assert entry["interior"] and entry["best_is_interior"]
        assert entry["sizes"][0] < entry["params_opt"] < entry["sizes"][-1]
    assert not any("NOT interior" in note for note in result["notes"])
    assert "approach2" in result["fits"] and "approach1" in result["fits"]


def test_plan_under_own_law_matches_the_generating_law(centred):
    _, result = centred
    plan = result["plan"]
    rows = {row["law"]: row for row in plan["laws"]}
    assert set(rows) == {"this sweep", "hoffmann2022", "epoch2024"}
    assert rows["this sweep"]["params"] == rows["hoffmann2022"]["params"]
    assert rows["this sweep"]["tokens"] == pytest.approx(rows["hoffmann2022"]["tokens"])
    # closed form C = 6ND (Hoffmann Eq. 4) of the fitted law: close to the published law's
    closed_own = rows["this sweep"]["closed_form_6nd"]["params"]
    assert closed_own == pytest.approx(LAW.optimum(1e15).params, rel=1e-2)
    assert plan["extrapolation_factor"] == pytest.approx(1e15 / 3e12)


def test_minima_off_centre_are_reported(tmp_path):
    # centred where tokens/param = 2000: every budget's sizes are far too small for the optimum
    design = isoflop_design(BUDGETS[:3], sizes_per_budget=4, prior_law="tokens-per-param:2000",
                            check_corpus=False)
    run_sweep(design, tmp_path, executor=SerialExecutor(), run_fn=law_run)
    result = analyze_sweep(tmp_path, target_compute=1e13)
    flagged = [o for o in result["isoflop"] if not o["interior"]]
    assert flagged, result["isoflop"]
    for entry in flagged:
        assert not entry["best_is_interior"] and entry["best_params"] == entry["sizes"][-1]
        assert any(f"budget {entry['budget']:.3g}: the IsoFLOP minimum is NOT interior" in n
                   for n in result["notes"])


def test_ladder_holds_out_the_largest_size(tmp_path):
    from scalinglab.sweep.design import ladder_design

    design = ladder_design([1e4, 3e4, 1e5, 3e5], multiples=(10, 40, 160), check_corpus=False)
    run_sweep(design, tmp_path, executor=SerialExecutor(), run_fn=law_run)
    result = analyze_sweep(tmp_path, target_compute=1e14)
    ext = result["extrapolation"]
    assert ext["held_out_by"] == "params" and len(ext["held_out_sizes"]) == 1
    assert len(ext["runs"]) == 3 and all(r["params"] == ext["held_out_sizes"][0] for r in ext["runs"])
    for run in ext["runs"]:
        assert run["predicted_loss"] == pytest.approx(run["actual_loss"], rel=1e-4)
    assert result["isoflop"] == [] and "approach2" not in result["fits"]
    assert result["fits"]["approach3"]["alpha"] == pytest.approx(0.34, rel=1e-3)
