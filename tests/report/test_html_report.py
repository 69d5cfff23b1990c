"""The HTML report: the right numbers in the right tables, self-contained, and the CLI around it.

The report is built once from the Epoch AI digitisation of Chinchilla Figure 4 (Hoffmann et al.
2022's IsoFLOP runs; 240 points after Epoch's outlier rule, Besiroglu et al. 2024) at the Gopher
budget
C = 5.76e23 FLOPs, so its tables can be checked against published numbers:

- the fitted law against docs/fitting.md (A = 477.83 ± 0.5, B = 2143 ± 5, E = 1.8172 ± 2e-4,
  α = 0.34731 ± 2e-4, β = 0.36717 ± 2e-4, a = 0.5139);
- the Hoffmann and Epoch rows of the plan table against Hoffmann Eq. 4 closed form [C] ("Gopher
budget, all
  constant sets": 32.19B / 2.982T / 1.9307 and 72.36B / 1.327T / 1.9740).
"""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest

from scalinglab.cli import main
from scalinglab.errors import ScalingLabError
from scalinglab.io import RunTable, read_runs
from scalinglab.report import ReportSettings, build_report

GOPHER_FLOPS = 5.76e23


def epoch_runs(csv_path) -> pd.DataFrame:
    """The 240 Epoch points (drop the 5 largest losses), D = C/(6N) (Besiroglu et al. 2024)."""
    raw = pd.read_csv(csv_path)
    raw = raw.sort_values("loss").iloc[:-5]
    runs = pd.DataFrame({"run_id": [f"fig4-{i:03d}" for i in range(len(raw))],
                         "params": raw["Model Size"].to_numpy(float),
                         "flops": raw["Training FLOP"].to_numpy(float),
                         "loss": raw["loss"].to_numpy(float)})
    runs["tokens"] = runs["flops"] / (6 * runs["params"])
    return runs


@pytest.fixture(scope="module")
def chinchilla_report(chinchilla_fig4_csv):
    runs = epoch_runs(chinchilla_fig4_csv)
    assert len(runs) == 240
    data = RunTable(runs=runs, curves=None, source="Chinchilla Fig. 4, Epoch digitisation")
    return build_report(data, ReportSettings(compute=GOPHER_FLOPS, bootstrap=16, seed=1, gpus=1024))


def test_fitted_law_matches_fitting_md_t1(chinchilla_report):
    law = chinchilla_report.summary["law"]
    assert law["A"] == pytest.approx(477.83, abs=0.5)
    assert law["B"] == pytest.approx(2143, abs=5)
    assert law["E"] == pytest.approx(1.8172, abs=2e-4)
    assert law["alpha"] == pytest.approx(0.34731, abs=2e-4)
    assert law["beta"] == pytest.approx(0.36717, abs=2e-4)
    assert law["a"] == pytest.approx(0.5139, abs=1e-4)
    assert chinchilla_report.summary["objective"] < 1.01828e-3  # T1: f* = 0.00101827402
    # ... and the HTML table shows them (4 significant digits).
    html = chinchilla_report.html
    for shown in ("477.8", "2143", "1.817", "0.3473", "0.3672", "0.5139"):
        assert f"<td>{shown}</td>" in html, shown


def test_plan_table_matches_laws_md_gopher_budget(chinchilla_report):
    optimal = chinchilla_report.summary["optimal"]
    assert optimal["hoffmann2022"]["params"] == pytest.approx(32.19e9, rel=5e-4)
    assert optimal["hoffmann2022"]["tokens"] == pytest.approx(2.982e12, rel=5e-4)
    assert optimal["hoffmann2022"]["loss"] == pytest.approx(1.9307, abs=1e-4)
    assert optimal["epoch2024"]["params"] == pytest.approx(72.36e9, rel=5e-4)
    assert optimal["epoch2024"]["tokens"] == pytest.approx(1.327e12, rel=5e-4)
    assert optimal["epoch2024"]["loss"] == pytest.approx(1.9740, abs=1e-4)
    html = chinchilla_report.html
    assert "<td>3.219e+10</td>" in html and "<td>7.236e+10</td>" in html
    # The fit is a refit of the same data as Epoch's: its allocation lies near Epoch's
    # (a = 0.5139 vs 0.5126), far from Hoffmann's rounded 32B.
    assert optimal["your fit"]["params"] == pytest.approx(72.36e9, rel=0.05)


def test_intervals_and_extrapolation_reported(chinchilla_report):
    s = chinchilla_report.summary
    for key in ("E", "alpha", "beta", "a", "params_opt"):
        lo, hi = s["intervals"][key]
        estimate = s["law"][key] if key in s["law"] else s["optimal"]["your fit"]["params"]
        assert lo <= estimate <= hi, key
    ex = s["extrapolation"]
    # Held out: the largest compute budget of Fig. 4 (up to 1.296e22 FLOPs, Besiroglu et al.
    # 2024); every
    # held-out run has more FLOPs than every run the law was refitted on.
    assert ex["n_test"] >= 1 and ex["n_train"] + ex["n_test"] == 240
    assert min(r["flops"] for r in ex["runs"]) > ex["threshold"]
    assert max(r["flops"] for r in ex["runs"]) == pytest.approx(1.296e22, rel=1e-3)
    # A law fitted on smaller budgets predicts the largest within a few percent (Fig. 4 is smooth).
    assert ex["max_abs_rel_error"] < 0.05
    assert "Extrapolation check" in chinchilla_report.html


