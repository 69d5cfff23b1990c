"""Sweep designs: an IsoFLOP grid and a model ladder, each a list of fully specified runs.

A design turns a person's question ("budgets 1e12 to 1e13 FLOPs on this corpus") into
:class:`~scalinglab.train.config.TrainConfig` objects with their run IDs, the FLOPs and parameter
counts under every convention, and the hyper-parameters chosen by a stated rule
(:mod:`scalinglab.sweep.hyperparams`).

Budgets are spent in **full** training FLOPs (``convention="chinchilla"``: Hoffmann et al. 2022
App. F, embeddings, attention and logits counted). At tiny scale the output head and attention
cost 1.5-5x the 6·N_non-embedding term, so a sweep budgeted in 6·N·D would hand the small models
several times the compute it accounts for and find the smallest model best everywhere.

IsoFLOP grid (Hoffmann et al. 2022 §3.2, Approach 2): for each budget C, the prior law's optimum
N* is found over the shape family with D = C / (FLOPs per token of the shape), and
``sizes_per_budget`` shapes are taken log-evenly over ``span_decades`` (one decade by default)
around N*. Model ladder (OLMo ladder, Bhagia et al. 2024): sizes x tokens-per-parameter multiples.
"""

from __future__ import annotations

import functools
import warnings

from scalinglab.core.architecture import check_convention
from scalinglab.core.numbers import number_list, positive_float, whole_number
from scalinglab.core.shapes import MAX_SIZE_MISS, choose_shape
from scalinglab.errors import ScalingLabError
from scalinglab.fit.isoflop import IsoFLOPFit, group_budgets
from scalinglab.sweep.family import ShapeFamily
from scalinglab.sweep.hyperparams import HyperparameterRule
from scalinglab.sweep.planned import (
    DEFAULT_CONVENTION,
    PARAM_CONVENTIONS,
    PlannedRun,
    SweepDesign,
    plan_run,
)
from scalinglab.sweep.priors import (
    BYTES_PER_BPE_TOKEN,
    CHINCHILLA_TOKENS_PER_PARAM,
    default_prior,
    prior_centre,
    resolve_prior,
)
from scalinglab.train.config import DEFAULT_CORPUS, tokenizer_vocab
from scalinglab.train.corpora import resolve_corpus

# Re-exported: the names users and the other sweep modules import from here.
__all__ = ["BYTES_PER_BPE_TOKEN", "CHINCHILLA_TOKENS_PER_PARAM", "DEFAULT_CONVENTION", "MAX_SIZE_MISS",
           "PARAM_CONVENTIONS", "PlannedRun", "ShapeFamily", "SweepDesign", "default_prior",
           "isoflop_design", "ladder_design", "plan_run"]


# ----- settings shared by both designs ------------------------------------------------------------
def _base_config(corpus: str, tokenizer: str, ctx: int, seed: int, device: str, dtype: str,
                 eval_tokens: int, val_fraction: float) -> dict:
    return {"corpus": corpus, "tokenizer": tokenizer, "ctx": ctx, "seed": seed, "device": device,
            "dtype": dtype, "eval_tokens": eval_tokens, "val_fraction": val_fraction}


@functools.lru_cache(maxsize=32)
def _check_corpus(corpus: str) -> None:
    """Fail early, before any training, on a corpus that does not exist here (once per process)."""
    resolve_corpus(corpus)


def _run_settings(ctx, seed, eval_tokens, val_fraction) -> tuple[int, int, int, float]:
    """The shared run settings, whole numbers in any spelling (``128``, ``128.0``, ``np.int64``)."""
    return (whole_number(ctx, "ctx"), whole_number(seed, "seed", minimum=0),
            whole_number(eval_tokens, "eval_tokens"), positive_float(val_fraction, "val_fraction"))


def _setup(corpus, tokenizer, ctx, seed, device, dtype, eval_tokens, val_fraction, convention,
           check_corpus) -> tuple[dict, ShapeFamily]:
    """Check the settings both designs share; the runs' common config and the shape family."""
    ctx, seed, eval_tokens, val_fraction = _run_settings(ctx, seed, eval_tokens, val_fraction)
    check_convention(convention)
    if check_corpus:
        _check_corpus(corpus)
    base = _base_config(corpus, tokenizer, ctx, seed, device, dtype, eval_tokens, val_fraction)
    return base, ShapeFamily(vocab=tokenizer_vocab(tokenizer), ctx=ctx)


