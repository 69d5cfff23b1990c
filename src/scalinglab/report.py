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

#: Laws drawn beside the fit (names of :func:`scalinglab.laws.registry.get_law`).
COMPARE_LAWS = ("kaplan2020", "hoffmann2022", "epoch2024")
#: Accelerators the plan figure compares, besides the one in the settings.
COMPARE_GPUS = ("A100-80GB", "H100-SXM", "B200")


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
    holdout_sizes : int
        How many of the largest distinct model sizes the extrapolation check holds out (0: none).
    delta : float
        Huber threshold of the fit (Hoffmann et al. 2022: 1e-3).
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
    holdout_sizes: int = 1
    delta: float = 1e-3
    title: str | None = None


# --------------------------------------------------------------------------------------------
# Loading runs from wherever they are
# --------------------------------------------------------------------------------------------
@dataclass
class RunData:
    """Runs ready for fitting, with where they came from.

    Attributes
    ----------
    runs : DataFrame  (``run_id``, ``params``, ``tokens``, ``flops``, ``loss`` ...)
    curves : DataFrame or None  (``run_id``, ``step``, ``tokens``, ``flops``, ``loss``)
    source : str  a sentence naming the path and its kind
    kind : str  ``"sweep"``, ``"file"`` or the tracker (``"tensorboard"``, ``"mlflow"`` ...)
    design : dict or None  the sweep's sealed design (settings), for a sweep folder
    """

    runs: object
    curves: object | None
    source: str
    kind: str
    design: dict | None = None


def _is_sweep(path: Path) -> bool:
    return path.is_dir() and ((path / "sweep.json").exists() or (path / "runs.parquet").exists())


def load_runs(path) -> RunData:
    """Read runs from a sweep folder, a tracker (TensorBoard, MLflow, W&B) or a runs file.

    Raises
    ------
    ScalingLabError
        If ``path`` is none of these or its content is unusable (the message names the file).
    """
    from scalinglab import trackers

    text = str(path)
    p = Path(text)
    if _is_sweep(p):
        from scalinglab.sweep.store import RunStore

        store = RunStore(p)
        runs = store.run_table()
        curves = store.curves() if store.curves_path.exists() else None
        runs = runs[runs["loss"].notna()].reset_index(drop=True) if "loss" in runs.columns else runs
        if len(runs) == 0:
            raise ScalingLabError(f"{p}: the sweep has no finished run with a loss yet")
        if curves is not None and len(curves) == 0:
            curves = None
        return RunData(runs=runs, curves=curves, source=f"sweep folder {p}", kind="sweep",
                       design=store.read_design())
    kind = trackers.detect_tracker(text)
    if kind is not None:
        tracked = trackers.read_tracker(text, kind)
        return RunData(runs=tracked.runs, curves=tracked.curves, source=tracked.source, kind=kind)
    if not p.exists():
        raise ScalingLabError(f"{p}: no such file or directory")
    from scalinglab.runs import read_runs

    runs = read_runs(p)
    return RunData(runs=runs, curves=None, source=f"runs file {p}", kind="file")


