"""One self-contained HTML report of a set of runs: fitted law, intervals, plan, checks, figures.

``build_report(RUNS)`` reads the runs (a sweep folder, a runs file that ``scalinglab fit`` reads,
or a tracker's runs: TensorBoard, MLflow, W&B), fits the Chinchilla law (Approach 3) with
bootstrap intervals, checks extrapolation by refitting without the largest model size, derives
the compute-optimal allocation and its training plan at a target budget, and draws the figures of
:mod:`scalinglab.plot`. :meth:`Report.write` saves one HTML file: figures are embedded as base64
PNG ``data:`` URIs and the styles are inline, so the file opens offline in any browser, with no
script and nothing fetched.

The report ends with the data and the settings that produced it: every run, the fitting options,
the bootstrap seed, the planner's assumptions, and the scalinglab version.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from scalinglab.errors import ScalingLabError
from scalinglab.io import RunTable, drop_highest_loss, read_runs

#: Laws drawn beside the fit (names of :func:`scalinglab.laws.registry.get_law`).
COMPARE_LAWS = ("kaplan2020", "hoffmann2022", "epoch2024")
#: Accelerators the plan figure compares, besides the one in the settings.
COMPARE_GPUS = ("A100-80GB", "H100-SXM", "B200")
#: Runs the Chinchilla fit needs: its five parameters (E, A, B, alpha, beta) plus one
#: (``ChinchillaFit`` refuses fewer). With fewer, the report shows the runs without a fit.
MIN_FIT_RUNS = 6


@dataclass
class ReportSettings:
    """Everything that decides a report's numbers (all printed in its last section).

    Parameters
    ----------
    compute : float, optional
        Target training budget (FLOPs) for the compute-optimal plan; default: 100 × the largest
        run's FLOPs (a typical "scale up from the sweep" step).
    gpu, gpus, mfu, price_per_gpu_hour
        Hardware of the plan (:func:`scalinglab.plan.budget.train_plan`); ``mfu`` defaults to the
        planner's 0.40 and the price to the catalog's dated one.
    bootstrap : int
        Bootstrap resamples for the intervals (0: no intervals).
    seed : int
        Seed of the bootstrap's resample indices.
    level : float
        Confidence level of the intervals.
    holdout : int
        How many of the largest compute budgets the extrapolation check holds out (0: none);
        runs are grouped into budgets as Approach 2 groups them (FLOPs within 5%).
    delta : float
        Huber threshold of the fit (Hoffmann et al. 2022: 1e-3).
    drop_highest_loss : int
        Drop this many runs with the largest loss before fitting (Epoch's outlier rule for the
        Chinchilla Fig. 4 data drops 5; :func:`scalinglab.io.drop_highest_loss`).
    title : str, optional
        Report title; default names the runs.
    """

    compute: float | None = None
    gpu: str = "H100"
    gpus: int = 8
    mfu: float | None = None
    price_per_gpu_hour: float | None = None
    bootstrap: int = 200
    seed: int = 0
    level: float = 0.95
    holdout: int = 1
    delta: float = 1e-3
    drop_highest_loss: int = 0
    title: str | None = None


# --------------------------------------------------------------------------------------------
# The analysis behind the report
# --------------------------------------------------------------------------------------------
@dataclass
class Report:
    """A finished report: the HTML, its figures and a JSON-ready summary."""

    html: str
    figures: dict = field(default_factory=dict)  # name -> PNG bytes
    summary: dict = field(default_factory=dict)

    @property
    def sections(self) -> list[str]:
        """The titles of the report's sections (its ``<h2>`` headings), in order."""
        import re

        return [html.unescape(re.sub(r"<[^>]+>", "", t)) for t in re.findall(r"<h2>(.*?)</h2>", self.html)]

    def __repr__(self) -> str:
        # The default repr would print the whole HTML (base64 figures: megabytes in a notebook).
        where = self.summary.get("output")
        fit = "fitted" if self.summary.get("fitted", True) else "not fitted (too few runs)"
        return (f"Report(output={where!r}, html={len(self.html) / 1024:.0f} KiB, "
                f"runs={self.summary.get('n_runs')}, {fit}, figures={list(self.figures)}, "
                f"sections={self.sections})")

    def write(self, path) -> Path:
        """Write the HTML to ``path`` (parent folders created); returns the path."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.html, encoding="utf-8")
        except OSError as exc:
            raise ScalingLabError(f"{path}: cannot write the report ({exc.strerror})") from None
        return path


@dataclass
class _Analysis:
    """Everything the report shows, computed once."""

    data: RunTable
    settings: ReportSettings
    estimator: object  # fitted ChinchillaFit
    boot: object | None  # BootstrapResult
    compute: float
    mfu: float
    laws: dict
    allocations: dict
    plans: dict
    check: object | None = None  # ExtrapolationReport
    check_note: str = ""
    isoflop: object | None = None  # IsoFLOPFit
    isoflop_note: str = ""
    envelope: object | None = None  # EnvelopeFit
    envelope_note: str = ""


def _check_settings(s: ReportSettings) -> None:
    if s.compute is not None and not (math.isfinite(s.compute) and s.compute > 0):
        raise ScalingLabError(f"compute: must be a positive number of FLOPs, got {s.compute!r}")
    if not isinstance(s.bootstrap, int) or s.bootstrap < 0 or s.bootstrap == 1:
        raise ScalingLabError(f"bootstrap: must be 0 or at least 2 resamples, got {s.bootstrap!r}")
    if not 0 < s.level < 1:
        raise ScalingLabError(f"level: must be in (0, 1), got {s.level!r}")
    if not isinstance(s.holdout, int) or s.holdout < 0:
        raise ScalingLabError(f"holdout: must be a whole number >= 0, got {s.holdout!r}")
    if not isinstance(s.drop_highest_loss, int) or s.drop_highest_loss < 0:
        raise ScalingLabError(f"drop_highest_loss: must be a whole number >= 0, got {s.drop_highest_loss!r}")
    from scalinglab.core.hardware import get_accelerator

    get_accelerator(s.gpu)  # an unknown accelerator fails now, not after the fits


def analyse(data: RunTable, settings: ReportSettings) -> _Analysis:
    """Fit (Approaches 3, 2, 1), bootstrap, hold out, allocate and plan."""
    from scalinglab.fit.parametric import ChinchillaFit
    from scalinglab.laws.registry import get_law
    from scalinglab.plan.budget import DEFAULT_MFU, train_plan

    runs = data.runs
    estimator = ChinchillaFit(delta=settings.delta).fit(runs)
    compute = settings.compute or 100.0 * float(runs["flops"].max())
    boot = None
    if settings.bootstrap:
        boot = estimator.bootstrap(runs, n_resamples=settings.bootstrap, seed=settings.seed, compute=compute)
    laws = {name: get_law(name) for name in COMPARE_LAWS}
    laws["your fit"] = estimator.law_
    mfu = settings.mfu if settings.mfu is not None else DEFAULT_MFU
    allocations = {name: each.optimum(compute) for name, each in laws.items()}
    plans = {name: train_plan(params=a.params, tokens=a.tokens, gpu=settings.gpu, gpus=settings.gpus,
                              mfu=mfu, price_per_gpu_hour=settings.price_per_gpu_hour)
             for name, a in allocations.items()}
    out = _Analysis(data=data, settings=settings, estimator=estimator, boot=boot, compute=compute,
                    mfu=mfu, laws=laws, allocations=allocations, plans=plans)
    out.check, out.check_note = _extrapolation(runs, settings)
    out.isoflop, out.isoflop_note = _approach2(runs)
    out.envelope, out.envelope_note = _approach1(data)
    return out


def _extrapolation(runs, settings):
    """Fit without the ``holdout`` largest compute budgets and predict them (fit.validate)."""
    import numpy as np

    from scalinglab.fit.isoflop import IsoFLOPFit, group_budgets
    from scalinglab.fit.parametric import ChinchillaFit
    from scalinglab.fit.validate import extrapolation_check

    if settings.holdout == 0:
        return None, "not run (holdout = 0)"
    flops = runs["flops"].to_numpy(float)
    labels = group_budgets(flops, IsoFLOPFit.budget_rtol)
    order = sorted(np.unique(labels), key=lambda g: flops[labels == g].max())
    if len(order) <= settings.holdout:
        return None, f"not run: only {len(order)} compute budget(s), cannot hold out {settings.holdout}"
    threshold = float(max(flops[np.isin(labels, order[:-settings.holdout])]))
    try:
        check = extrapolation_check(ChinchillaFit(delta=settings.delta), runs, above=threshold, by="flops")
    except ScalingLabError as exc:
        return None, f"not run: {exc}"
    return check, ""


def _approach2(runs):
    from scalinglab.fit.isoflop import IsoFLOPFit

    try:
        return IsoFLOPFit().fit(runs), ""
    except ScalingLabError as exc:
        return None, f"Approach 2 not applicable: {exc}"


def _approach1(data: RunTable):
    from scalinglab.fit.envelope import EnvelopeFit

    curves = data.curves
    if curves is None or len(curves) == 0:
        return None, "Approach 1 not applicable: the runs carry no training curves"
    if "params" not in curves.columns:
        curves = curves.merge(data.runs[["run_id", "params"]], on="run_id", how="inner")
    # An eval before the first step has spent no FLOPs: it has no place on a log-FLOPs axis.
    curves = curves[curves["flops"] > 0]
    try:
        return EnvelopeFit().fit(curves), ""
    except ScalingLabError as exc:
        return None, f"Approach 1 not applicable: {exc}"


def build_report(source, settings: ReportSettings | None = None) -> Report:
    """Fit, check, plan and draw; return the :class:`Report`.

    Parameters
    ----------
    source : path, DataFrame or RunTable
        What :func:`scalinglab.io.read_runs` reads, or its result.
    settings : ReportSettings, optional

    With fewer than :data:`MIN_FIT_RUNS` runs (a sweep still training) nothing can be fitted: the
    report then shows the runs, their loss against size and their training curves, says how many
    runs exist and how many the fit needs, and its summary has ``fitted: False``.
    """
    from scalinglab import plot

    settings = settings or ReportSettings()
    _check_settings(settings)
    data = read_runs(source)  # a RunTable comes back as it is
    for col in ("params", "tokens", "flops", "loss"):
        if col not in data.runs.columns:
            raise ScalingLabError(f"{data.source}: the runs have no {col!r} column")
    if settings.drop_highest_loss:
        kept = drop_highest_loss(data, settings.drop_highest_loss)
        data = RunTable(runs=kept.runs, curves=kept.curves, notes=kept.notes, design=kept.design,
                        source=f"{data.source} without its {settings.drop_highest_loss} highest-loss runs")
    if len(data.runs) < MIN_FIT_RUNS:
        return _partial_report(data, settings)
    a = analyse(data, settings)
    figures = _figures(a)
    pngs = {name: plot.to_png(fig) for name, (fig, _) in figures.items()}
    summary = _summary(a)
    summary["figures"] = list(pngs)
    return Report(html=_html(a, figures, pngs), figures=pngs, summary=summary)


def _figures(a: _Analysis) -> dict:
    """name -> (Figure, caption)."""
    import numpy as np

    from scalinglab import plot
    from scalinglab.core.hardware import get_accelerator
    from scalinglab.plan.budget import train_plan

    runs, s, law = a.data.runs, a.settings, a.estimator.law_
    figures = {}
    c_lo = min(float(runs["flops"].min()), a.compute) / 3
    c_hi = max(float(runs["flops"].max()), a.compute) * 30
    figures["loss_vs_params"] = (
        plot.loss_vs_params(runs, law, a.boot, level=s.level),
        "Final loss of every run against its parameter count. Curves: the fitted law at the runs' "
        "10th/50th/90th-percentile tokens-per-parameter ratios; band: its bootstrap interval.")
    if a.isoflop is not None:
        figures["isoflop"] = (
            plot.isoflop_curves(a.isoflop, runs, law=law),
            "Runs grouped by compute budget; a parabola in ln N per budget and its minimum "
            "(Hoffmann et al. 2022 Approach 2). ×: the Approach-3 fit's prediction for each run.")
    figures["frontier"] = (
        plot.frontier(a.laws, (c_lo, c_hi), runs=runs),
        "Compute-optimal model size by each law against training compute (C = 6·N·D); dots: the runs "
        "at their N and 6·N·D.")
    figures["tokens_per_param"] = (
        plot.tokens_per_param(a.laws, (c_lo, c_hi)),
        "Tokens per parameter along each law's compute-optimal frontier.")
    curves = a.data.curves
    if curves is not None and len(curves) and curves.groupby("run_id").size().max() > 1:
        figures["training_curves"] = (
            plot.training_curves(curves, a.envelope, runs=runs),
            "Eval loss against FLOPs spent, one line per run, coloured by model size"
            + ("; red: the envelope of lowest loss per FLOPs that Approach 1 fits (points won by the "
               "smallest or largest model are left out)." if a.envelope is not None else "."))
    if a.check is not None:
        est = a.check.estimator
        predicted = np.asarray(est.predict(runs["params"].to_numpy(float), runs["tokens"].to_numpy(float)))
        held = runs["flops"].to_numpy(float) > a.check.threshold
        figures["extrapolation"] = (
            plot.extrapolation(predicted, runs["loss"].to_numpy(float), held,
                               params=runs["params"].to_numpy(float)),
            f"The law refitted on the {a.check.n_train} runs with C ≤ {a.check.threshold:.3g} FLOPs, "
            "against the observed losses of all runs. Diamonds: the held-out runs it had to predict.")
    figures["emergence"] = (
        plot.emergence(mark_flops=a.compute, mark_label="target budget"),
        "Training compute at which Wei et al. 2022 (Table 1) saw abilities emerge, and the report's "
        "target budget.")
    fit_plan = a.plans["your fit"]
    hardware = [fit_plan] + [
        train_plan(params=fit_plan.params, tokens=fit_plan.tokens, gpu=g, gpus=s.gpus, mfu=a.mfu,
                   price_per_gpu_hour=s.price_per_gpu_hour)
        for g in COMPARE_GPUS if get_accelerator(g).name != fit_plan.gpu]
    figures["plan"] = (
        plot.plan_breakdown(hardware),
        f"The fit's compute-optimal run at {a.compute:.3g} FLOPs on {s.gpus} GPUs of each kind at "
        f"MFU {a.mfu:.0%}: GPU-hours and cost split into model FLOPs at the dense peak and the "
        "overhead of running below it, and the wall-clock time.")
    return figures


# --------------------------------------------------------------------------------------------
# Summary (JSON) and HTML
# --------------------------------------------------------------------------------------------
def _exponents(a: _Analysis) -> list:
    """Rows (source, a, a interval, b, b interval) of the allocation exponents N_opt ∝ C^a."""
    from scalinglab.plan.gap import CHINCHILLA_REPORTED

    law, boot, level = a.estimator.law_, a.boot, a.settings.level
    rows = [{"source": "Approach 3 (your fit)", "a": law.a, "b": law.b,
             "a_interval": list(boot.interval("a", level)) if boot else None,
             "b_interval": list(boot.interval("b", level)) if boot else None}]
    for name, fit in (("Approach 2 (IsoFLOP, your runs)", a.isoflop), ("Approach 1 (envelope, your runs)", a.envelope)):
        if fit is not None:
            rows.append({"source": name, "a": fit.a_, "b": fit.b_,
                         "a_interval": list(fit.a_interval_) if fit.a_interval_ else None,
                         "b_interval": list(fit.b_interval_) if fit.b_interval_ else None})
    for key, value in CHINCHILLA_REPORTED.items():
        rows.append({"source": f"Hoffmann et al. 2022 Table 2, {key.replace('approach', 'Approach ')}",
                     "a": value, "b": None, "a_interval": None, "b_interval": None})
    for name in COMPARE_LAWS:
        if name != "hoffmann2022":
            each = a.laws[name]
            rows.append({"source": f"{name} ({each.source.split(',')[0]})", "a": each.a, "b": each.b,
                         "a_interval": None, "b_interval": None})
    return rows


def _fit_notes(a: _Analysis) -> list:
    """What the Approach 2 and 1 fits could not do, or flagged, one sentence each."""
    notes = [n for n in (a.isoflop_note, a.envelope_note) if n]
    for name, fit in (("Approach 2", a.isoflop), ("Approach 1", a.envelope)):
        notes += [f"{name}: {flag}" for flag in (getattr(fit, "flags_", None) or [])]
    return notes


def _summary(a: _Analysis) -> dict:
    law, est, s = a.estimator.law_, a.estimator, a.settings
    out = {
        "source": a.data.source,
        "n_runs": int(len(a.data.runs)),
        "fitted": True,
        "law": {k: getattr(law, k) for k in ("E", "A", "B", "alpha", "beta", "a", "b")},
        "converged": bool(est.converged_),
        "objective": float(est.objective_),
        "flags": list(est.flags_),
        "compute": a.compute,
        "optimal": {name: alloc.as_dict() for name, alloc in a.allocations.items()},
        "plan": a.plans["your fit"].as_dict(),
        "exponents": _exponents(a),
        "settings": asdict(s) | {"mfu": a.mfu, "compute": a.compute},
    }
    if a.boot is not None:
        out["intervals"] = {k: list(a.boot.interval(k, s.level)) for k in a.boot.samples}
        out["bootstrap"] = {"n_resamples": a.boot.n_resamples, "n_failed": a.boot.n_failed, "seed": a.boot.seed}
    if a.check is not None:
        out["extrapolation"] = a.check.as_dict()
    notes = ([a.check_note] if a.check_note else []) + _fit_notes(a)
    if notes:
        out["notes"] = notes
    return out


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:1.5em;color:#1d232a;line-height:1.45}
h1{font-size:1.55em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ccd;
padding-bottom:.2em}.meta{color:#566;font-size:.9em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}th,td{border:1px solid #ccd;padding:.25em .6em;
text-align:right}th{background:#eef1f5}td.l,th.l{text-align:left}
figure{margin:1.2em 0;padding:.5em;border:1px solid #dde}figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.88em;color:#344;margin-top:.4em}.flag{color:#a40;font-weight:600}
.scroll{max-height:28em;overflow:auto;border:1px solid #dde}code{background:#f3f4f6;padding:0 .2em}
"""


