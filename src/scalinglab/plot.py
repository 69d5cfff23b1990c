"""Figures of what scalinglab computes: runs, fitted laws, frontiers, plans (matplotlib, headless).

Every function returns a :class:`matplotlib.figure.Figure` built without ``pyplot`` (so no
display, no global state, no backend choice: safe on a server and in tests) with labelled axes and
units, a legend and a title that says what was fitted. :func:`to_png` turns one into PNG bytes;
in a notebook, ``IPython.display.Image(to_png(fig))`` shows it.

=============================  ==================================================================
function                       shows
=============================  ==================================================================
:func:`loss_vs_params`         runs' final loss against N (log-log), the fitted law at the runs'
                               token-per-parameter ratios, and the bootstrap band
:func:`isoflop_curves`         loss against N per compute budget, each budget's parabola in ln N
                               and its minimum (Approach 2, from an ``IsoFLOPFit``)
:func:`frontier`               compute-optimal N against C for several laws (Kaplan, Hoffmann,
                               Epoch, a fit), side by side
:func:`tokens_per_param`       compute-optimal D/N against C for the same laws
:func:`training_curves`        loss against training FLOPs per run with the Approach-1 envelope
:func:`extrapolation`          predicted against actual loss, held-out runs marked
:func:`emergence`              Wei et al. 2022 Table 1 thresholds on a FLOPs axis
:func:`plan_breakdown`         a training plan's GPU-hours, cost and wall-clock time, split into
                               model FLOPs at peak and the overhead an MFU below 1 adds
=============================  ==================================================================

matplotlib (and numpy) are imported inside the functions: ``scalinglab plan`` never imports this
module, and ``import scalinglab.plot`` costs nothing until a figure is drawn.
"""

from __future__ import annotations

from scalinglab.core.units import SECONDS_PER_DAY, SECONDS_PER_HOUR
from scalinglab.errors import ScalingLabError

#: Figure size in inches and resolution for embedding in the HTML report.
FIGSIZE = (7.0, 4.4)
DPI = 110

LOSS_LABEL = "Final loss (nats/token)"
PARAMS_LABEL = "Parameters N"
COMPUTE_LABEL = "Training compute C (FLOPs)"
TOKENS_LABEL = "Training tokens D"


def _figure(ncols: int = 1, figsize=FIGSIZE):
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, axes


