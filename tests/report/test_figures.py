"""Every figure of ``scalinglab.plot``: labelled axes with units, a legend, a title naming the fit,
drawn headless; the curves it draws are the laws' own numbers; bad input is refused in one line.

Curves are checked against published values where a figure draws a published law: the Hoffmann
rounded frontier at 1e21 and 1e24 FLOPs (Hoffmann Eq. 4 closed form [C]: N_opt 1.824e9 and
4.130e10) and Kaplan's
Table 6 frontier (Kaplan et al. 2020: C_min = 1e3 PF-days -> N_opt = 2.013e11).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from scalinglab import plot
from scalinglab.errors import ScalingLabError
from scalinglab.laws.registry import get_law


def _runs():
    law = get_law("hoffmann2022")
    rows = []
    for n in (2e7, 6e7, 2e8):
        for ratio in (5, 20, 80):
            rows.append({"run_id": f"{n:.0e}-{ratio}", "params": n, "tokens": ratio * n,
                         "flops": 6 * n * ratio * n, "loss": float(law.predict(n, ratio * n))})
    return pd.DataFrame(rows)


def _check_axes(ax, *, x_unit, y_unit=None):
    assert ax.get_title(), "figure has no title"
    assert x_unit in ax.get_xlabel(), ax.get_xlabel()
    if y_unit is not None:
        assert y_unit in ax.get_ylabel(), ax.get_ylabel()
    legend = ax.get_legend()
    assert legend is not None and legend.get_texts(), "figure has no legend"


def _line(ax, label_start):
    for line in ax.get_lines():
        if line.get_label().startswith(label_start):
            return line
    raise AssertionError(f"no line labelled {label_start!r}: {[each.get_label() for each in ax.get_lines()]}")


def test_frontier_draws_the_published_frontiers():
    laws = {n: get_law(n) for n in ("kaplan2020", "hoffmann2022", "epoch2024")}
    fig = plot.frontier(laws, compute=(1e20, 1e25))
    ax = fig.axes[0]
    _check_axes(ax, x_unit="FLOPs", y_unit="count")
    x, y = _line(ax, "hoffmann2022").get_data()
    for c, n_opt in ((1e21, 1.824e9), (1e24, 4.130e10)):  # Hoffmann Eq. 4 closed form [C]
        assert np.interp(np.log(c), np.log(x), np.log(y)) == pytest.approx(np.log(n_opt), abs=2e-3)
    # Kaplan Table 6: N_opt = 1.3e9 · C_min^0.73 with C_min = C/2 in PF-days; C_min = 1e3 PF-days
    # is C = 2 · 8.64e22 FLOPs -> 2.013e11 (Kaplan et al. 2020 test vectors).
    x, y = _line(ax, "kaplan2020").get_data()
    c = 2 * 1e3 * 8.64e19
    assert np.exp(np.interp(np.log(c), np.log(x), np.log(y))) == pytest.approx(2.013e11, rel=2e-3)
    assert "kaplan2020" in ax.get_title() and "epoch2024" in ax.get_title()


def test_tokens_per_param_figure():
    fig = plot.tokens_per_param({"hoffmann2022": get_law("hoffmann2022")}, compute=(1e21, 1e26))
    ax = fig.axes[0]
    _check_axes(ax, x_unit="FLOPs", y_unit="D/N")
    x, y = ax.get_lines()[0].get_data()
    # Hoffmann Eq. 4 closed form [C]: D/N = 50.08 at 1e21
    assert y[0] == pytest.approx(50.08, rel=1e-3)
    assert y[-1] == pytest.approx(152.6, rel=1e-3)  # and 152.6 at 1e26


def test_loss_vs_params_with_bootstrap_band():
    runs = _runs()
    law = get_law("hoffmann2022")
    rng = np.random.default_rng(0)
    samples = {k: getattr(law, k) * np.exp(rng.normal(0, 0.01, 40)) for k in ("E", "A", "B", "alpha", "beta")}
    fig = plot.loss_vs_params(runs, law, {"samples": samples}["samples"])
    ax = fig.axes[0]
    _check_axes(ax, x_unit="count", y_unit="nats/token")
    assert "E=1.69" in ax.get_title() and "9 runs" in ax.get_title()
    # The median-ratio curve is the law at D = 20 N: at N = 1e8, L(1e8, 2e9) from Eq. 10.
    x, y = _line(ax, "hoffmann2022 at D/N = 20").get_data()
    assert np.interp(np.log(1e8), np.log(x), y) == pytest.approx(float(law.predict(1e8, 2e9)), rel=1e-3)
    assert any("bootstrap band" in t.get_text() for t in ax.get_legend().get_texts())


def test_isoflop_curves_from_an_isoflop_fit():
    from scalinglab.fit.isoflop import IsoFLOPFit

    law = get_law("hoffmann2022")
    rows = []
    for budget in (1e19, 1e20, 1e21):
        for n in np.geomspace(law.optimum(budget).params / 4, law.optimum(budget).params * 4, 5):
            rows.append({"params": n, "tokens": budget / (6 * n), "flops": budget,
                         "loss": float(law.predict(n, budget / (6 * n)))})
    runs = pd.DataFrame(rows)
    fit = IsoFLOPFit().fit(runs)
    fig = plot.isoflop_curves(fit, runs, law=law)
    ax = fig.axes[0]
    _check_axes(ax, x_unit="count", y_unit="nats/token")
    assert "3 budgets" in ax.get_title() and f"{fit.a_:.3f}" in ax.get_title()


def test_training_curves_extrapolation_emergence_and_plan():
    from scalinglab.plan.budget import train_plan

    curves = pd.DataFrame({"run_id": ["a"] * 3 + ["b"] * 3, "step": [1, 2, 3] * 2,
                           "tokens": [1e6, 2e6, 3e6] * 2, "flops": [1e13, 2e13, 3e13, 2e13, 4e13, 6e13],
                           "loss": [4.0, 3.5, 3.2, 3.9, 3.3, 3.0]})
    runs = pd.DataFrame({"run_id": ["a", "b"], "params": [1e6, 2e6]})
    ax = plot.training_curves(curves, {"flops": [1e13, 6e13], "loss": [4.0, 3.0]}, runs=runs).axes[0]
    _check_axes(ax, x_unit="FLOPs", y_unit="nats/token")

    ax = plot.extrapolation([3.0, 2.5, 2.2], [3.1, 2.4, 2.0], [False, False, True], params=[1, 2, 3]).axes[0]
    _check_axes(ax, x_unit="nats/token", y_unit="nats/token")
    assert "+10.00%" in ax.get_title()  # (2.2 − 2.0)/2.0 for the one held-out run

    ax = plot.emergence(mark_flops=5.88e23).axes[0]
    _check_axes(ax, x_unit="FLOPs")
    assert len(ax.get_yticklabels()) == 22  # Wei et al. 2022 Table 1: 22 quantified rows of 23

    plans = [train_plan(params=70e9, tokens=1.4e12, gpu=g, gpus=2048) for g in ("A100-80GB", "H100")]
    fig = plot.plan_breakdown(plans)
    hours_ax, _, days_ax = fig.axes
    assert "GPU-hours" in hours_ax.get_ylabel() and "days" in days_ax.get_ylabel()
    # Stacked bars add up to the plan's GPU-hours (6·N·D / (peak · MFU)).
    tops = {}
    for bar in hours_ax.patches:
        x = round(bar.get_x(), 6)
        tops[x] = max(tops.get(x, 0.0), bar.get_y() + bar.get_height())
    assert [tops[x] for x in sorted(tops)] == pytest.approx([p.gpu_hours for p in plans], rel=1e-9)
    assert fig._suptitle.get_text().startswith("Training plan breakdown: 5.88e+23 FLOPs")


def test_png_is_written_headless():
    png = plot.to_png(plot.emergence())
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_bad_input_is_refused():
    with pytest.raises(ScalingLabError, match="no 'params' column"):
        plot.loss_vs_params(pd.DataFrame({"loss": [1.0]}))
    with pytest.raises(ScalingLabError, match="held-out"):
        plot.extrapolation([1.0], [1.0], [False])
    with pytest.raises(ScalingLabError, match="one length"):
        plot.extrapolation([1.0, 2.0], [1.0], [True])
    with pytest.raises(ScalingLabError, match="no laws"):
        plot.frontier({})


def test_plan_command_does_not_import_matplotlib():
    code = ("import sys; from scalinglab.cli import main; "
            "rc = main(['plan', '--params', '7B', '--tokens', '1T', '--json']); "
            "sys.stdout.flush(); "
            "assert rc == 0, rc; "
            "bad = [m for m in ('matplotlib', 'scalinglab.plot', 'scalinglab.report') if m in sys.modules]; "
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