# ----- IsoFLOP grid ----------------------------------------------------------------------------------
def isoflop_design(
    budgets,
    *,
    sizes_per_budget: int = 5,
    span_decades: float = 1.0,
    corpus: str | None = None,
    tokenizer: str = "byte",
    ctx: int = 128,
    prior_law=None,
    convention: str = DEFAULT_CONVENTION,
    rule: HyperparameterRule | None = None,
    seed: int = 0,
    device: str = "auto",
    dtype: str = "fp32",
    eval_tokens: int = 32_768,
    val_fraction: float = 0.01,
    check_corpus: bool = True,
) -> SweepDesign:
    """An IsoFLOP grid: for each budget, model sizes spanning ``span_decades`` around the prior optimum.

    Parameters
    ----------
    budgets : sequence of float, or one number
        Training budgets C in FLOPs under ``convention`` (full FLOPs by default); a single number
        is one budget. Strings such as ``"1e11"`` are read as the CLI reads them. Budgets must be
        more than 5% apart (``IsoFLOPFit.budget_rtol``), or Approach 2 would fit them as one.
    sizes_per_budget : int
        Models per budget (at least 3, so a parabola can be fitted). Any whole number is accepted
        (``5``, ``5.0``, ``np.int64(5)``), here and for ``ctx``, ``seed`` and ``eval_tokens``.
    span_decades : float
        Width of the size range in decades of total parameters, centred on the prior's optimum.
    prior_law : str or law, optional
        What centres each budget's range: ``"tokens-per-param:R"`` (R tokens per parameter, full
        FLOPs), a ``get_law`` name such as ``"hoffmann2022"`` (its optimum over the shape family,
        in full FLOPs), or an object with ``predict(params, tokens)``. Default:
        :func:`default_prior` of the tokenizer.
    convention : str
        FLOP convention used for D = C / (FLOPs per token) and for the budgets.

    Returns
    -------
    SweepDesign
        ``kind="isoflop"``; one group of runs per budget, ``notes`` on any size range moved.

    Raises
    ------
    ScalingLabError
        On fewer than 3 sizes or a fractional count, a budget that is not a positive finite
        number, two budgets within 5% of each other, an unknown corpus or convention, or a budget
        too small for even the smallest model to take the rule's minimum number of steps.
    """
    corpus = corpus or DEFAULT_CORPUS
    rule = rule or HyperparameterRule()
    budgets = _read_budgets(budgets)
    sizes_per_budget = whole_number(sizes_per_budget, "sizes_per_budget")
    if sizes_per_budget < 3:
        raise ScalingLabError(f"sizes_per_budget: need at least 3 to locate a minimum, got {sizes_per_budget}")
    span_decades = positive_float(span_decades, "span_decades")
    base, family = _setup(corpus, tokenizer, ctx, seed, device, dtype, eval_tokens, val_fraction,
                          convention, check_corpus)
    law = resolve_prior(prior_law or default_prior(tokenizer))
    candidates = family.candidates()
    runs: list[PlannedRun] = []
    notes: list[str] = []
    centres = {}
    for budget in budgets:
        feasible = _feasible(candidates, budget, convention, rule, base["ctx"])
        centre = prior_centre(law, budget, family, convention, candidates)
        centres[budget] = centre["params"]
        chosen, note = _sizes_around(family, feasible, centre["params"], budget, sizes_per_budget,
                                     span_decades, rule)
        if note:
            notes.append(note)
        for pick in sorted(chosen, key=lambda c: c["params"]):
            tokens = budget / pick["shape"].flops_per_token(convention)
            runs.append(plan_run(pick, tokens, group=f"C={budget:.3g}", budget=budget, base=base,
                                 rule=rule, convention=convention))
    _check_unique(runs)
    _check_budgets_stay_apart(runs, IsoFLOPFit.budget_rtol)
    settings = {
        "budgets": budgets, "sizes_per_budget": sizes_per_budget, "span_decades": span_decades,
        "corpus": corpus, "tokenizer": tokenizer, **{k: base[k] for k in ("ctx", "seed")},
        "device": device, "dtype": dtype, "eval_tokens": base["eval_tokens"],
        "val_fraction": base["val_fraction"],
        "prior_law": getattr(law, "name", str(prior_law)), "convention": convention,
        "prior_optimum_params": {f"{b:.6g}": n for b, n in centres.items()},
        "hyperparameter_rule": rule.as_dict(),
    }
    return SweepDesign(kind="isoflop", runs=runs, settings=settings, notes=notes)


