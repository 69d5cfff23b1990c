"""Sweep designs: budgets spent in full FLOPs, sizes around the prior optimum, the stated rule.

What is checked and against what:
- the hyper-parameter rule reproduces the DeepSeek LLM 2024 laws where it does not clamp
  (TEST_VECTORS L23 / DeepSeek LLM 2024 §3.1: eta 9.86e-4 and B 1.017e6 tokens at C = 1e20);
- every run spends its budget under the full ("chinchilla", Hoffmann 2022 App. F) convention, to
  within one batch, and stores every FLOP and parameter convention;
- the schedule rule (>= min_steps steps, warm-up <= 10%, cosine to 10%) holds for every run;
- bad designs fail with one clear ScalingLabError before anything trains.
"""

import math

import pytest

from scalinglab.core.architecture import FLOP_CONVENTIONS
from scalinglab.errors import ScalingLabError
from scalinglab.sweep.design import isoflop_design, ladder_design
from scalinglab.sweep.hyperparams import HyperparameterRule
from scalinglab.sweep.store import run_id

BUDGETS = [1e11, 3e11, 1e12]


@pytest.fixture(scope="module")
def design():
    return isoflop_design(BUDGETS, sizes_per_budget=5)


def test_rule_matches_deepseek_where_not_clamped():
    # TEST_VECTORS L23 (DeepSeek LLM 2024 §3.1): eta_opt(1e20) = 9.86e-4, B_opt(1e20) = 1.017e6
    # tokens.
    hp = HyperparameterRule(max_lr=1.0).choose(1e20, params=5e9, tokens=2e10, ctx=4096)
    assert hp.lr == pytest.approx(9.86e-4, rel=1e-3)
    assert hp.batch_tokens_published == pytest.approx(1.017e6, rel=1e-3)
    assert hp.batch_size == round(1.017e6 / 4096)  # 248 sequences of 4096 tokens
    assert not hp.lr_clamped and not hp.batch_clamped


def test_rule_clamps_at_tiny_scale():
    # eta_opt(1e11) = 0.3118 * 1e11**-0.125 = 1.31e-2 [C]: above the clamp, so the clamp applies.
    rule = HyperparameterRule(max_lr=3e-3, min_steps=300)
    hp = rule.choose(1e11, params=5e4, tokens=3e5, ctx=128)
    assert hp.lr_published == pytest.approx(0.3118 * 1e11**-0.125, rel=1e-9)
    assert hp.lr == 3e-3 and hp.lr_clamped
    assert hp.steps >= 300
    assert 1 <= hp.warmup_steps <= 0.1 * hp.steps
    assert hp.min_lr_ratio == 0.1


def test_rule_rejects_a_run_shorter_than_min_steps():
    with pytest.raises(ScalingLabError, match="too small"):
        HyperparameterRule(min_steps=300).choose(1e9, params=1e4, tokens=300 * 128 - 1, ctx=128)


def test_budgets_are_spent_in_full_flops(design):
    for run in design.runs:
        from scalinglab.train.config import TrainConfig

        cfg = TrainConfig.from_dict(run.config)
        shape = cfg.shape()
        per_token = shape.flops_per_token("chinchilla")
        assert run.convention == "chinchilla"
        assert run.flops == pytest.approx(per_token * run.tokens, rel=1e-12)
        # whole batches only: at most one batch short of the budget, never over it
        assert run.budget - per_token * cfg.tokens_per_step <= run.flops <= run.budget
        assert run.tokens == cfg.trained_tokens == cfg.tokens
        assert set(run.flops_by_convention) == set(FLOP_CONVENTIONS)
        assert run.flops_by_convention["6N"] == pytest.approx(6 * shape.total_params * run.tokens)
        assert run.params_by_convention["total"] == shape.total_params == run.params
        assert run.params_by_convention["non_embedding"] == shape.non_embedding_params


def test_tiny_models_cost_more_than_6n_nonembedding(design):
    # The pitfall the full count avoids: for the smallest model the head, embeddings and attention
    # cost well over 1.5x the 6*N_non-embedding*D term.
    smallest = min(design.runs, key=lambda r: r.params)
    ratio = smallest.flops_by_convention["chinchilla"] / smallest.flops_by_convention["6N_nonembed"]
    assert ratio > 1.5


def test_sizes_span_a_decade_around_the_prior_optimum(design):
    for budget in BUDGETS:
        sizes = sorted(r.params for r in design.runs if r.budget == budget)
        assert len(sizes) == 5
        assert 5 <= sizes[-1] / sizes[0] <= 20  # about one decade, on a discrete shape family
        centre = design.settings["prior_optimum_params"][f"{budget:.6g}"]
        assert sizes[0] < centre < sizes[-1]


