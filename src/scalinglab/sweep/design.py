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
import hashlib
import html
import math
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np

from scalinglab.errors import ScalingLabError
from scalinglab.sweep.hyperparams import HyperparameterRule
from scalinglab.sweep.store import canonical_json, run_id

#: The convention a sweep budgets and fits with unless told otherwise (full FLOPs).
DEFAULT_CONVENTION = "chinchilla"

#: Parameter conventions stored per run: name -> TransformerShape attribute.
PARAM_CONVENTIONS = {"total": "total_params", "non_embedding": "non_embedding_params",
                     "kaplan": "kaplan_params", "12ld2": "approx_12ld2"}

#: Widths the shape family draws from; every one divisible by its head width.
_WIDTHS = (8, 12, 16, 24, 32, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512, 640, 768, 1024, 1280,
           1536, 2048, 2560, 3072, 4096, 5120, 6144, 8192, 10240, 12288, 16384)


def head_dim_for(d_model: int) -> int:
    """Head width used by the shape family: one head below d 16, 16 up to d 128, 32 up to 384, 64
    above (GPT-2 style)."""
    return d_model if d_model < 16 else 16 if d_model <= 128 else 32 if d_model <= 384 else 64


def preferred_aspect(d_model: int) -> float:
    """d_model / n_layer the family aims for: 32 for tiny widths, 64 from d 512 (GPT-2 small: 64).

    Kaplan et al. 2020 §3.1 (Fig. 5): loss depends weakly on shape for aspect ratios within a
    wide range (about 20-200), so the choice matters little; it only has to be consistent.
    """
    return 32.0 if d_model < 512 else 64.0


@dataclass(frozen=True)
class ShapeFamily:
    """The model shapes a design may use (decoder-only, tied embeddings, MLP 4·d, no biases).

    Parameters
    ----------
    vocab, ctx : int
        Vocabulary (from the tokenizer) and context length.
    max_layers : int
        Deepest model considered.
    """

    vocab: int
    ctx: int
    max_layers: int = 128

    def candidates(self) -> list[dict]:
        """Every (n_layer, d_model, n_head) with d_model / n_layer in 0.7-1.5x the preferred ratio.

        One-layer models are always admitted (the narrowest widths cannot reach the ratio).
        """
        from scalinglab.core.architecture import TransformerShape

        out = []
        for d in _WIDTHS:
            for layers in range(1, self.max_layers + 1):
                aspect = d / layers
                if not (0.7 <= aspect / preferred_aspect(d) <= 1.5 or (layers == 1 and aspect <= 1.5 * preferred_aspect(d))):
                    continue
                n_head = d // head_dim_for(d)
                shape = TransformerShape(n_layer=layers, d_model=d, n_head=n_head, vocab=self.vocab,
                                         ctx=self.ctx)
                out.append({"n_layer": layers, "d_model": d, "n_head": n_head,
                            "params": shape.total_params, "shape": shape,
                            "misfit": abs(math.log(aspect / preferred_aspect(d)))})
        return out

    def optimum(self, law, compute: float, convention: str, candidates: list[dict] | None = None) -> dict:
        """The candidate with the lowest ``law`` loss when trained on ``compute`` FLOPs.

        Tokens are ``compute / flops_per_token(convention)`` of each shape, so the answer accounts
        for the head and attention FLOPs that a closed form in 6·N·D leaves out. The returned
        entry gains ``tokens`` and ``loss`` and ``at_edge`` (True when the best shape is the
        smallest or largest of the family: the true optimum may lie beyond it).
        """
        candidates = candidates if candidates is not None else self.candidates()

        def loss(c):
            # a fitted exponent can be large: N**alpha may overflow to inf, whose limit (the
            # term -> 0) is the right answer, so the overflow warning is noise here
            with np.errstate(over="ignore"):
                return float(law.predict(c["params"], compute / c["shape"].flops_per_token(convention)))

        best = min(candidates, key=loss)
        sizes = [c["params"] for c in candidates]
        return dict(best, tokens=compute / best["shape"].flops_per_token(convention), loss=loss(best),
                    at_edge=best["params"] in (min(sizes), max(sizes)))

    def nearest(self, candidates: list[dict], params: float) -> dict:
        """The candidate closest to ``params`` in log size, preferring the usual aspect ratio."""
        return min(candidates, key=lambda c: abs(math.log(c["params"] / params)) + 0.1 * c["misfit"])