def test_approach_2_exponent_near_hoffmann_table_2(chinchilla_report):
    # Hoffmann et al. 2022 Table 2: Approach 2 gives a = 0.49 (0.462, 0.534) on their runs; the
    # digitised Fig. 4 points form fewer clean IsoFLOP groups, so allow the published interval.
    rows = {r["source"]: r for r in chinchilla_report.summary["exponents"]}
    assert 0.462 <= rows["Approach 2 (IsoFLOP, your runs)"]["a"] <= 0.534
    assert "isoflop" in chinchilla_report.figures


def test_html_is_self_contained(chinchilla_report):
    html = chinchilla_report.html
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:|//|file:)""", html, re.I)
    images = re.findall(r"<img [^>]*src='([^']*)'", html)
    assert len(images) == len(chinchilla_report.figures) >= 6
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    # The data and settings that produced it: every run and the bootstrap seed.
    data_section = html.split("<h2>Data</h2>", 1)[1]
    assert data_section.count(">fig4-") == 240
    assert "<td class=\"l\">seed</td><td>1</td>" in html


def test_figures_have_titles_labels_and_legends(chinchilla_report):
    # Every figure must carry labelled axes and a legend: rebuild them and inspect the artists.
    from scalinglab import plot
    from scalinglab.laws.registry import get_law

    laws = {n: get_law(n) for n in ("kaplan2020", "hoffmann2022", "epoch2024")}
    for fig in (plot.frontier(laws), plot.tokens_per_param(laws), plot.emergence()):
        ax = fig.axes[0]
        assert ax.get_xlabel() and ax.get_ylabel() or ax.get_yticklabels()
        assert "FLOPs" in ax.get_xlabel()
        assert ax.get_legend() is not None
        assert ax.get_title()


def _small_runs():
    from scalinglab.laws.registry import get_law

    law = get_law("hoffmann2022")
    rng = np.random.default_rng(3)
    rows = []
    for n in (1e7, 3e7, 1e8, 3e8):
        for ratio in (5, 20, 80):
            rows.append({"run_id": f"n{n:.0e}-r{ratio}", "params": n, "tokens": ratio * n,
                         "flops": 6 * n * ratio * n,
                         "loss": float(law.predict(n, ratio * n) * np.exp(rng.normal(0, 0.005)))})
    return pd.DataFrame(rows)


def test_cli_report_from_a_wandb_export(tmp_path, capsys):
    runs = _small_runs()
    export = runs.rename(columns={"run_id": "Name"}).assign(State="finished")
    export.to_csv(tmp_path / "wandb_export.csv", index=False)
    out = tmp_path / "out" / "report.html"
    code = main(["report", str(tmp_path / "wandb_export.csv"), "-o", str(out), "--bootstrap", "0",
                 "--compute", "1e21", "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["output"] == str(out) and out.exists()
    assert payload["n_runs"] == 12
    # 1e21 FLOPs under Hoffmann's rounded law: 1.824e9 params, 9.136e10 tokens (Hoffmann Eq. 4
    # closed form [C]).
    assert payload["optimal"]["hoffmann2022"]["params"] == pytest.approx(1.824e9, rel=5e-4)
    assert payload["optimal"]["hoffmann2022"]["tokens"] == pytest.approx(9.136e10, rel=5e-4)
    # Runs drawn from that same law (0.5% noise) refit close to its exponents.
    assert payload["law"]["alpha"] == pytest.approx(0.34, abs=0.05)
    assert "intervals" not in payload


def test_cli_report_bad_input_is_one_line(tmp_path, capsys):
    code = main(["report", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "nope.csv" in err
    (tmp_path / "empty.csv").write_text("")
    code = main(["report", str(tmp_path / "empty.csv"), "-o", str(tmp_path / "r.html"), "--bootstrap", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1


def test_read_runs_reads_a_tensorboard_logdir(tmp_path):
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    runs = _small_runs()
    for row in runs.itertuples():
        writer = torch_tb.SummaryWriter(str(tmp_path / row.run_id))
        writer.add_scalar("params", row.params, 0)
        for step in (1, 2, 3):
            writer.add_scalar("loss", row.loss + 0.1 * (3 - step), step)
            writer.add_scalar("tokens", row.tokens * step / 3, step)
        writer.close()
    data = read_runs(tmp_path)
    assert data.source.endswith("(tensorboard)") and len(data.runs) == 12 and len(data.curves) == 36
    got = data.runs.set_index("run_id").loc[runs["run_id"]]
    np.testing.assert_allclose(got["loss"], runs["loss"], rtol=2e-7)


def test_settings_are_checked():
    with pytest.raises(ScalingLabError, match="bootstrap"):
        build_report(RunTable(runs=_small_runs(), curves=None, source="x"),
                     ReportSettings(bootstrap=1))


def test_a_runs_file_of_loss_curves_is_split_into_runs_and_curves(tmp_path):
    # scalinglab.io: several rows per run_id are a loss curve; the run is its last step.
    rows = []
    for run in _small_runs().itertuples():
        for step in (1, 2, 3, 4):
            rows.append({"run_id": run.run_id, "step": step, "params": run.params,
                         "tokens": run.tokens * step / 4, "loss": run.loss + 0.2 * (4 - step)})
    pd.DataFrame(rows).sample(frac=1.0, random_state=0).to_csv(tmp_path / "curves.csv", index=False)
    data = read_runs(tmp_path / "curves.csv")
    assert data.source == str(tmp_path / "curves.csv") and len(data.runs) == 12 and len(data.curves) == 48
    want = _small_runs().set_index("run_id")
    got = data.runs.set_index("run_id").loc[want.index]
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-12)
    np.testing.assert_allclose(got["tokens"], want["tokens"], rtol=1e-12)