# --------------------------------------------------------------------------------------------
# The analysis behind the report
# --------------------------------------------------------------------------------------------
@dataclass
class Report:
    """A finished report: the HTML, its figures and a JSON-ready summary."""

    html: str
    figures: dict = field(default_factory=dict)  # name -> PNG bytes
    summary: dict = field(default_factory=dict)

    def write(self, path) -> Path:
        """Write the HTML to ``path`` (parent folders created); returns the path."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.html, encoding="utf-8")
        except OSError as exc:
            raise ScalingLabError(f"{path}: cannot write the report ({exc.strerror})") from None
        return path


def _check_settings(s: ReportSettings) -> None:
    if s.compute is not None and not (math.isfinite(s.compute) and s.compute > 0):
        raise ScalingLabError(f"compute: must be a positive number of FLOPs, got {s.compute!r}")
    if not isinstance(s.bootstrap, int) or s.bootstrap < 0 or s.bootstrap == 1:
        raise ScalingLabError(f"bootstrap: must be 0 or at least 2 resamples, got {s.bootstrap!r}")
    if not 0 < s.level < 1:
        raise ScalingLabError(f"level: must be in (0, 1), got {s.level!r}")
    if not isinstance(s.holdout_sizes, int) or s.holdout_sizes < 0:
        raise ScalingLabError(f"holdout_sizes: must be a whole number >= 0, got {s.holdout_sizes!r}")


def build_report(source, settings: ReportSettings | None = None) -> Report:
    """Fit, check, plan and draw; return the :class:`Report`.

    Parameters
    ----------
    source : path or RunData
        What :func:`load_runs` reads, or its result.
    settings : ReportSettings, optional
    """

    from scalinglab import plot
    from scalinglab.core.hardware import get_accelerator
    from scalinglab.fit.parametric import ChinchillaFit
    from scalinglab.laws.registry import get_law
    from scalinglab.plan.budget import DEFAULT_MFU, train_plan

    settings = settings or ReportSettings()
    _check_settings(settings)
    data = source if isinstance(source, RunData) else load_runs(source)
    runs = data.runs
    for col in ("params", "tokens", "flops", "loss"):
        if col not in runs.columns:
            raise ScalingLabError(f"{data.source}: the runs have no {col!r} column")

    # 1. Approach 3 fit and its bootstrap intervals.
    estimator = ChinchillaFit(delta=settings.delta).fit(runs)
    law = estimator.law_
    compute = settings.compute or 100.0 * float(runs["flops"].max())
    boot = None
    if settings.bootstrap:
        boot = estimator.bootstrap(runs, n_resamples=settings.bootstrap, seed=settings.seed,
                                   compute=compute)

    # 2. Extrapolation: refit without the largest model sizes, predict them.
    check = _extrapolation(runs, settings, ChinchillaFit)

    # 3. Compute-optimal allocation at the target budget, by each law, and the fit's plan.
    laws = {name: get_law(name) for name in COMPARE_LAWS}
    laws["your fit"] = law
    mfu = settings.mfu if settings.mfu is not None else DEFAULT_MFU
    allocations = {name: each.optimum(compute) for name, each in laws.items()}
    plans = {name: train_plan(params=a.params, tokens=a.tokens, gpu=settings.gpu, gpus=settings.gpus,
                              mfu=mfu, price_per_gpu_hour=settings.price_per_gpu_hour)
             for name, a in allocations.items()}

    # 4. Figures.
    figures = {}
    c_lo = min(float(runs["flops"].min()), compute) / 3
    c_hi = max(float(runs["flops"].max()), compute) * 30
    figures["loss_vs_params"] = (
        plot.loss_vs_params(runs, law, boot, level=settings.level),
        "Final loss of every run against its parameter count. Curves: the fitted law at the runs' "
        "10th/50th/90th-percentile tokens-per-parameter ratios; band: the bootstrap interval.")
    figures["frontier"] = (
        plot.frontier(laws, (c_lo, c_hi), runs=runs),
        "Compute-optimal model size by each law, against training compute (C = 6·N·D).")
    figures["tokens_per_param"] = (
        plot.tokens_per_param(laws, (c_lo, c_hi)),
        "Tokens per parameter along each law's compute-optimal frontier.")
    if data.curves is not None and len(data.curves) and data.curves["run_id"].nunique() > 1:
        figures["training_curves"] = (
            plot.training_curves(data.curves, runs=runs),
            "Eval loss against FLOPs spent, one line per run.")
    if check is not None:
        figures["extrapolation"] = (
            plot.extrapolation(check["predicted"], check["actual"], check["held_out"],
                               params=check["params"]),
            f"Law refitted without the {check['n_sizes']} largest model size(s); its predictions "
            "against the observed losses. Diamonds: held-out runs.")
    figures["emergence"] = (
        plot.emergence(mark_flops=compute, mark_label="target budget"),
        "Training compute at which Wei et al. 2022 (Table 1) saw abilities emerge, with the "
        "report's target budget.")
    fit_plan = plans["your fit"]
    hardware = [fit_plan] + [
        train_plan(params=fit_plan.params, tokens=fit_plan.tokens, gpu=g, gpus=settings.gpus, mfu=mfu,
                   price_per_gpu_hour=settings.price_per_gpu_hour)
        for g in COMPARE_GPUS if get_accelerator(g).name != fit_plan.gpu]
    figures["plan"] = (
        plot.plan_breakdown(hardware),
        f"The fit's compute-optimal run at {compute:.3g} FLOPs on {settings.gpus} GPUs of each kind "
        f"at MFU {mfu:.0%}: GPU-hours and cost split into model FLOPs at the dense bf16 peak and "
        "the overhead of running below it, and the wall-clock time.")
    pngs = {name: plot.to_png(fig) for name, (fig, _) in figures.items()}

    summary = _summary(data, estimator, boot, settings, compute, allocations, plans, check, mfu)
    page = _html(data, estimator, boot, settings, compute, allocations, plans, check, figures, pngs, mfu)
    summary["figures"] = list(pngs)
    return Report(html=page, figures=pngs, summary=summary)


def _extrapolation(runs, settings, estimator_cls):
    """Refit without the ``holdout_sizes`` largest distinct model sizes and predict them."""
    import numpy as np

    if settings.holdout_sizes == 0:
        return None
    sizes = np.unique(np.asarray(runs["params"], dtype=float))
    if sizes.size - settings.holdout_sizes < 2:
        return None  # too few sizes left to fit; the report says so
    cut = sizes[-settings.holdout_sizes]
    held = np.asarray(runs["params"], dtype=float) >= cut
    train = runs[~held]
    try:
        refit = estimator_cls(delta=settings.delta).fit(train)
    except ScalingLabError:
        return None
    predicted = np.asarray(refit.law_.predict(runs["params"].to_numpy(float), runs["tokens"].to_numpy(float)))
    actual = runs["loss"].to_numpy(float)
    error = (predicted - actual) / actual
    return {"law": refit.law_, "predicted": predicted, "actual": actual, "held_out": held,
            "params": runs["params"].to_numpy(float), "n_sizes": settings.holdout_sizes,
            "cut_params": float(cut), "relative_error": error,
            "mean_abs_error_held_out": float(np.mean(np.abs(error[held]))),
            "max_abs_error_held_out": float(np.max(np.abs(error[held]))),
            "mean_abs_error_fitted": float(np.mean(np.abs(error[~held])))}


# --------------------------------------------------------------------------------------------
# Summary (JSON) and HTML
# --------------------------------------------------------------------------------------------
def _summary(data, est, boot, s, compute, allocations, plans, check, mfu) -> dict:
    law = est.law_
    out = {
        "source": data.source,
        "n_runs": int(len(data.runs)),
        "law": {k: getattr(law, k) for k in ("E", "A", "B", "alpha", "beta", "a", "b")},
        "converged": bool(est.converged_),
        "objective": float(est.objective_),
        "flags": list(est.flags_),
        "compute": compute,
        "optimal": {name: a.as_dict() for name, a in allocations.items()},
        "plan": plans["your fit"].as_dict(),
        "settings": asdict(s) | {"mfu": mfu},
    }
    if boot is not None:
        out["intervals"] = {k: list(boot.interval(k, s.level)) for k in boot.samples}
        out["bootstrap"] = {"n_resamples": boot.n_resamples, "n_failed": boot.n_failed, "seed": boot.seed}
    if check is not None:
        out["extrapolation"] = {k: check[k] for k in ("n_sizes", "cut_params", "mean_abs_error_held_out",
                                                      "max_abs_error_held_out", "mean_abs_error_fitted")}
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


def _html(data, est, boot, s, compute, allocations, plans, check, figures, pngs, mfu) -> str:
    import scalinglab
    from scalinglab.laws.registry import get_law

    law = est.law_
    runs = data.runs
    title = s.title or f"Scaling-law report: {data.source}"
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
             f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p class='meta'>{len(runs)} runs · generated "
             f"{_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by scalinglab "
             f"{html.escape(getattr(scalinglab, '__version__', '?'))}</p>"]
    fit_alloc = allocations["your fit"]
    parts.append(
        f"<p>Fitted <code>L(N, D) = E + A/N<sup>α</sup> + B/D<sup>β</sup></code> (Hoffmann et al. "
        f"2022, Approach 3) to {len(runs)} runs: E = {law.E:.4g}, α = {law.alpha:.4g}, "
        f"β = {law.beta:.4g}; compute-optimal N ∝ C<sup>{law.a:.3f}</sup>, D ∝ C<sup>{law.b:.3f}</sup>. "
        f"At the target budget of {compute:.3g} FLOPs the fit allocates N = {fit_alloc.params:.3g} "
        f"parameters and D = {fit_alloc.tokens:.3g} tokens ({fit_alloc.tokens_per_param:.3g} tokens "
        f"per parameter), predicting a loss of {fit_alloc.loss:.4g} nats/token.</p>")
    if est.flags_:
        parts.append("".join(f"<p class='flag'>⚠ {html.escape(f)}</p>" for f in est.flags_))

    # Fitted parameters with intervals, beside the published laws.
    parts.append("<h2>Fitted parameters</h2>")
    refs = [get_law("hoffmann2022"), get_law("epoch2024")]
    level = f"{s.level:.0%} interval"
    header = ["parameter", "estimate", level, "bootstrap SE"] + [r.name for r in refs]
    rows = []
    for key in ("E", "A", "B", "alpha", "beta", "a", "b"):
        lo_hi = se = "–"
        if boot is not None:
            lo, hi = boot.interval(key, s.level)
            lo_hi, se = f"{lo:.4g} – {hi:.4g}", f"{boot.se(key):.3g}"
        rows.append([key, _fmt(getattr(law, key)), lo_hi, se] + [_fmt(getattr(r, key)) for r in refs])
    parts.append(_table(header, rows))
    note = (f"Intervals: percentile bootstrap over runs, {boot.n_resamples} resamples "
            f"({boot.n_failed} failed to converge), seed {boot.seed}, warm-started refits."
            if boot is not None else "No bootstrap (settings.bootstrap = 0).")
    parts.append(f"<p class='meta'>{note} Objective (summed Huber, δ = {s.delta:g}) "
                 f"{est.objective_:.6g}; converged: {_fmt(bool(est.converged_))}.</p>")

    # The compute-optimal plan.
    parts.append(f"<h2>Compute-optimal plan at {compute:.3g} FLOPs</h2>")
    header = ["law", "params N", "tokens D", "D/N", "predicted loss", "GPU-hours", "wall-clock days", "cost (USD)"]
    rows = []
    for name, a in allocations.items():
        p = plans[name]
        rows.append([html.escape(name), _fmt(a.params), _fmt(a.tokens), _fmt(a.tokens_per_param, 3),
                     _fmt(a.loss), _fmt(p.gpu_hours, 3), _fmt(p.wall_clock_days, 3),
                     _fmt(p.cost_usd, 3)])
    parts.append(_table(header, rows))
    if boot is not None and "params_opt" in boot.samples:
        lo_n, hi_n = boot.interval("params_opt", s.level)
        lo_d, hi_d = boot.interval("tokens_opt", s.level)
        parts.append(f"<p>Bootstrap {level} of the fit's allocation: N {lo_n:.3g} – {hi_n:.3g}, "
                     f"D {lo_d:.3g} – {hi_d:.3g}.</p>")
    plan = plans["your fit"]
    parts.append(f"<p class='meta'>Plan: {plan.gpus} × {html.escape(plan.gpu)} ({plan.dtype} dense peak "
                 f"{plan.peak:.3g} FLOP/s) at MFU {plan.mfu:.0%}, C = 6·N·D; price "
                 f"{_fmt(plan.price_per_gpu_hour)} USD/GPU-hour ({html.escape(plan.price_source)}). "
                 f"Kaplan's allocation uses non-embedding parameters (Kaplan et al. 2020, Table 6).</p>")

    # Extrapolation errors.
    parts.append("<h2>Extrapolation check</h2>")
    if check is None:
        parts.append("<p>Not run: holding out the largest model size would leave fewer than two "
                     "sizes to fit (or the setting is 0).</p>")
    else:
        held = check["held_out"]
        rows = [[html.escape(str(runs["run_id"].iloc[i])) if "run_id" in runs.columns else str(i),
                 _fmt(check["params"][i]), _fmt(float(runs["tokens"].iloc[i])),
                 _fmt(check["actual"][i]), _fmt(check["predicted"][i]),
                 f"{100 * check['relative_error'][i]:+.2f}%"]
                for i in range(len(held)) if held[i]]
        parts.append(f"<p>Law refitted on the {int((~held).sum())} runs with N &lt; "
                     f"{check['cut_params']:.3g}, then asked for the {int(held.sum())} held-out runs: "
                     f"mean |error| {100 * check['mean_abs_error_held_out']:.2f}%, largest "
                     f"{100 * check['max_abs_error_held_out']:.2f}% (on the fitted runs: "
                     f"{100 * check['mean_abs_error_fitted']:.2f}%).</p>")
        parts.append(_table(["run", "params N", "tokens D", "actual loss", "predicted", "error"], rows))

    # Figures.
    parts.append("<h2>Figures</h2>")
    for name, (_, caption) in figures.items():
        b64 = base64.b64encode(pngs[name]).decode("ascii")
        parts.append(f"<figure id='fig-{name}'><img alt='{html.escape(name)}' "
                     f"src='data:image/png;base64,{b64}'><figcaption>{html.escape(caption)}</figcaption></figure>")

    # Data and settings.
    parts.append("<h2>Data</h2>")
    parts.append(f"<p>Source: {html.escape(data.source)}.</p>")
    cols = [c for c in ("run_id", "group", "budget", "params", "non_embedding_params", "tokens", "flops",
                        "loss", "step", "steps") if c in runs.columns]
    rows = [[_fmt(v) if c != "run_id" else html.escape(str(v)) for c, v in zip(cols, rec, strict=True)]
            for rec in runs[cols].itertuples(index=False)]
    parts.append(f"<div class='scroll'>{_table(cols, rows)}</div>")
    parts.append("<h2>Settings</h2>")
    settings_rows = [[k, _fmt(v) if not isinstance(v, str) else html.escape(v)]
                     for k, v in (asdict(s) | {"mfu": mfu, "compute": compute}).items()]
    settings_rows += [["fit", html.escape(law.source)], ["Huber δ", _fmt(est.delta)],
                      ["grid starts", _fmt(getattr(est, "n_starts_", None))]]
    parts.append(_table(["setting", "value"], settings_rows))
    if data.design:
        design = {k: v for k, v in data.design.items() if not isinstance(v, (list, dict))}
        if design:
            parts.append("<p>The sweep's design:</p>")
            parts.append(_table(["field", "value"], [[html.escape(str(k)), html.escape(str(v))]
                                                     for k, v in sorted(design.items())]))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(source, output, settings: ReportSettings | None = None) -> Report:
    """Build the report of ``source`` and write it to ``output``; returns the report."""
    report = build_report(source, settings)
    report.write(output)
    report.summary["output"] = str(output)
    return report