def _read_budgets(budgets) -> list[float]:
    """The budgets, sorted, refused when two are within the IsoFLOP fit's grouping tolerance."""
    budgets = number_list(budgets, "budgets", sort=True)
    if len(set(budgets)) != len(budgets):
        raise ScalingLabError(f"budgets repeat a value: {budgets}")
    # Approach 2 groups runs whose FLOPs agree within budget_rtol into one profile: two budgets
    # that close would be fitted as one parabola over twice the sizes, silently.
    rtol = IsoFLOPFit.budget_rtol
    for low, high in zip(budgets[:-1], budgets[1:], strict=True):
        if high <= low * (1 + rtol):
            raise ScalingLabError(
                f"budgets {low:.4g} and {high:.4g} differ by less than {rtol:.0%}: the IsoFLOP fit "
                "would merge them into one profile; space budgets further apart (e.g. 2-3x)")
    return budgets


def _feasible(candidates: list[dict], budget: float, convention: str, rule: HyperparameterRule,
              ctx: int) -> list[dict]:
    """The candidates that can take the rule's minimum steps on ``budget``; refused when none can."""
    min_tokens = rule.min_steps * ctx
    feasible = [c for c in candidates if budget / c["shape"].flops_per_token(convention) >= min_tokens]
    if not feasible:
        smallest = min(candidates, key=lambda c: c["params"])
        need = smallest["shape"].flops_per_token(convention) * min_tokens
        raise ScalingLabError(
            f"budget {budget:.3g} FLOPs is too small: even the smallest model "
            f"({smallest['params']:,} params) needs {need:.3g} FLOPs for {rule.min_steps} steps "
            f"of one {ctx}-token sequence"
        )
    return feasible


def _sizes_around(family: ShapeFamily, feasible: list[dict], centre: float, budget: float,
                  count: int, span: float, rule: HyperparameterRule) -> tuple[list[dict], str | None]:
    """``count`` distinct shapes log-evenly over ``span`` decades around ``centre`` parameters.

    Targets beyond the family's smallest shape (or beyond the largest that can still take
    min_steps steps) collapse onto one shape: the range is then extended on the open side, one
    size step at a time, so the profile keeps its number of sizes, and a note says so.
    """
    half = span / 2
    targets = [centre * 10 ** (-half + span * k / (count - 1)) for k in range(count)]
    chosen: list[dict] = []
    for target in targets:
        pick = family.nearest(feasible, target)
        if all(pick is not c for c in chosen):
            chosen.append(pick)
    if len(chosen) == count:
        return chosen, None
    largest = max(c["params"] for c in feasible)
    why = (f"the larger models would take fewer than {rule.min_steps} steps"
           if targets[-1] > 1.2 * largest else "the shape family has no smaller shapes")
    step = 10 ** (span / (count - 1))
    while len(chosen) < count:
        top = max(c["params"] for c in chosen)
        bottom = min(c["params"] for c in chosen)
        above = [c for c in feasible if c["params"] >= top * step**0.5]
        below = [c for c in feasible if c["params"] <= bottom / step**0.5]
        if above:
            chosen.append(family.nearest(above, top * step))
        elif below:
            chosen.append(family.nearest(below, bottom / step))
        else:
            break
    if len(chosen) < 3:
        raise ScalingLabError(
            f"budget {budget:.3g} FLOPs admits only {len(chosen)} distinct model size(s) "
            f"around the prior's optimum ({why}); an IsoFLOP profile needs 3: raise the "
            "budget or widen the span"
        )
    return chosen, (f"budget {budget:.3g}: the size range was moved off the prior's centre "
                    f"({why}); {len(chosen)} sizes")