def _fmt(x, digits=4) -> str:
    if x is None:
        return "–"
    if isinstance(x, str):
        return html.escape(x)
    if isinstance(x, (bool,)):
        return "yes" if x else "no"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return html.escape(str(x))
    if not math.isfinite(v):
        return "–"
    if v == int(v) and abs(v) < 1e6:
        return f"{int(v):d}"
    return f"{v:.{digits}g}"


def _table(header, rows, left=1) -> str:
    head = "".join(f'<th class="l">{html.escape(h)}</th>' if i < left else f"<th>{html.escape(h)}</th>"
                   for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f'<td class="l">{c}</td>' if i < left else f"<td>{c}</td>"
                                   for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _interval(values) -> str:
    return "–" if not values else f"{values[0]:.4g} – {values[1]:.4g}"


def _html(a: _Analysis, figures: dict, pngs: dict) -> str:
    from scalinglab.laws.registry import get_law

    data, est, boot, s = a.data, a.estimator, a.boot, a.settings
    law, runs, compute = est.law_, data.runs, a.compute
    title = s.title or f"Scaling-law report: {data.source}"
    parts = _head(title, len(runs))
    best = a.allocations["your fit"]
    parts.append(
        f"<p>Fitted <code>L(N, D) = E + A/N<sup>α</sup> + B/D<sup>β</sup></code> (Hoffmann et al. "
        f"2022, Approach 3) to {len(runs)} runs: E = {law.E:.4g}, α = {law.alpha:.4g}, "
        f"β = {law.beta:.4g}; compute-optimal N ∝ C<sup>{law.a:.3f}</sup>, D ∝ C<sup>{law.b:.3f}</sup>. "
        f"At the target budget of {compute:.3g} FLOPs the fit allocates N = {best.params:.3g} "
        f"parameters and D = {best.tokens:.3g} tokens ({best.tokens_per_param:.3g} tokens per "
        f"parameter), predicting a loss of {best.loss:.4g} nats/token.</p>")
    for flag in est.flags_:
        parts.append(f"<p class='flag'>⚠ {html.escape(flag)}</p>")

    # Fitted parameters with intervals, beside the published laws.
    parts.append("<h2>Fitted parameters</h2>")
    refs = [get_law("hoffmann2022"), get_law("epoch2024")]
    level = f"{s.level:.0%} interval"
    rows = []
    for key in ("E", "A", "B", "alpha", "beta", "a", "b"):
        lo_hi = se = "–"
        if boot is not None:
            lo_hi, se = _interval(boot.interval(key, s.level)), f"{boot.se(key):.3g}"
        rows.append([key, _fmt(getattr(law, key)), lo_hi, se] + [_fmt(getattr(r, key)) for r in refs])
    parts.append(_table(["parameter", "estimate", level, "bootstrap SE"] + [r.name for r in refs], rows))
    note = (f"Intervals: percentile bootstrap over runs, {boot.n_resamples} resamples "
            f"({boot.n_failed} did not converge), seed {boot.seed}, refits warm-started at the fit."
            if boot is not None else "No bootstrap (bootstrap = 0).")
    parts.append(f"<p class='meta'>{note} Objective (summed Huber on log loss, δ = {s.delta:g}) "
                 f"{est.objective_:.6g}; converged: {_fmt(bool(est.converged_))}. "
                 "Published constants: Hoffmann et al. 2022 Eq. 10; Besiroglu et al. 2024 (Epoch).</p>")

    parts.append("<h3>Allocation exponents: N<sub>opt</sub> ∝ C<sup>a</sup>, D<sub>opt</sub> ∝ C<sup>b</sup></h3>")
    rows = [[html.escape(r["source"]), _fmt(r["a"]), _interval(r["a_interval"]), _fmt(r["b"]),
             _interval(r["b_interval"])] for r in _exponents(a)]
    parts.append(_table(["estimate", "a", level, "b", level], rows))
    for note in (a.isoflop_note, a.envelope_note):
        if note:
            parts.append(f"<p class='meta'>{html.escape(note)}</p>")
    for name, fit in (("Approach 2", a.isoflop), ("Approach 1", a.envelope)):
        flags = getattr(fit, "flags_", None) or []
        if flags:
            items = "".join(f"<li>{html.escape(f)}</li>" for f in flags)
            parts.append(f"<details class='meta'><summary>{name}: {len(flags)} note(s)</summary>"
                         f"<ul>{items}</ul></details>")

    # The compute-optimal plan.
    parts.append(f"<h2>Compute-optimal plan at {compute:.3g} FLOPs</h2>")
    rows = []
    for name, alloc in a.allocations.items():
        p = a.plans[name]
        rows.append([html.escape(name), _fmt(alloc.params), _fmt(alloc.tokens), _fmt(alloc.tokens_per_param, 3),
                     _fmt(alloc.loss), _fmt(p.gpu_hours, 3), _fmt(p.wall_clock_days, 3), _fmt(p.cost_usd, 3)])
    parts.append(_table(["law", "params N", "tokens D", "D/N", "predicted loss", "GPU-hours",
                         "wall-clock days", "cost (USD)"], rows))
    if boot is not None and "params_opt" in boot.samples:
        parts.append(f"<p>Bootstrap {level} of the fit's allocation: N "
                     f"{_interval(boot.interval('params_opt', s.level))}, D "
                     f"{_interval(boot.interval('tokens_opt', s.level))}.</p>")
    plan = a.plans["your fit"]
    parts.append(f"<p class='meta'>Plan: {plan.gpus} × {html.escape(plan.gpu)} ({plan.dtype} dense peak "
                 f"{plan.peak:.3g} FLOP/s) at MFU {plan.mfu:.0%}, C = 6·N·D; price "
                 f"{_fmt(plan.price_per_gpu_hour)} USD/GPU-hour ({html.escape(plan.price_source)}). "
                 "Kaplan's N counts non-embedding parameters (Kaplan et al. 2020, Table 6); its losses "
                 "are on WebText2, the others on MassiveText: compare allocations, not losses, across laws.</p>")

    # Extrapolation errors.
    parts.append("<h2>Extrapolation check</h2>")
    check = a.check
    if check is None:
        parts.append(f"<p>{html.escape(a.check_note)}.</p>")
    else:
        parts.append(f"<p>Law refitted on the {check.n_train} runs with C ≤ {check.threshold:.3g} FLOPs, "
                     f"then asked for the {len(check.held_out)} runs above: mean error "
                     f"{100 * check.mean_rel_error:+.2f}%, mean |error| {100 * check.mean_abs_rel_error:.2f}%, "
                     f"largest |error| {100 * check.max_abs_rel_error:.2f}%.</p>")
        rows = [[_fmt(r.params), _fmt(r.tokens), _fmt(r.flops), _fmt(r.loss), _fmt(r.predicted),
                 f"{100 * r.rel_error:+.2f}%"] for r in check.held_out]
        parts.append(_table(["params N", "tokens D", "FLOPs", "actual loss", "predicted", "error"], rows, left=0))

    # Figures.
    parts.append("<h2>Figures</h2>")
    for name, (_, caption) in figures.items():
        b64 = base64.b64encode(pngs[name]).decode("ascii")
        parts.append(f"<figure id='fig-{name}'><img alt='{html.escape(name)}' "
                     f"src='data:image/png;base64,{b64}'><figcaption>{html.escape(caption)}</figcaption></figure>")

    # Data and settings.
    settings_rows = [[k, _fmt(v)] for k, v in (asdict(s) | {"mfu": a.mfu, "compute": compute}).items()]
    settings_rows += [["fit", html.escape(law.source)],
                      ["grid starts", _fmt(getattr(est, "n_starts_", None))],
                      ["FLOPs per parameter-token", "6 (C = 6·N·D, Kaplan et al. 2020 §2.1)"]]
    parts += _data_and_settings(data, settings_rows)
    parts.append("</body></html>")
    return "\n".join(parts)


def _data_and_settings(data: RunTable, settings_rows: list) -> list:
    """The closing sections: every run, the settings, and the sweep's design when there is one."""
    runs = data.runs
    parts = ["<h2>Data</h2>"]
    parts.append(f"<p>Source: {html.escape(data.source)}"
                 + (f"; training curves: {data.curves['run_id'].nunique()} runs, {len(data.curves)} points"
                    if data.curves is not None else "") + ".</p>")
    cols = [c for c in ("run_id", "group", "budget", "params", "non_embedding_params", "tokens", "flops",
                        "loss", "step", "steps") if c in runs.columns]
    rows = [[_fmt(v) if c != "run_id" else html.escape(str(v)) for c, v in zip(cols, rec, strict=True)]
            for rec in runs[cols].itertuples(index=False)]
    parts.append(f"<div class='scroll'>{_table(cols, rows)}</div>")
    parts.append("<h2>Settings</h2>")
    parts.append(_table(["setting", "value"], settings_rows))
    if data.design:
        design = {k: v for k, v in data.design.items() if not isinstance(v, (list, dict))}
        nested = {k: v for k, v in data.design.get("settings", {}).items()} if isinstance(
            data.design.get("settings"), dict) else {}
        design.update({f"settings.{k}": v for k, v in nested.items() if not isinstance(v, (list, dict))})
        if design:
            parts.append("<p>The sweep's design:</p>")
            parts.append(_table(["field", "value"], [[html.escape(str(k)), html.escape(str(v))]
                                                     for k, v in sorted(design.items())]))
    return parts


def _head(title: str, n_runs: int) -> list:
    import scalinglab

    return [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
            f"<p class='meta'>{n_runs} runs · generated "
            f"{_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by scalinglab "
            f"{html.escape(getattr(scalinglab, '__version__', '?'))}</p>"]


def _partial_report(data: RunTable, settings: ReportSettings) -> Report:
    """The report of too few runs to fit: the runs, their losses and curves, and why no fit.

    Everything shown is measured; nothing is extrapolated from a law that cannot be determined.
    """
    from scalinglab import plot

    runs, n = data.runs, len(data.runs)
    reason = (f"Too few runs to fit: {n} run(s) with a loss; the Chinchilla law "
              f"L(N, D) = E + A/N^α + B/D^β has 5 parameters and needs at least {MIN_FIT_RUNS} runs. "
              "This report shows the runs and their training curves only: no fitted law, intervals, "
              "compute-optimal plan or extrapolation check.")
    figures = {"loss_vs_params": (
        plot.loss_vs_params(runs),
        "Final loss of every run against its parameter count, coloured by tokens per parameter "
        "(no fitted law: too few runs).")}
    curves = data.curves
    if curves is not None and len(curves) and curves.groupby("run_id").size().max() > 1:
        figures["training_curves"] = (plot.training_curves(curves, None, runs=runs),
                                      "Eval loss against FLOPs spent, one line per run, coloured by model size.")
    pngs = {name: plot.to_png(fig) for name, (fig, _) in figures.items()}
    title = settings.title or f"Scaling-law report: {data.source}"
    parts = _head(title, n)
    parts.append(f"<p class='flag'>⚠ {html.escape(reason)}</p>")
    parts.append("<h2>Figures</h2>")
    for name, (_, caption) in figures.items():
        b64 = base64.b64encode(pngs[name]).decode("ascii")
        parts.append(f"<figure id='fig-{name}'><img alt='{html.escape(name)}' "
                     f"src='data:image/png;base64,{b64}'><figcaption>{html.escape(caption)}</figcaption></figure>")
    settings_rows = [[k, _fmt(v)] for k, v in asdict(settings).items()]
    parts += _data_and_settings(data, settings_rows)
    parts.append("</body></html>")
    summary = {"source": data.source, "n_runs": int(n), "fitted": False, "min_runs": MIN_FIT_RUNS,
               "notes": [reason], "figures": list(pngs), "settings": asdict(settings)}
    return Report(html="\n".join(parts), figures=pngs, summary=summary)


def write_report(source, output, settings: ReportSettings | None = None) -> Report:
    """Build the report of ``source`` and write it, as one self-contained HTML file, to ``output``.

    Parameters
    ----------
    source : path or RunTable
        Where the runs are: a sweep folder (its finished runs and their training curves), a runs
        file that :func:`scalinglab.io.read_runs` reads (CSV/TSV, Parquet, JSONL, JSON; several
        rows per ``run_id`` are taken as loss curves), or a tracker's store (TensorBoard log dir,
        MLflow ``mlruns`` folder or URI, W&B export or offline-run dir); or a :class:`RunTable`
        already read (:func:`scalinglab.io.read_runs`).
    output : path
        The HTML file to write; parent folders are created. Figures are embedded as PNG ``data:``
        URIs and styles are inline, so the file opens offline, with nothing fetched.
    settings : ReportSettings, optional
        Target budget, hardware, bootstrap, hold-out and title (defaults: :class:`ReportSettings`).

    Returns
    -------
    Report
        ``html``, ``figures`` (name -> PNG bytes) and ``summary`` (the JSON that
        ``scalinglab report --json`` prints: fitted law, intervals, plan, extrapolation check,
        notes, plus ``output``). With fewer than :data:`MIN_FIT_RUNS` runs the report shows the
        runs and curves without a fit and ``summary["fitted"]`` is False.

    Raises
    ------
    ScalingLabError
        If ``source`` cannot be read, holds no finished run, the settings are invalid, or
        ``output`` cannot be written.
    """
    report = build_report(source, settings)
    report.write(output)
    report.summary["output"] = str(output)
    return report