@dataclass(frozen=True)
class PlannedRun:
    """One run of a design: its config, ID and what it costs under each convention."""

    run_id: str
    group: str
    budget: float | None
    config: dict
    params: int
    non_embedding_params: int
    tokens: int
    steps: int
    flops: float
    convention: str
    flops_by_convention: dict
    params_by_convention: dict
    hyperparameters: dict

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def __repr__(self) -> str:
        # The full config and every convention's counts make the default repr ~1.4 KB a run;
        # the fields (and as_dict()) still hold them all.
        cfg = self.config
        shape = f"{cfg.get('n_layer')}x{cfg.get('d_model')}" if "n_layer" in cfg else "?"
        return (f"PlannedRun({self.run_id!r}, group={self.group!r}, shape={shape}, "
                f"params={self.params:,}, tokens={self.tokens:,}, steps={self.steps:,}, "
                f"flops={self.flops:.3g} ({self.convention}), lr={cfg.get('lr', float('nan')):.3g}, "
                f"batch_size={cfg.get('batch_size')})")


@dataclass
class SweepDesign:
    """A list of planned runs with the settings that produced them.

    Attributes
    ----------
    kind : {"isoflop", "ladder"}
    runs : list of PlannedRun
    settings : dict
        Everything the design was built from (budgets, corpus, rule, prior law, convention).
    notes : list of str
        What the designer had to compromise on (e.g. a size range cut short by the step minimum).
    """

    kind: str
    runs: list[PlannedRun]
    settings: dict
    notes: list[str] = field(default_factory=list)

    @property
    def design_id(self) -> str:
        """16 hex digits over the kind and the sorted run IDs: equal designs share it."""
        body = canonical_json({"kind": self.kind, "runs": sorted(r.run_id for r in self.runs)})
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    @property
    def total_flops(self) -> float:
        return float(sum(r.flops for r in self.runs))

    @property
    def budgets(self) -> list[float]:
        return sorted({r.budget for r in self.runs if r.budget is not None})

    def as_dict(self) -> dict:
        return {"design_id": self.design_id, "kind": self.kind, "settings": self.settings,
                "notes": list(self.notes), "total_flops": self.total_flops,
                "runs": [r.as_dict() for r in self.runs]}

    def _scope(self) -> str:
        """What the design spans, in one phrase: its budgets, or its sizes and multiples."""
        if self.kind == "isoflop":
            return "budgets=[" + ", ".join(f"{b:.3g}" for b in self.budgets) + "]"
        multiples = self.settings.get("multiples", [])
        return ("multiples=[" + ", ".join(f"{m:g}" for m in multiples) + "] tokens/param")

    def __repr__(self) -> str:
        # A notebook prints the design after building it: the default dataclass repr (every
        # run's full config) is ~20 KB for 10 runs. The key numbers fit on one line; the runs
        # themselves stay in .runs and as_dict().
        params = [r.params for r in self.runs]
        sizes = f"{min(params):,}-{max(params):,}" if params else "none"
        notes = f", notes={len(self.notes)}" if self.notes else ""
        return (f"SweepDesign(kind={self.kind!r}, runs={len(self.runs)}, {self._scope()}, "
                f"params={sizes}, total_flops={self.total_flops:.3g}, "
                f"design_id={self.design_id!r}{notes})")

    def _repr_html_(self) -> str:
        """A table of the runs for Jupyter (one row per run, the numbers that decide its cost)."""
        head = ("<tr><th>run_id</th><th>group</th><th>shape</th><th>params</th><th>tokens</th>"
                "<th>steps</th><th>FLOPs</th></tr>")
        rows = "".join(
            f"<tr><td>{html.escape(r.run_id)}</td><td>{html.escape(str(r.group))}</td>"
            f"<td>{r.config.get('n_layer')}x{r.config.get('d_model')}</td><td>{r.params:,}</td>"
            f"<td>{r.tokens:,}</td><td>{r.steps:,}</td><td>{r.flops:.3g}</td></tr>"
            for r in self.runs)
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (f"<p><b>SweepDesign</b> {html.escape(self.kind)}: {len(self.runs)} runs, "
                f"{html.escape(self._scope())}, total {self.total_flops:.3g} FLOPs "
                f"({html.escape(str(self.settings.get('convention', DEFAULT_CONVENTION)))}), design_id "
                f"<code>{html.escape(self.design_id)}</code></p>"
                f"<table>{head}{rows}</table>" + (f"<ul>{notes}</ul>" if notes else ""))


