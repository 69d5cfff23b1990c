"""After the runs: fit the law three ways, check the extrapolation, plan the user's budget.

:func:`analyze_sweep` reads a sweep folder and answers, in one dict:

- **fits**: Approach 3 (parametric L(N, D), always), Approach 2 (IsoFLOP parabolas, on IsoFLOP
  designs) and Approach 1 (envelope of the eval curves, where they exist) — Hoffmann et al. 2022
  §3.1-3.3, estimators in :mod:`scalinglab.fit`;
- **IsoFLOP optima**: per budget, the parabola's minimum and whether it is interior to the sizes
  trained (a minimum at the edge means the range missed the optimum, and the fit says so);
- **extrapolation check**: Approach 3 fitted on the smaller budgets only predicts the loss of every
  run of the held-out largest budget(s), beside the measured loss (:mod:`scalinglab.fit.validate`);
- **plan**: the compute-optimal model for the user's target budget under their own fitted law,
  beside Hoffmann's and Epoch's, in the sweep's full FLOP convention (over real shapes, so the head
  and attention FLOPs are paid for) and in the closed form C = 6·N·D.

N is total parameters and D training tokens throughout; FLOPs are the sweep's convention (full
FLOPs, ``"chinchilla"``, by default). Losses are validation nats per token on the sweep's corpus,
so only the user's own law predicts them; Hoffmann's and Epoch's losses are on MassiveText and are
shown for their allocation, not their loss.
"""

from __future__ import annotations

import math

import numpy as np

from scalinglab.errors import ScalingLabError
from scalinglab.io import read_runs
from scalinglab.sweep.store import RunStore

#: The published laws the plan is compared with (presets of :mod:`scalinglab.laws.registry`).
COMPARISON_LAWS = ("hoffmann2022", "epoch2024")

#: The project's goal for the extrapolation check (docs/fitting.md): every held-out loss within 3%.
EXTRAPOLATION_GOAL = 0.03


def _runs_frame(store: RunStore):
    """The sweep's finished runs, one row per run with all the store's columns (``budget``...),
    read as every source is read (:func:`scalinglab.io.read_runs`: checked, diverged runs noted)."""
    return read_runs(store.directory, curves=False).runs


def isoflop_optima(runs, flops_per_param_token) -> tuple[list[dict], object | None, list[str]]:
    """Approach 2 over the design's budgets: per-budget optima and the fitted estimator.

    ``flops_per_param_token(N)`` gives the convention's FLOPs per parameter per token at size N, so
    that D_opt = C / (k(N_opt)·N_opt) is in the sweep's convention rather than 6·N·D.
    """
    from scalinglab.fit.isoflop import IsoFLOPFit

    notes: list[str] = []
    frame = runs.assign(flops=runs["budget"])  # group by the nominal budget, exactly
    optima = []
    for budget, group in frame.groupby("budget", sort=True):
        group = group.sort_values("params")
        best = group.loc[group["loss"].idxmin()]
        entry = {"budget": float(budget), "sizes": [int(v) for v in group["params"]],
                 "losses": [float(v) for v in group["loss"]], "best_run": best["run_id"],
                 "best_params": int(best["params"]), "best_loss": float(best["loss"]),
                 "best_is_interior": bool(group["params"].iloc[0] < best["params"] < group["params"].iloc[-1])}
        if len(group) >= 3:
            x = np.log(group["params"].to_numpy(float))
            c2, c1, c0 = np.polyfit(x, group["loss"].to_numpy(float), 2)
            if c2 > 0:
                xv = -c1 / (2 * c2)
                n_opt = math.exp(xv)
                entry.update(params_opt=n_opt,
                             tokens_opt=budget / (flops_per_param_token(n_opt) * n_opt),
                             loss_opt=float(c0 + c1 * xv + c2 * xv * xv),
                             interior=bool(x.min() <= xv <= x.max()))
            else:
                entry.update(params_opt=None, tokens_opt=None, loss_opt=None, interior=False)
        else:
            entry.update(params_opt=None, tokens_opt=None, loss_opt=None, interior=False)
        if not entry["interior"]:
            if not entry["best_is_interior"]:
                why = ("the smallest" if entry["best_params"] == entry["sizes"][0] else "the largest")
                why = f"{why} size has the lowest loss"
            elif entry["params_opt"] is None:
                why = "the losses are not convex in log N"
            else:
                why = f"the parabola's vertex, N = {entry['params_opt']:.3g}, falls outside"
            notes.append(
                f"budget {budget:.3g}: the IsoFLOP minimum is NOT interior to the sizes trained "
                f"({entry['sizes'][0]:,}-{entry['sizes'][-1]:,} params; {why}): its N_opt is not "
                "located by this budget; shift or widen the size range")
        optima.append(entry)
    fit = None
    try:
        fit = IsoFLOPFit(budget_rtol=1e-6).fit(frame)
    except ScalingLabError as exc:
        notes.append(f"Approach 2 not fitted: {exc}")
    return optima, fit, notes