def to_png(fig) -> bytes:
    """The figure as PNG bytes (Agg renderer; no display needed)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _column(runs, name, required=True):
    import numpy as np

    if runs is None or name not in getattr(runs, "columns", ()):
        if required:
            raise ScalingLabError(f"runs table has no {name!r} column")
        return None
    values = np.asarray(runs[name], dtype=float)
    if required and (values.size == 0 or not np.all(np.isfinite(values))):
        raise ScalingLabError(f"runs table column {name!r} is empty or has missing values")
    return values


def _loss_axis(axis):
    """Plain tick labels (2.5, 3, 4) on a log-scaled loss axis, which spans less than a decade."""
    from matplotlib import ticker

    axis.set_major_locator(ticker.MaxNLocator(nbins=8))
    axis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    axis.set_minor_formatter(ticker.NullFormatter())


def _no_minor_labels(axis):
    from matplotlib import ticker

    axis.set_minor_formatter(ticker.NullFormatter())


def _law_name(law) -> str:
    return getattr(law, "name", None) or type(law).__name__


def _law_summary(law) -> str:
    """E, α, β of a Chinchilla-form law, for titles."""
    if all(hasattr(law, k) for k in ("E", "alpha", "beta")):
        return f"E={law.E:.3g}, α={law.alpha:.3g}, β={law.beta:.3g}"
    return _law_name(law)


def _sample_predictions(samples, params, tokens):
    """Loss predicted by every bootstrap sample (rows) at each (params, tokens) point (columns)."""
    import numpy as np

    E, A, B = (np.asarray(samples[k], dtype=float)[:, None] for k in ("E", "A", "B"))
    alpha, beta = (np.asarray(samples[k], dtype=float)[:, None] for k in ("alpha", "beta"))
    with np.errstate(over="ignore"):  # a wild resample's N**alpha -> inf makes its term 0, correctly
        return E + A / params[None, :] ** alpha + B / tokens[None, :] ** beta


# --------------------------------------------------------------------------------------------
def loss_vs_params(runs, law=None, bootstrap=None, *, level: float = 0.95, title: str | None = None):
    """Final loss against parameters (log-log) with the fitted law and its bootstrap band.

    The law predicts L(N, D), so a curve against N needs a D for every N: the curves follow the
    runs' own tokens-per-parameter ratios (D = r·N for the 10th, 50th and 90th percentile of r,
    colour-matched to the points), and the band is the ``level`` percentile band of the
    bootstrap laws at the median ratio.

    Parameters
    ----------
    runs : DataFrame
        Run table with ``params``, ``tokens`` and ``loss`` (nats/token).
    law : ParametricLaw, optional
        The fitted law (anything with ``predict(params, tokens)``).
    bootstrap : BootstrapResult or dict, optional
        Bootstrap samples: ``.samples`` (or the dict itself) with arrays ``E``, ``A``, ``B``,
        ``alpha``, ``beta``.
    """
    import numpy as np
    from matplotlib import colors

    n = _column(runs, "params")
    d = _column(runs, "tokens")
    y = _column(runs, "loss")
    ratio = d / n
    fig, ax = _figure()
    norm = colors.LogNorm(vmin=ratio.min(), vmax=max(ratio.max(), ratio.min() * 1.0001))
    cmap = "viridis"
    points = ax.scatter(n, y, c=ratio, cmap=cmap, norm=norm, s=28, edgecolor="k", linewidth=0.4,
                        label=f"runs ({len(n)})", zorder=3)
    fig.colorbar(points, ax=ax, label="Tokens per parameter D/N")
    grid = np.geomspace(n.min() / 1.5, n.max() * 1.5, 200)
    if law is not None:
        import matplotlib

        colormap = matplotlib.colormaps[cmap]
        for q in (10, 50, 90):
            r = float(np.percentile(ratio, q))
            ax.plot(grid, law.predict(grid, r * grid), color=colormap(norm(r)), lw=2 if q == 50 else 1.2,
                    label=f"{_law_name(law)} at D/N = {r:.3g} ({q}th pct.)")
    if bootstrap is not None:
        samples = getattr(bootstrap, "samples", bootstrap)
        r = float(np.median(ratio))
        preds = _sample_predictions(samples, grid, r * grid)
        lo, hi = np.percentile(preds, [50 * (1 - level), 50 * (1 + level)], axis=0)
        ax.fill_between(grid, lo, hi, color="tab:orange", alpha=0.25, lw=0,
                        label=f"{level:.0%} bootstrap band ({preds.shape[0]} resamples)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    # The y range follows the runs and the fitted curves; a wide band (few runs, wild resamples)
    # runs off the chart rather than squashing the data into a line.
    shown = [y] + ([law.predict(grid, float(np.percentile(ratio, q)) * grid) for q in (10, 90)]
                   if law is not None else [])
    lo, hi = min(float(np.min(v)) for v in shown), max(float(np.max(v)) for v in shown)
    ax.set_ylim(lo / 1.08, hi * 1.08)
    _no_minor_labels(ax.xaxis)
    _loss_axis(ax.yaxis)
    ax.set_xlabel(f"{PARAMS_LABEL} (count)")
    ax.set_ylabel(LOSS_LABEL)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.25)
    fitted = f"fit {_law_summary(law)}" if law is not None else "no fit"
    ax.set_title(title or f"Loss vs parameters: {len(n)} runs, {fitted}", fontsize=10)
    return fig


# --------------------------------------------------------------------------------------------
def isoflop_curves(isoflop, runs, *, law=None, title: str | None = None):
    """IsoFLOP profiles: loss against N per budget, with each budget's parabola and minimum.

    Parameters
    ----------
    isoflop : IsoFLOPFit
        A fitted :class:`scalinglab.fit.isoflop.IsoFLOPFit` (Approach 2): its ``profiles_`` give
        each budget's parabola loss = loss_opt + curvature·(ln N − ln N_opt)² and minimum.
    runs : DataFrame
        The runs it was fitted to (``params``, ``flops``, ``loss``); grouped into budgets the same
        way (:func:`scalinglab.fit.isoflop.group_budgets` with the fit's ``budget_rtol``).
    law : optional
        A fitted law; its prediction at each run's own N and D is marked (×) for comparison. (Not
        a curve along D = C/(6N): a sweep's FLOPs may follow another convention than 6·N·D, and
        the runs' actual tokens are what the law was fitted to.)
    """
    import matplotlib
    import numpy as np

    from scalinglab.fit.isoflop import group_budgets

    profiles = list(getattr(isoflop, "profiles_", []))
    if not profiles:
        raise ScalingLabError("the IsoFLOP fit has no profiles to plot (is it fitted?)")
    n_all = _column(runs, "params")
    c_all = _column(runs, "flops")
    y_all = _column(runs, "loss")
    d_all = _column(runs, "tokens") if law is not None else None
    labels = group_budgets(c_all, isoflop.budget_rtol)
    centre = {g: float(np.exp(np.mean(np.log(c_all[labels == g])))) for g in np.unique(labels)}
    fig, ax = _figure()
    cmap = matplotlib.colormaps["plasma"]
    lo_b, hi_b = np.log(min(q.flops for q in profiles)), np.log(max(q.flops for q in profiles))
    for p in sorted(profiles, key=lambda q: q.flops):
        colour = cmap(0.85 * (np.log(p.flops) - lo_b) / (hi_b - lo_b) if hi_b > lo_b else 0.4)
        group = next(g for g, c in centre.items() if abs(c / p.flops - 1) < 1e-9)
        sel = labels == group
        n, y = n_all[sel], y_all[sel]
        ax.scatter(n, y, color=colour, s=24, edgecolor="k", linewidth=0.3, zorder=3,
                   label=f"C = {p.flops:.2g} FLOPs ({p.n_runs} runs)" if len(profiles) <= 8 else None)
        grid = np.geomspace(min(n.min(), p.params_opt) / 1.3, max(n.max(), p.params_opt) * 1.3, 100)
        ax.plot(grid, p.loss_opt + p.curvature * (np.log(grid) - np.log(p.params_opt)) ** 2,
                color=colour, lw=1.3)
        ax.plot([p.params_opt], [p.loss_opt], marker="*", ms=13, color=colour, markeredgecolor="k", zorder=4)
        if law is not None:
            ax.scatter(n, law.predict(n, d_all[sel]), color=colour, marker="x", s=30, lw=1.2, zorder=3)
    ax.plot([], [], marker="*", ls="", color="grey", markeredgecolor="k", ms=11, label="parabola minimum")
    if law is not None:
        ax.scatter([], [], marker="x", color="grey", label=f"{_law_name(law)} at each run's N, D")
    if len(profiles) > 8:  # many budgets: a colour bar instead of one legend row each
        from matplotlib import cm, colors

        norm = colors.LogNorm(np.exp(lo_b), np.exp(hi_b) if hi_b > lo_b else np.exp(lo_b) * 1.0001)
        mappable = cm.ScalarMappable(norm=norm, cmap=colors.ListedColormap(cmap(np.linspace(0, 0.85, 256))))
        fig.colorbar(mappable, ax=ax, label="Compute budget C (FLOPs)")
    ax.set_xscale("log")
    _no_minor_labels(ax.xaxis)
    ax.set_xlabel(f"{PARAMS_LABEL} (count)")
    ax.set_ylabel(LOSS_LABEL)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, ncol=2 if len(profiles) <= 8 else 1)
    interval = getattr(isoflop, "a_interval_", None)
    a_text = f"N_opt ∝ C^{isoflop.a_:.3f}" + (f" ({interval[0]:.3f}–{interval[1]:.3f})" if interval else "")
    ax.set_title(title or f"IsoFLOP profiles (Approach 2): {len(profiles)} budgets, parabola in ln N; "
                          f"{a_text}", fontsize=9)
    return fig


# --------------------------------------------------------------------------------------------
_LAW_STYLE = {"kaplan2020": ("tab:red", "--"), "hoffmann2022": ("tab:blue", "-"),
              "hoffmann2022-unrounded": ("tab:cyan", "-"), "epoch2024": ("tab:green", "-.")}
#: A law not in :data:`_LAW_STYLE` (a user's fit) is drawn thick, black and underneath, so a
#: published law that coincides with it stays visible on top.
_FIT_STYLE = {"color": "k", "ls": "-", "lw": 3.2, "alpha": 0.55, "zorder": 1}


def _style(name):
    known = _LAW_STYLE.get(str(name).lower())
    if known is None:
        return dict(_FIT_STYLE)
    return {"color": known[0], "ls": known[1], "lw": 1.8, "zorder": 2}


def _laws(laws):
    if isinstance(laws, dict):
        items = list(laws.items())
    else:
        items = [(_law_name(law), law) for law in laws]
    if not items:
        raise ScalingLabError("no laws to plot")
    return items


def frontier(laws, compute=(1e18, 1e26), *, runs=None, title: str | None = None):
    """Compute-optimal parameters N_opt against training compute C for several laws.

    Parameters
    ----------
    laws : dict name -> law, or sequence of laws
        Anything with ``optimum(C) -> Allocation``: the presets of
        :func:`scalinglab.laws.registry.get_law` and fitted laws alike.
    compute : (float, float)
        FLOPs range of the x axis.
    runs : DataFrame, optional
        Runs (``params``, ``tokens``) drawn as points at C = 6·N·D, the convention of the laws'
        frontiers (a sweep may record its FLOPs by another convention).
    """
    import numpy as np

    c = np.geomspace(float(compute[0]), float(compute[1]), 120)
    fig, ax = _figure()
    for name, law in _laws(laws):
        alloc = law.optimum(c)
        exponent = getattr(law, "a", None)
        label = f"{name}" + (f" (N ∝ C^{exponent:.3f})" if exponent is not None else "")
        ax.plot(c, alloc.params, label=label, **_style(name))
    if runs is not None:
        n = _column(runs, "params")
        ax.scatter(6.0 * n * _column(runs, "tokens"), n, s=14, color="k", alpha=0.5,
                   label="your runs (N, C = 6ND)", zorder=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(COMPUTE_LABEL)
    ax.set_ylabel("Compute-optimal parameters N_opt (count)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "Compute-optimal frontier, C = 6·N·D: " + ", ".join(n for n, _ in _laws(laws)),
                 fontsize=10)
    return fig


def tokens_per_param(laws, compute=(1e18, 1e26), *, title: str | None = None):
    """Compute-optimal tokens per parameter D_opt/N_opt against compute C for several laws."""
    import numpy as np

    c = np.geomspace(float(compute[0]), float(compute[1]), 120)
    fig, ax = _figure()
    for name, law in _laws(laws):
        alloc = law.optimum(c)
        ratio = np.asarray(alloc.tokens) / np.asarray(alloc.params)
        ax.plot(c, ratio, label=f"{name}: {ratio[0]:.3g} → {ratio[-1]:.3g}", **_style(name))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(COMPUTE_LABEL)
    ax.set_ylabel("Compute-optimal tokens per parameter D/N")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "Tokens per parameter along each law's compute-optimal frontier", fontsize=10)
    return fig


# --------------------------------------------------------------------------------------------
def training_curves(curves, envelope=None, *, runs=None, title: str | None = None):
    """Loss against training FLOPs for every run, with the Approach-1 envelope.

    Parameters
    ----------
    curves : DataFrame
        ``run_id``, ``flops`` (FLOPs so far), ``loss`` (nats/token), one row per eval step.
    envelope : EnvelopeFit, or DataFrame / dict with ``flops`` and ``loss``, optional
        The lowest loss reached at each FLOPs value (Hoffmann et al. 2022 §3.1): a fitted
        :class:`scalinglab.fit.envelope.EnvelopeFit` (its ``flops_``, ``loss_``) or arrays.
    runs : DataFrame, optional
        Run table with ``run_id`` and ``params``, to colour curves by model size.
    """
    import matplotlib
    import numpy as np

    for name in ("run_id", "flops", "loss"):
        if curves is None or name not in curves.columns:
            raise ScalingLabError(f"curves table has no {name!r} column")
    if len(curves) == 0:
        raise ScalingLabError("curves table is empty")
    fig, ax = _figure()
    sizes = {}
    if runs is not None and "run_id" in runs.columns:
        sizes = dict(zip(runs["run_id"], runs["params"], strict=True))
    cmap = matplotlib.colormaps["viridis"]
    logs = np.log([v for v in sizes.values() if v and v > 0]) if sizes else np.array([0.0])
    lo, hi = logs.min(), logs.max()
    for run_id, group in curves.groupby("run_id", sort=False):
        group = group.sort_values("flops")
        keep = group["flops"].to_numpy(float) > 0
        size = sizes.get(run_id)
        colour = cmap(0.9 * (np.log(size) - lo) / (hi - lo)) if size and hi > lo else "tab:grey"
        ax.plot(group["flops"].to_numpy(float)[keep], group["loss"].to_numpy(float)[keep],
                color=colour, lw=0.9, alpha=0.8)
    if sizes and hi > lo:
        from matplotlib import cm, colors

        mappable = cm.ScalarMappable(norm=colors.LogNorm(np.exp(lo), np.exp(hi)), cmap=cmap)
        fig.colorbar(mappable, ax=ax, label=f"{PARAMS_LABEL} (count)")
    ax.plot([], [], color="tab:grey", lw=0.9, label=f"training curves ({curves['run_id'].nunique()} runs)")
    if envelope is not None:
        if hasattr(envelope, "flops_"):
            ex, ey = envelope.flops_, envelope.loss_
            a_text = f"; N_opt ∝ C^{envelope.a_:.3f}"
        else:
            ex, ey, a_text = envelope["flops"], envelope["loss"], ""
        ax.plot(np.asarray(ex, dtype=float), np.asarray(ey, dtype=float), color="tab:red", lw=0,
                marker=".", ms=3.5, label=f"Approach-1 envelope (lowest loss per FLOPs{a_text})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _loss_axis(ax.yaxis)
    ax.set_xlabel(COMPUTE_LABEL + " so far")
    ax.set_ylabel("Eval loss (nats/token)")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8)
    default = (f"Training curves of {curves['run_id'].nunique()} runs"
               + (" and the minimum-loss envelope (Hoffmann Approach 1)" if envelope is not None else ""))
    ax.set_title(title or default, fontsize=10)
    return fig


# --------------------------------------------------------------------------------------------
def extrapolation(predicted, actual, held_out, *, params=None, title: str | None = None):
    """Predicted against actual loss; runs held out of the fit are marked.

    Parameters
    ----------
    predicted, actual : array of float
        Loss (nats/token) predicted by the law fitted without the held-out runs, and observed.
    held_out : array of bool
        True for runs not used in the fit (typically the largest).
    params : array of float, optional
        Parameter counts, to annotate the held-out points.
    """
    import numpy as np

    p = np.asarray(predicted, dtype=float)
    a = np.asarray(actual, dtype=float)
    h = np.asarray(held_out, dtype=bool)
    if not (p.shape == a.shape == h.shape) or p.size == 0:
        raise ScalingLabError("predicted, actual and held_out must be non-empty arrays of one length")
    if not np.any(h):
        raise ScalingLabError("no held-out run: an extrapolation check needs at least one")
    fig, ax = _figure()
    lo, hi = min(p.min(), a.min()), max(p.max(), a.max())
    pad = 0.03 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="k", lw=0.8, ls=":", label="perfect prediction")
    ax.scatter(a[~h], p[~h], s=22, color="tab:blue", edgecolor="k", linewidth=0.3,
               label=f"fitted runs ({int((~h).sum())})")
    ax.scatter(a[h], p[h], s=70, marker="D", color="tab:red", edgecolor="k", linewidth=0.5,
               label=f"held out ({int(h.sum())})", zorder=4)
    if params is not None:
        n = np.asarray(params, dtype=float)
        for x, y, size in zip(a[h], p[h], n[h], strict=True):
            ax.annotate(f"N={size:.3g}", (x, y), textcoords="offset points", xytext=(6, -10), fontsize=7)
    err = (p[h] - a[h]) / a[h]
    ax.set_xlabel("Actual final loss (nats/token)")
    ax.set_ylabel("Predicted final loss (nats/token)")
    ax.grid(True, alpha=0.25)
    ax.legend(fontsize=8)
    ax.set_title(title or (f"Extrapolation check: fit without {int(h.sum())} run(s); held-out error "
                           f"mean {100 * np.mean(err):+.2f}%, largest |error| {100 * np.max(np.abs(err)):.2f}%"),
                 fontsize=10)
    return fig


# --------------------------------------------------------------------------------------------
def emergence(abilities=None, *, mark_flops=None, mark_label: str = "your budget", title: str | None = None):
    """Emergence thresholds (training FLOPs) of Wei et al. 2022 Table 1 on a log FLOPs axis.

    Parameters
    ----------
    abilities : sequence of EmergentAbility, optional
        Default: every quantified row of :func:`scalinglab.laws.emergence.wei_table`.
    mark_flops : float, optional
        A compute budget drawn as a vertical line (e.g. the plan's FLOPs).
    """
    import numpy as np

    from scalinglab.laws import emergence as em

    rows = [r for r in (abilities if abilities is not None else em.wei_table()) if r.flops is not None]
    if not rows:
        raise ScalingLabError("no emergence thresholds with a FLOPs value to plot")
    rows = sorted(rows, key=lambda r: (r.flops, r.row))
    fig, ax = _figure(figsize=(7.5, 0.26 * len(rows) + 1.6))
    y = np.arange(len(rows))
    colours = ["tab:blue" if r.group.lower().startswith("few") else "tab:purple" for r in rows]
    ax.scatter([r.flops for r in rows], y, c=colours, s=36, edgecolor="k", linewidth=0.4, zorder=3)
    ax.set_yticks(y, [f"{r.ability} ({r.model}, {r.params / 1e9:.3g}B)" if r.params else r.ability
                      for r in rows], fontsize=7)
    ax.scatter([], [], color="tab:blue", label="few-shot prompted")
    ax.scatter([], [], color="tab:purple", label="augmented prompting")
    if mark_flops is not None:
        ax.axvline(float(mark_flops), color="tab:red", lw=1.5, label=f"{mark_label}: {float(mark_flops):.2g} FLOPs")
    ax.set_xscale("log")
    ax.set_xlabel(COMPUTE_LABEL + "\nwhere the ability first rose above random")
    ax.grid(True, axis="x", which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title or f"Emergence thresholds: Wei et al. 2022, Table 1 ({len(rows)} rows)\n"
                          "per model family; metric-dependent (Schaeffer et al. 2023)", fontsize=9)
    return fig


# --------------------------------------------------------------------------------------------
def plan_breakdown(plans, *, labels=None, title: str | None = None):
    """GPU-hours, cost and wall-clock days of one or more training plans, side by side.

    GPU-hours and cost are split into the part that does the model's FLOPs at the accelerator's
    dense peak (FLOPs / peak) and the overhead of running below peak (the rest, 1 − MFU of it).

    Parameters
    ----------
    plans : TrainPlan or sequence of TrainPlan
        From :func:`scalinglab.plan.budget.train_plan`.
    labels : sequence of str, optional
        One per plan; default ``"<gpus>×<gpu> @ MFU"``.
    """
    import numpy as np
    from matplotlib import ticker

    plans = [plans] if hasattr(plans, "gpu_hours") else list(plans)
    if not plans:
        raise ScalingLabError("no plans to plot")
    labels = list(labels) if labels is not None else [f"{p.gpu}\n×{p.gpus}, MFU {p.mfu:.0%}" for p in plans]
    fig, axes = _figure(ncols=3, figsize=(9.5, 3.8))
    x = np.arange(len(plans))
    hours = np.array([p.gpu_hours for p in plans])
    useful = hours * np.array([p.mfu for p in plans])
    # Small plans (a laptop sweep's next step) read better in GPU-seconds than in micro-hours.
    scale, unit = (SECONDS_PER_HOUR, "GPU-seconds") if hours.max() < 0.1 else (1.0, "GPU-hours")
    axes[0].bar(x, useful * scale, color="tab:green", label="model FLOPs at peak")
    axes[0].bar(x, (hours - useful) * scale, bottom=useful * scale, color="tab:grey", label="below-peak overhead")
    axes[0].set_ylabel(unit)
    axes[0].set_title(unit, fontsize=9)
    priced = np.array([p.cost_usd is not None for p in plans])
    axes[1].set_ylabel("Cost (USD)")
    if priced.any():
        cost = np.array([p.cost_usd or 0.0 for p in plans], dtype=float)
        share = useful / hours
        axes[1].bar(x[priced], (cost * share)[priced], color="tab:green", label="model FLOPs at peak")
        axes[1].bar(x[priced], (cost * (1 - share))[priced], bottom=(cost * share)[priced],
                    color="tab:grey", label="below-peak overhead")
        prices = sorted({p.price_per_gpu_hour for p in plans if p.price_per_gpu_hour is not None})
        axes[1].set_title("Cost at " + ", ".join(f"\\${v:g}" for v in prices) + " per GPU-hour", fontsize=9)
    else:
        axes[1].set_title("Cost", fontsize=9)
    for i in np.flatnonzero(~priced):
        axes[1].text(x[i], 0, "no price\nin catalog", ha="center", va="bottom", fontsize=7)
    days = np.array([p.wall_clock_days for p in plans])
    # Seconds when the longest plan takes under a minute, hours under a day, else days.
    factor, name = next((f, n) for limit, f, n in ((1 / 24 / 60, SECONDS_PER_DAY, "seconds"),
                                                   (1.0, 24.0, "hours"), (np.inf, 1.0, "days"))
                        if days.max() < limit)
    axes[2].bar(x, days * factor, color="tab:blue", label=", ".join(sorted({f"{p.gpus} GPUs" for p in plans})))
    axes[2].set_ylabel(f"Wall-clock {name}")
    axes[2].set_title("Time to train", fontsize=9)
    for ax in axes:
        ax.yaxis.set_major_formatter(ticker.EngFormatter(sep=" "))
    for ax in axes:
        ax.set_xticks(x, labels, fontsize=7)
        ax.grid(True, axis="y", alpha=0.25)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    first = plans[0]
    what = f"{first.flops:.3g} FLOPs" + (f" (N={first.params:.3g}, D={first.tokens:.3g})" if first.params and first.tokens else "")
    fig.suptitle(title or f"Training plan breakdown: {what}, {first.convention} convention", fontsize=10)
    return fig