def test_schedule_rule_in_every_config(design):
    for run in design.runs:
        cfg = run.config
        steps = cfg["tokens"] // (cfg["batch_size"] * cfg["ctx"])
        assert steps == run.steps >= 300
        assert 1 <= cfg["warmup_steps"] <= 0.1 * steps
        assert cfg["min_lr_ratio"] == 0.1
        assert cfg["lr"] <= HyperparameterRule().max_lr


def test_run_ids_follow_the_config_not_the_execution():
    cfg = isoflop_design([1e11], sizes_per_budget=3).runs[0].config
    assert run_id(cfg) == run_id(dict(cfg, threads=7, checkpoint_every=3))
    assert run_id(cfg) != run_id(dict(cfg, lr=cfg["lr"] / 2))
    assert run_id(cfg) != run_id(dict(cfg, seed=cfg["seed"] + 1))


def test_design_id_is_stable():
    a = isoflop_design(BUDGETS, sizes_per_budget=4)
    b = isoflop_design(list(reversed(BUDGETS)), sizes_per_budget=4)
    assert a.design_id == b.design_id
    assert a.design_id != isoflop_design(BUDGETS, sizes_per_budget=5).design_id


def test_ladder_sizes_times_multiples():
    design = ladder_design([2e4, 1e5], multiples=(10, 20, 40))
    assert len(design.runs) == 6
    for run in design.runs:
        multiple = float(run.group.split()[0])
        per_step = run.config["batch_size"] * run.config["ctx"]
        assert multiple * run.params - per_step < run.tokens <= multiple * run.params


@pytest.mark.parametrize("kwargs, message", [
    ({"budgets": [1e6]}, "too small"),
    ({"budgets": [1e11], "corpus": "no-such-corpus-anywhere"}, "no-such-corpus-anywhere"),
    ({"budgets": [1e11], "sizes_per_budget": 2}, "at least 3"),
    ({"budgets": [1e11], "convention": "7N"}, "unknown FLOP convention"),
    ({"budgets": [1e11, 1e11]}, "repeat"),
    ({"budgets": [-1.0]}, "positive"),
])
def test_bad_designs_fail_clearly(kwargs, message):
    budgets = kwargs.pop("budgets")
    with pytest.raises(ScalingLabError, match=message):
        isoflop_design(budgets, **kwargs)


def test_budget_too_small_names_the_need():
    with pytest.raises(ScalingLabError) as info:
        isoflop_design([1e8])
    text = str(info.value)
    assert "1e+08" in text and "300 steps" in text
    assert math.isfinite(float(text.split("needs ")[1].split(" FLOPs")[0]))


def test_range_moves_off_the_family_edge_and_says_so():
    # At 3e10 FLOPs the 80-bytes-per-parameter centre is next to the family's smallest shape, so the
    # sizes below it collapse; the design extends upwards to keep 5 distinct sizes and notes it.
    design = isoflop_design([3e10], sizes_per_budget=5, check_corpus=False)
    sizes = [r.params for r in design.runs]
    assert len(set(sizes)) == 5 and sizes == sorted(sizes)
    assert any("moved off the prior's centre" in note for note in design.notes)


@pytest.mark.parametrize("changes, message", [
    ({"min_steps": 0}, "min_steps: must be a whole number >= 1, got 0"),
    ({"min_steps": 2.5}, "min_steps: must be a whole number, got 2.5"),
    ({"max_lr": -1e-3}, "max_lr: must be positive and finite"),
    ({"budgets": "1e11,abc"}, "budgets: cannot read 'abc' as a number"),
    ({"budgets": [1e11, 0]}, "budgets: must be positive and finite, got 0.0 at index 1"),
    ({"ctx": 64.5}, "ctx: must be a whole number, got 64.5"),
    ({"span_decades": 0}, "span_decades: must be positive and finite"),
])
def test_sweep_settings_are_read_by_the_number_reader(changes, message):
    from scalinglab.sweep.spec import build_design, merge_settings

    settings = merge_settings({"budgets": [1e11, 1e12]}, changes)
    with pytest.raises(ScalingLabError, match=message) as info:
        build_design(settings, check_corpus=False)
    assert "\n" not in str(info.value)


def test_sweep_file_strings_read_like_the_cli():
    from scalinglab.sweep.spec import build_design, merge_settings

    spelled = build_design(merge_settings({"budgets": "1e11, 1e12", "ctx": "128", "min_steps": "300"}),
                           check_corpus=False)
    assert spelled.design_id == isoflop_design(BUDGETS[::2], check_corpus=False).design_id