def _approach1(store: RunStore, runs):
    from scalinglab.fit.envelope import EnvelopeFit

    curves = store.curves()
    curves = curves[curves["tokens"] > 0]
    if curves.empty:
        raise ScalingLabError("no eval curves stored")
    curves = curves.merge(runs[["run_id", "params"]], on="run_id")
    return EnvelopeFit(n_bootstrap=100).fit(curves)


def _law_summary(law) -> dict:
    return {k: law.as_dict()[k] for k in ("E", "A", "B", "alpha", "beta", "a", "b")}


def plan_budget(law, compute: float, family, convention: str) -> dict:
    """The compute-optimal model for ``compute`` FLOPs under ``law``, two ways.

    ``full``: the best shape of ``family`` when each shape's tokens are C / (FLOPs per token under
    ``convention``); ``closed_form_6nd``: Hoffmann's Eq. 4 with C = 6·N·D.
    """
    best = family.optimum(law, compute, convention)
    closed = law.optimum(compute)
    return {
        "law": getattr(law, "name", "law"),
        "params": float(best["params"]), "tokens": float(best["tokens"]),
        "tokens_per_param": float(best["tokens"] / best["params"]),
        "n_layer": best["n_layer"], "d_model": best["d_model"], "n_head": best["n_head"],
        "loss": float(best["loss"]), "at_family_edge": bool(best["at_edge"]),
        "closed_form_6nd": closed.as_dict(),
    }