# ----- building one run ---------------------------------------------------------------------------
def plan_run(shape_choice: dict, tokens: float, *, group: str, budget: float | None, base: dict,
             rule: HyperparameterRule, convention: str, eval_points: int = 5) -> PlannedRun:
    """Turn a shape and a token target into a :class:`PlannedRun` with the rule's hyper-parameters.

    Parameters
    ----------
    shape_choice : dict
        A :meth:`ShapeFamily.candidates` entry.
    tokens : float
        Training tokens wanted; the run trains on whole batches, at most this many.
    base : dict
        TrainConfig fields shared by every run (corpus, tokenizer, ctx, seed, device...).
    """
    from scalinglab.core.architecture import FLOP_CONVENTIONS
    from scalinglab.train.config import TrainConfig

    shape = shape_choice["shape"]
    fpt = shape.flops_per_token(convention)
    compute = fpt * tokens
    hp = rule.choose(compute, shape.total_params, tokens, shape.ctx)
    trained = hp.steps * hp.batch_size * shape.ctx
    config = TrainConfig(
        **base,
        n_layer=shape.n_layer, d_model=shape.d_model, n_head=shape.n_head,
        tokens=int(trained), batch_size=hp.batch_size, lr=hp.lr, min_lr_ratio=hp.min_lr_ratio,
        warmup_steps=hp.warmup_steps,
        eval_every=max(1, hp.steps // eval_points),
        checkpoint_every=max(1, hp.steps // 4),
    ).to_dict()
    flops_by = {name: shape.flops_per_token(name) * trained for name in FLOP_CONVENTIONS}
    params_by = {name: getattr(shape, attr) for name, attr in PARAM_CONVENTIONS.items()}
    return PlannedRun(
        run_id=run_id(config), group=group, budget=budget, config=config,
        params=shape.total_params, non_embedding_params=shape.non_embedding_params,
        tokens=int(trained), steps=hp.steps, flops=flops_by[convention], convention=convention,
        flops_by_convention=flops_by, params_by_convention=params_by,
        hyperparameters=hp.as_dict(),
    )


def _base_config(corpus: str, tokenizer: str, ctx: int, seed: int, device: str, dtype: str,
                 eval_tokens: int, val_fraction: float) -> dict:
    return {"corpus": corpus, "tokenizer": tokenizer, "ctx": ctx, "seed": seed, "device": device,
            "dtype": dtype, "eval_tokens": eval_tokens, "val_fraction": val_fraction}


@functools.lru_cache(maxsize=32)
def _check_corpus(corpus: str) -> None:
    """Fail early, before any training, on a corpus that does not exist here (once per process)."""
    from scalinglab.train.corpora import resolve_corpus

    resolve_corpus(corpus)


#: How far (as a factor) a ladder's shape may miss the size asked for before the design refuses it.
MAX_SIZE_MISS = 2.0

#: Hoffmann et al. 2022 Table 3 [P]: the compute-optimal models train on about 20 tokens per
#: parameter (1B params -> 20.2B tokens, 10B -> 205.1B; [P]).
CHINCHILLA_TOKENS_PER_PARAM = 20.0

#: Bytes per BPE token of English-like text: "one token generally corresponds to ~4 characters"
#: (OpenAI tokenizer documentation) [S]; unverified for code, hence only a prior's scale.
BYTES_PER_BPE_TOKEN = 4.0


def default_prior(tokenizer: str) -> str:
    """The prior a design uses when none is named: Chinchilla's 20 tokens per parameter, in bytes
    (x4, 80 per parameter) for a byte-level tokenizer; in full FLOPs either way.

    Measured here (byte-level, python-stdlib, 1e11-3e12 full FLOPs; benchmarks/results/sweep.md):
    Hoffmann's Eq. 10 optimum over the shape family sits at 6-10 bytes per parameter and a sweep
    centred on it found its lowest loss at the smallest size in 3 of 4 budgets; centred at 20, the
    lowest losses sat at 55-180 bytes per parameter, three of four at the smallest size; centred
    at 80, every IsoFLOP minimum was interior.
    """
    ratio = CHINCHILLA_TOKENS_PER_PARAM * (BYTES_PER_BPE_TOKEN if tokenizer == "byte" else 1.0)
    return f"tokens-per-param:{ratio:g}"


@dataclass(frozen=True)
class TokensPerParamPrior:
    """A prior that centres each budget where tokens / params equals ``ratio`` (full FLOPs)."""

    ratio: float

    @property
    def name(self) -> str:
        return f"tokens-per-param:{self.ratio:g}"

    def centre(self, compute: float, family: ShapeFamily, convention: str, candidates) -> dict:
        def miss(c):
            tokens = compute / c["shape"].flops_per_token(convention)
            return abs(math.log(tokens / c["params"] / self.ratio))

        return min(candidates, key=miss)


def _prior(law):
    """A law from the registry, a ``tokens-per-param:R`` rule, or a law object."""
    if isinstance(law, str) and law.startswith("tokens-per-param:"):
        from scalinglab.core.numbers import parse_number

        return TokensPerParamPrior(parse_number(law.split(":", 1)[1], name="tokens per parameter"))
    from scalinglab.laws.registry import get_law

    return get_law(law) if isinstance(law, str) else law


def _centre(prior, compute: float, family: ShapeFamily, convention: str, candidates) -> dict:
    if isinstance(prior, TokensPerParamPrior):
        return prior.centre(compute, family, convention, candidates)
    return family.optimum(prior, compute, convention, candidates)


# ----- argument checks ------------------------------------------------------------------------------
def _whole(value, name: str) -> int:
    """``value`` as an ``int`` when it is a whole number of any numeric type, else a clear error.

    A notebook hands over ``np.int64`` (from ``np.arange``) or ``5.0`` (from arithmetic) as often as
    ``5``; an ``isinstance(value, int)`` check would refuse both with a misleading message.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number) and number.is_integer():
            return int(number)
    raise ScalingLabError(f"{name}: must be a whole number, got {value!r}")


def _positive_numbers(values, name: str, what: str) -> list[float]:
    """``values`` (a sequence, an array or one number) as sorted positive finite floats.

    One number is taken as a one-element list; strings are read by
    :func:`~scalinglab.core.numbers.parse_number` (``"1e11"``, ``"70B"``), as the CLI reads them.
    """
    from scalinglab.core.numbers import parse_number

    if isinstance(values, np.ndarray):
        values = values.ravel().tolist()
    elif isinstance(values, (str, bytes, numbers.Number)) or not hasattr(values, "__iter__"):
        values = [values]
    out = []
    for value in values:
        if isinstance(value, str):
            value = parse_number(value, name=name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ScalingLabError(f"{name}: expected numbers ({what}), got {value!r}")
        number = float(value)
        if not (math.isfinite(number) and number > 0):
            raise ScalingLabError(f"{name}: every value must be a positive, finite {what}; got {value!r}")
        out.append(number)
    return sorted(out)


def _run_settings(ctx, seed, eval_tokens, val_fraction) -> tuple[int, int, int, float]:
    """The shared run settings with numpy or float spellings of whole numbers accepted."""
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, numbers.Real):
        raise ScalingLabError(f"val_fraction: must be a number, got {val_fraction!r}")
    return (_whole(ctx, "ctx"), _whole(seed, "seed"), _whole(eval_tokens, "eval_tokens"),
            float(val_fraction))


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
    from scalinglab.core.architecture import check_convention
    from scalinglab.fit.isoflop import IsoFLOPFit
    from scalinglab.train.config import DEFAULT_CORPUS, tokenizer_vocab

    corpus = corpus or DEFAULT_CORPUS
    rule = rule or HyperparameterRule()
    budgets = _positive_numbers(budgets, "budgets", "FLOP count")
    if not budgets:
        raise ScalingLabError("an IsoFLOP sweep needs at least one budget")
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
    sizes_per_budget = _whole(sizes_per_budget, "sizes_per_budget")
    if sizes_per_budget < 3:
        raise ScalingLabError(f"sizes_per_budget: need at least 3 to locate a minimum, got {sizes_per_budget}")
    if isinstance(span_decades, bool) or not isinstance(span_decades, numbers.Real) \
            or not (math.isfinite(span_decades) and span_decades > 0):
        raise ScalingLabError(f"span_decades: must be a positive, finite number, got {span_decades!r}")
    span_decades = float(span_decades)
    ctx, seed, eval_tokens, val_fraction = _run_settings(ctx, seed, eval_tokens, val_fraction)
    check_convention(convention)
    if check_corpus:
        _check_corpus(corpus)
    law = _prior(prior_law or default_prior(tokenizer))
    family = ShapeFamily(vocab=tokenizer_vocab(tokenizer), ctx=ctx)
    candidates = family.candidates()
    base = _base_config(corpus, tokenizer, ctx, seed, device, dtype, eval_tokens, val_fraction)
    min_tokens = rule.min_steps * ctx

    runs: list[PlannedRun] = []
    notes: list[str] = []
    centres = {}
    for budget in budgets:
        feasible = [c for c in candidates
                    if budget / c["shape"].flops_per_token(convention) >= min_tokens]
        if not feasible:
            smallest = min(candidates, key=lambda c: c["params"])
            need = smallest["shape"].flops_per_token(convention) * min_tokens
            raise ScalingLabError(
                f"budget {budget:.3g} FLOPs is too small: even the smallest model "
                f"({smallest['params']:,} params) needs {need:.3g} FLOPs for {rule.min_steps} steps "
                f"of one {ctx}-token sequence"
            )

        centre = _centre(law, budget, family, convention, candidates)
        centres[budget] = centre["params"]
        half = span_decades / 2
        targets = [centre["params"] * 10 ** (-half + span_decades * k / (sizes_per_budget - 1))
                   for k in range(sizes_per_budget)]
        chosen: list[dict] = []
        for target in targets:
            pick = family.nearest(feasible, target)
            if all(pick is not c for c in chosen):
                chosen.append(pick)
        if len(chosen) < sizes_per_budget:
            # Targets beyond the family's smallest shape (or beyond the largest that can still take
            # min_steps steps) collapse onto one shape: extend the range on the open side instead,
            # one size step at a time, so the profile keeps its number of sizes.
            largest = max(c["params"] for c in feasible)
            why = (f"the larger models would take fewer than {rule.min_steps} steps"
                   if targets[-1] > 1.2 * largest else "the shape family has no smaller shapes")
            step = 10 ** (span_decades / (sizes_per_budget - 1))
            while len(chosen) < sizes_per_budget:
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
            notes.append(f"budget {budget:.3g}: the size range was moved off the prior's centre "
                         f"({why}); {len(chosen)} sizes")
            if len(chosen) < 3:
                raise ScalingLabError(
                    f"budget {budget:.3g} FLOPs admits only {len(chosen)} distinct model size(s) "
                    f"around the prior's optimum ({why}); an IsoFLOP profile needs 3: raise the "
                    "budget or widen the span"
                )
        for pick in sorted(chosen, key=lambda c: c["params"]):
            tokens = budget / pick["shape"].flops_per_token(convention)
            runs.append(plan_run(pick, tokens, group=f"C={budget:.3g}", budget=budget, base=base,
                                 rule=rule, convention=convention))
    _check_unique(runs)
    _check_budgets_stay_apart(runs, rtol)
    settings = {
        "budgets": budgets, "sizes_per_budget": sizes_per_budget, "span_decades": span_decades,
        "corpus": corpus, "tokenizer": tokenizer, "ctx": ctx, "seed": seed, "device": device,
        "dtype": dtype, "eval_tokens": eval_tokens, "val_fraction": val_fraction,
        "prior_law": getattr(law, "name", str(prior_law)), "convention": convention,
        "prior_optimum_params": {f"{b:.6g}": n for b, n in centres.items()},
        "hyperparameter_rule": rule.as_dict(),
    }
    return SweepDesign(kind="isoflop", runs=runs, settings=settings, notes=notes)


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
    from scalinglab.core.architecture import check_convention
    from scalinglab.train.config import DEFAULT_CORPUS, tokenizer_vocab

    corpus = corpus or DEFAULT_CORPUS
    rule = rule or HyperparameterRule()
    sizes = _positive_numbers(sizes, "sizes", "parameter count")
    multiples = _positive_numbers(multiples, "multiples", "tokens-per-parameter ratio")
    if not sizes or not multiples:
        raise ScalingLabError("a ladder needs at least one size and one tokens-per-parameter multiple")
    if len(set(multiples)) != len(multiples):
        raise ScalingLabError(f"multiples repeat a value: {multiples}")
    ctx, seed, eval_tokens, val_fraction = _run_settings(ctx, seed, eval_tokens, val_fraction)
    check_convention(convention)
    if check_corpus:
        _check_corpus(corpus)
    family = ShapeFamily(vocab=tokenizer_vocab(tokenizer), ctx=ctx)
    candidates = family.candidates()
    base = _base_config(corpus, tokenizer, ctx, seed, device, dtype, eval_tokens, val_fraction)
    runs = []
    notes = []
    chosen: dict[int, list[float]] = {}  # id(shape) -> the requested sizes it stands for
    picks = []
    for size in sizes:
        pick = family.nearest(candidates, size)
        if not 1 / MAX_SIZE_MISS <= pick["params"] / size <= MAX_SIZE_MISS:
            smallest = min(c["params"] for c in candidates)
            largest = max(c["params"] for c in candidates)
            raise ScalingLabError(
                f"sizes: no shape of the family is within {MAX_SIZE_MISS:g}x of {size:.3g} parameters "
                f"(the nearest has {pick['params']:,}); at vocab {family.vocab} and ctx {ctx} the family "
                f"spans {smallest:,} to {largest:,} parameters")
        if id(pick) not in chosen:
            chosen[id(pick)] = []
            picks.append(pick)
        chosen[id(pick)].append(size)
    for pick in picks:
        asked = chosen[id(pick)]
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
                "ctx": ctx, "seed": seed, "device": device, "dtype": dtype,
                "eval_tokens": eval_tokens, "val_fraction": val_fraction, "convention": convention,
                "hyperparameter_rule": rule.as_dict()}
    return SweepDesign(kind="ladder", runs=runs, settings=settings, notes=notes)


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
    from scalinglab.fit.isoflop import group_budgets

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
