"""A sweep's plan: the runs it will train (:class:`PlannedRun`) and the design holding them.

:func:`plan_run` turns one shape and a token target into a fully specified run: its
:class:`~scalinglab.train.config.TrainConfig`, run ID, the hyper-parameters of the stated rule
(:mod:`scalinglab.sweep.hyperparams`) and its FLOPs and parameter counts under every convention.
The designs that choose the shapes and tokens are in :mod:`scalinglab.sweep.design`.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field

from scalinglab.core.architecture import FLOP_CONVENTIONS
from scalinglab.sweep.hyperparams import HyperparameterRule
from scalinglab.sweep.store import canonical_json, run_id
from scalinglab.train.config import TrainConfig

#: The convention a sweep budgets and fits with unless told otherwise (full FLOPs).
DEFAULT_CONVENTION = "chinchilla"

#: Parameter conventions stored per run: name -> TransformerShape attribute.
PARAM_CONVENTIONS = {"total": "total_params", "non_embedding": "non_embedding_params",
                     "kaplan": "kaplan_params", "12ld2": "approx_12ld2"}


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
        A :func:`~scalinglab.core.shapes.candidate_shapes` entry.
    tokens : float
        Training tokens wanted; the run trains on whole batches, at most this many.
    base : dict
        TrainConfig fields shared by every run (corpus, tokenizer, ctx, seed, device...).
    """
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