def analyze_sweep(directory, *, target_compute: float | None = None, holdout: int = 1) -> dict:
    """Fit, check and plan from a sweep folder (see the module docstring).

    Parameters
    ----------
    directory : path
        A sweep folder with finished runs.
    target_compute : float, optional
        The user's budget in FLOPs (sweep convention); defaults to 100x the largest budget trained.
    holdout : int
        Number of largest budgets held out of the extrapolation fit.

    Returns
    -------
    dict
        ``fits``, ``isoflop``, ``extrapolation``, ``plan`` and ``notes``.
    """
    from scalinglab.fit.parametric import ChinchillaFit
    from scalinglab.fit.validate import extrapolation_check
    from scalinglab.laws.registry import get_law
    from scalinglab.sweep.design import ShapeFamily
    from scalinglab.train.config import tokenizer_vocab

    store = RunStore(directory)
    design = store.read_design()
    if design is None:
        raise ScalingLabError(f"{directory}: not a sweep folder (no sweep.json)")
    settings = design["settings"]
    convention = settings["convention"]
    runs = _runs_frame(store)
    notes: list[str] = []
    out: dict = {"n_runs": int(len(runs)), "convention": convention}

    # FLOPs per parameter per token of the shapes actually trained, as a function of N (for D_opt).
    k_n = np.log(runs["params"].to_numpy(float))
    k_v = (runs["flops"] / (runs["params"] * runs["tokens"])).to_numpy(float)
    order = np.argsort(k_n)

    def flops_per_param_token(n: float) -> float:
        return float(np.interp(math.log(n), k_n[order], k_v[order]))

    # ----- fits ----------------------------------------------------------------------------------
    fits: dict = {"approach3": None}
    own_law = None
    try:
        approach3 = ChinchillaFit(name="this sweep").fit(runs[["params", "tokens", "loss"]])
    except (ScalingLabError, ArithmeticError) as exc:  # too few runs, or a degenerate optimum
        notes.append(f"Approach 3 not fitted: {exc}")
    else:
        fits["approach3"] = {**_law_summary(approach3.law_), "converged": bool(approach3.converged_),
                             "degenerate": bool(approach3.degenerate_),
                             "flags": list(approach3.flags_)}
        own_law = approach3.law_
        if approach3.degenerate_:
            # Still shown and planned with, but labelled: the runs do not pin all five constants.
            notes.append("Approach 3: the runs do not identify the law (" + "; ".join(approach3.flags_)
                         + "); treat its plan as unreliable and widen the sweep")
    budgets = sorted(float(b) for b in runs["budget"].dropna().unique()) if "budget" in runs else []
    optima: list[dict] = []
    if design["kind"] == "isoflop" and budgets:
        optima, approach2, iso_notes = isoflop_optima(runs[runs["budget"].notna()], flops_per_param_token)
        notes += iso_notes
        if approach2 is not None:
            fits["approach2"] = {"a": approach2.a_, "b": approach2.b_,
                                 "a_interval": approach2.a_interval_, "flags": list(approach2.flags_)}
    try:
        approach1 = _approach1(store, runs)
        fits["approach1"] = {"a": approach1.a_, "a_interval": approach1.a_interval_,
                             "n_sizes_on_envelope": approach1.n_sizes_, "flags": list(approach1.flags_)}
    except ScalingLabError as exc:
        notes.append(f"Approach 1 not fitted: {exc}")
    out["fits"] = fits
    out["isoflop"] = optima

    # ----- extrapolation check --------------------------------------------------------------------
    # IsoFLOP designs hold out the largest budget(s); a ladder (no budgets) its largest size(s).
    out["extrapolation"] = None
    if budgets:
        levels, by, frame = budgets, "flops", runs.assign(flops=runs["budget"])
    else:
        levels = sorted(float(n) for n in runs["params"].unique())
        by, frame = "params", runs
    if len(levels) > holdout:
        threshold = math.sqrt(levels[-holdout - 1] * levels[-holdout])
        try:
            report = extrapolation_check(ChinchillaFit(name="smaller runs"), frame,
                                         above=threshold, by=by)
        except (ScalingLabError, ArithmeticError) as exc:
            notes.append(f"extrapolation check not possible: {exc}")
        else:
            held = frame[frame[by] > threshold]
            rows = []
            for run, entry in zip(held.itertuples(index=False), report.held_out, strict=True):
                budget = run.budget if run.budget is not None and math.isfinite(run.budget) else None
                rows.append({"run_id": run.run_id, "budget": budget,
                             "params": entry.params, "tokens": entry.tokens,
                             "predicted_loss": entry.predicted, "actual_loss": entry.loss,
                             "rel_error": entry.rel_error})
            out["extrapolation"] = {
                "held_out_by": "budget" if by == "flops" else "params",
                "fit_budgets" if by == "flops" else "fit_sizes": levels[:-holdout],
                "held_out_budgets" if by == "flops" else "held_out_sizes": levels[-holdout:],
                "n_fit_runs": report.n_train, "law": _law_summary(report.estimator.law_),
                "runs": rows,
                "mean_abs_rel_error": report.mean_abs_rel_error,
                "max_abs_rel_error": report.max_abs_rel_error,
                "mean_rel_error": report.mean_rel_error,
                "goal": EXTRAPOLATION_GOAL,
                "within_goal": report.max_abs_rel_error <= EXTRAPOLATION_GOAL,
            }
    else:
        what = "budget(s)" if budgets else "model size(s)"
        notes.append(f"extrapolation check needs more than {holdout} {what}; the sweep has {len(levels)}")

    # ----- plan -------------------------------------------------------------------------------------
    largest = max(budgets) if budgets else float(runs["flops"].max())
    if target_compute is None:
        target_compute = 100.0 * largest
        notes.append(f"no --target-compute given: planning for 100x the largest budget ({target_compute:.3g} FLOPs)")
    family = ShapeFamily(vocab=tokenizer_vocab(settings["tokenizer"]), ctx=int(settings["ctx"]))
    plans = []
    if own_law is not None:
        plans.append(dict(plan_budget(own_law, target_compute, family, convention), law="this sweep"))
    for name in COMPARISON_LAWS:
        plans.append(plan_budget(get_law(name), target_compute, family, convention))
    for p in plans:  # what following each law's allocation would cost, judged by your own law
        p["loss_under_own_law"] = (float(own_law.predict(p["params"], p["tokens"]))
                                   if own_law is not None else None)
    factor = target_compute / largest
    out["plan"] = {"flops": target_compute, "convention": convention,
                   "extrapolation_factor": factor, "laws": plans}
    if own_law is not None and plans[0]["at_family_edge"]:
        notes.append("the fitted law's optimum is at the edge of the shape family; the plan is a bound")
    if out["extrapolation"] is not None:
        err = out["extrapolation"]["max_abs_rel_error"]
        span = levels[-1] / levels[-holdout - 1]
        what = "budget" if budgets else "model size"
        notes.append(f"trust: fitted {span:.3g}x below the held-out {what}, the law predicted its "
                     f"runs within {err:.1%} (max); the plan extrapolates {factor:.3g}x beyond the "
                     "largest compute trained")
    out["notes"] = notes
    return out