# ----- model ladder ---------------------------------------------------------------------------------
def ladder_design(
    sizes,
    multiples=(5, 10, 20, 40),
    *,
    corpus: str | None = None,
    tokenizer: str = "byte",
    ctx: int = 128,
    convention: str = DEFAULT_CONVENTION,
    rule: HyperparameterRule | None = None,
    seed: int = 0,
    device: str = "auto",
    dtype: str = "fp32",
    eval_tokens: int = 32_768,
    val_fraction: float = 0.01,
    check_corpus: bool = True,
) -> SweepDesign:
    """A model ladder: each size trained on ``multiple x params`` tokens for every multiple.

    Parameters
    ----------
    sizes : sequence of float, or one number
        Target total parameter counts; each maps to the nearest shape of the family, which must be
        within :data:`MAX_SIZE_MISS` (2x) of it.
    multiples : sequence of float, or one number
        Tokens per parameter (OLMo ladder: 1x, 2x, 5x, 10x Chinchilla's 20).
    ctx, seed, eval_tokens : int
        Any whole number is accepted (``128``, ``128.0``, ``np.int64(128)``).

    Returns
    -------
    SweepDesign
        ``kind="ladder"``: ``len(sizes) x len(multiples)`` runs, fewer when sizes share a shape.

    Raises
    ------
    ScalingLabError
        On a size or multiple that is not a positive finite number, a repeated multiple, a size
        no shape of the family comes within 2x of, or an unknown corpus or convention.

    Warns
    -----
    UserWarning
        When several sizes map to the same shape: it is trained once (also in ``notes``).
    """
    corpus = corpus or DEFAULT_CORPUS
    rule = rule or HyperparameterRule()
    sizes = number_list(sizes, "sizes", sort=True)
    multiples = number_list(multiples, "multiples", sort=True)
    if len(set(multiples)) != len(multiples):
        raise ScalingLabError(f"multiples repeat a value: {multiples}")
    base, family = _setup(corpus, tokenizer, ctx, seed, device, dtype, eval_tokens, val_fraction,
                          convention, check_corpus)
    candidates = family.candidates()
    runs = []
    notes = []
    for pick, asked in _rungs(candidates, sizes):
        if len(asked) > 1:
            # Two rungs on one shape would train the same runs twice (same run IDs): one is kept,
            # and the ladder has fewer sizes than asked for, which must not pass unnoticed.
            note = (f"sizes {', '.join(f'{a:.3g}' for a in asked)} all map to the same shape "
                    f"({pick['n_layer']}x{pick['d_model']}, {pick['params']:,} params); "
                    "it is trained once")
            notes.append(note)
            warnings.warn(f"ladder_design: {note}", UserWarning, stacklevel=2)
        for m in multiples:
            runs.append(plan_run(pick, m * pick["params"], group=f"{m:g} tokens/param", budget=None,
                                 base=base, rule=rule, convention=convention))
    _check_unique(runs, what="two multiples")
    settings = {"sizes": sizes, "multiples": multiples, "corpus": corpus, "tokenizer": tokenizer,
                "ctx": base["ctx"], "seed": base["seed"], "device": device, "dtype": dtype,
                "eval_tokens": base["eval_tokens"], "val_fraction": base["val_fraction"],
                "convention": convention, "hyperparameter_rule": rule.as_dict()}
    return SweepDesign(kind="ladder", runs=runs, settings=settings, notes=notes)


def _rungs(candidates: list[dict], sizes: list[float]) -> list[tuple[dict, list[float]]]:
    """Each distinct shape the sizes map to (by the shape rule), with the sizes it stands for."""
    chosen: dict[int, tuple[dict, list[float]]] = {}  # id(shape) -> (shape, requested sizes)
    for size in sizes:
        pick = choose_shape(candidates, size, name="sizes")
        chosen.setdefault(id(pick), (pick, []))[1].append(size)
    return list(chosen.values())


def _check_unique(runs: list[PlannedRun], what: str = "two budgets") -> None:
    ids = [r.run_id for r in runs]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise ScalingLabError(f"the design repeats run(s) {', '.join(dupes)}: {what} chose the same run")


def _check_budgets_stay_apart(runs: list[PlannedRun], rtol: float) -> None:
    """Refuse a grid whose runs the IsoFLOP fit would group differently from their budgets.

    Each run spends its budget to within one batch, so budgets just over ``rtol`` apart can still
    produce runs that :func:`~scalinglab.fit.isoflop.group_budgets` chains into one profile.
    """
    labels = group_budgets([r.flops for r in runs], rtol)
    by_label: dict[int, set] = {}
    for label, run in zip(labels, runs, strict=True):
        by_label.setdefault(int(label), set()).add(run.budget)
    for budgets in by_label.values():
        if len(budgets) > 1:
            shown = " and ".join(f"{b:.4g}" for b in sorted(budgets))
            raise ScalingLabError(
                f"budgets {shown}: their runs' FLOPs fall within {rtol:.0%} of each other, so the "
                "IsoFLOP fit would merge them into one profile; space budgets further apart (e.g. 2-3x)")