def render_analysis(payload: dict, out) -> None:
    """Draw the fits, IsoFLOP optima, extrapolation check and plan with Rich on console ``out``."""
    from rich.table import Table

    from scalinglab.core.units import format_number as fmt

    law = payload["fits"]["approach3"]
    if law is not None:
        out.print(f"[bold]Fitted law (Approach 3)[/bold]: L(N, D) = {law['E']:.3f} + {law['A']:.4g}/N^{law['alpha']:.3f}"
                  f" + {law['B']:.4g}/D^{law['beta']:.3f}   (N_opt ∝ C^{law['a']:.3f}, D_opt ∝ C^{law['b']:.3f})")
        if law.get("degenerate"):
            out.print("[red]NOT IDENTIFIED[/red]: " + "; ".join(law["flags"]))
    if "approach2" in payload["fits"]:
        a2 = payload["fits"]["approach2"]
        out.print(f"Approach 2 (IsoFLOP): N_opt ∝ C^{a2['a']:.3f}")
    if "approach1" in payload["fits"]:
        out.print(f"Approach 1 (envelope): N_opt ∝ C^{payload['fits']['approach1']['a']:.3f}")
    if payload["isoflop"]:
        table = Table(title=f"IsoFLOP optima ({payload['convention']} FLOPs)")
        for col in ("budget", "sizes trained", "best run", "parabola N_opt", "D_opt", "loss", "interior"):
            table.add_column(col, justify="right")
        for o in payload["isoflop"]:
            table.add_row(f"{o['budget']:.3g}", f"{fmt(o['sizes'][0])}-{fmt(o['sizes'][-1])}",
                          f"{fmt(o['best_params'])}: {o['best_loss']:.4f}",
                          fmt(o["params_opt"]) if o["params_opt"] else "-",
                          fmt(o["tokens_opt"]) if o["tokens_opt"] else "-",
                          f"{o['loss_opt']:.4f}" if o["loss_opt"] else "-",
                          "yes" if o["interior"] else "[red]NO[/red]")
        out.print(table)
    ext = payload["extrapolation"]
    if ext:
        unit = "budgets" if ext["held_out_by"] == "budget" else "sizes"
        table = Table(title=f"Extrapolation check: fitted on {unit} "
                            f"{', '.join(f'{b:.3g}' for b in ext['fit_' + unit])}, "
                            f"predicting {', '.join(f'{b:.3g}' for b in ext['held_out_' + unit])}")
        for col in ("run", "params", "tokens", "predicted loss", "measured loss", "error"):
            table.add_column(col, justify="right")
        for r in ext["runs"]:
            table.add_row(r["run_id"], fmt(r["params"]), fmt(r["tokens"]), f"{r['predicted_loss']:.4f}",
                          f"{r['actual_loss']:.4f}", f"{r['rel_error']:+.2%}")
        out.print(table)
        verdict = "[green]within[/green]" if ext["within_goal"] else "[red]outside[/red]"
        out.print(f"mean |error| {ext['mean_abs_rel_error']:.2%}, max {ext['max_abs_rel_error']:.2%}: "
                  f"{verdict} the {ext['goal']:.0%} goal")
    plan = payload["plan"]
    table = Table(title=f"Compute-optimal model for C = {plan['flops']:.3g} FLOPs "
                        f"({plan['extrapolation_factor']:.3g}x the largest budget)")
    for col in ("law", "layers x d_model", "params", "tokens", "D/N", "loss (own law)", "6ND closed form N"):
        table.add_column(col, justify="right")
    for p in plan["laws"]:
        table.add_row(p["law"], f"{p['n_layer']} x {p['d_model']}", fmt(p["params"]), fmt(p["tokens"]),
                      f"{p['tokens_per_param']:.1f}",
                      "-" if p["loss_under_own_law"] is None else f"{p['loss_under_own_law']:.4f}",
                      fmt(p["closed_form_6nd"]["params"]))
    out.print(table)
    for note in payload["notes"]:
        out.print(f"[dim]- {note}[/dim]")
