"""``scalinglab fit``: one JSON object with --json, one-line errors with exit code 2."""

import json

import pytest

from scalinglab.cli import main


def _run(capsys, *argv):
    rc = main(["fit", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_fit_json_on_epoch_data(capsys, chinchilla_fig4_csv, tmp_path):
    png = tmp_path / "fit.png"
    rc, out, err = _run(capsys, str(chinchilla_fig4_csv), "--drop-highest-loss", "5", "--budget", "5.88e23",
                        "--holdout-above", "1e21", "--plot", str(png), "--json")
    assert rc == 0, err
    payload = json.loads(out)
    # TEST_VECTORS F2: f* = 0.0010182740178; alpha 0.347310 ± 2e-4.
    assert payload["objective"] == pytest.approx(0.0010182740178, abs=1e-9)
    assert payload["alpha"] == pytest.approx(0.347310, abs=2e-4)
    assert payload["n_runs"] == 240 and len(payload["dropped"]) == 5
    assert payload["optimum"]["tokens_per_param"] == pytest.approx(18.3, abs=1.0)
    assert payload["holdout"]["n_test"] > 0
    assert png.exists() and png.stat().st_size > 1000


def test_fit_bootstrap_and_other_forms(capsys, tmp_path):
    import numpy as np

    from scalinglab.laws.chinchilla import ParametricLaw

    law = ParametricLaw(E=1.8, A=480.0, B=2100.0, alpha=0.35, beta=0.36)
    path = tmp_path / "runs.jsonl"
    lines = []
    for n in np.geomspace(5e7, 5e9, 6):
        for r in (5, 20, 80):
            lines.append(json.dumps({"N": n, "C": 6 * n * n * r, "val_loss": law.predict(n, n * r)}))
    path.write_text("\n".join(lines) + "\n")
    rc, out, err = _run(capsys, str(path), "--loss-col", "val_loss", "--bootstrap", "8", "--workers", "1", "--json")
    assert rc == 0, err
    payload = json.loads(out)
    assert payload["E"] == pytest.approx(1.8, rel=1e-4)
    assert payload["bootstrap"]["n_resamples"] == 8 and "alpha" in payload["bootstrap"]["parameters"]
    rc, out, err = _run(capsys, str(path), "--form", "saturating", "--variable", "flops", "--json")
    assert rc == 0, err
    assert json.loads(out)["variable"] == "flops"
    rc, out, err = _run(capsys, str(path), "--form", "kaplan", "--json")
    assert rc == 0, err
    assert json.loads(out)["alpha_N"] > 0


@pytest.mark.parametrize("args, message", [
    (["missing.csv"], "not found"),
    (["{csv}", "--form", "cubic"], "--form must be"),
    (["{csv}", "--approach", "2", "--form", "kaplan"], "takes no --form"),
    (["{csv}", "--budget", "-1"], "negative"),
    (["{bad}"], "line 3"),
    (["{csv}", "--form", "kaplan", "--bootstrap", "5"], "--bootstrap is available"),
    (["{csv}", "--approach", "2", "--holdout-above", "1e20"], "--holdout-above checks"),
    (["{csv}", "--exponent-bounds", "0.5"], "--exponent-bounds takes LO,HI"),
    (["{csv}", "--exponent-bounds", "1.5,0.05"], "needs LO < HI"),
    (["{dir}"], "is a folder but not a TensorBoard log dir"),
])
def test_errors_are_one_line_exit_2(capsys, tmp_path, args, message):
    csv = tmp_path / "runs.csv"
    csv.write_text("params,tokens,loss\n" + "".join(f"{n},{20 * n},{3 - i * 0.1}\n" for i, n in
                                                      enumerate([1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9])))
    bad = tmp_path / "bad.csv"
    bad.write_text("params,tokens,loss\n1e8,2e9,3.0\n2e8,4e9,nan\n")
    (tmp_path / "folder").mkdir()
    argv = [a.format(csv=csv, bad=bad, dir=tmp_path / "folder") for a in args]
    rc, out, err = _run(capsys, *argv)
    assert rc == 2
    assert message in err and err.count("\n") == 1 and out == ""


def test_fit_approach1_from_curves(capsys, tmp_path):
    # Loss curves of 12 sizes from a known law (a = 0.5): Approach 1 recovers a within 0.03.
    import numpy as np

    from scalinglab.laws.chinchilla import ParametricLaw

    law = ParametricLaw(E=1.8, A=400.0, B=400.0, alpha=0.34, beta=0.34)
    rows = ["run_id,params,tokens,step,loss"]
    for i, n in enumerate(np.geomspace(3e7, 3e10, 12)):
        for s, d in enumerate(np.geomspace(1e8, 1e12, 60)):
            rows.append(f"r{i},{n},{d},{s},{law.predict(n, d)}")
    path = tmp_path / "curves.csv"
    path.write_text("\n".join(rows) + "\n")
    rc, out, err = _run(capsys, str(path), "--approach", "1", "--budget", "1e21", "--json")
    assert rc == 0, err
    payload = json.loads(out)
    assert payload["a"] == pytest.approx(0.5, abs=0.03)
    assert payload["optimum"]["params"] == pytest.approx(law.optimum(1e21).params, rel=0.25)
    # the same table, Approach 3 on the final row of each run
    rc, out, err = _run(capsys, str(path), "--json")
    assert rc == 2  # final rows all share D = 1e12: the D term is not identifiable
    assert "same token count (1e+12)" in err


def _tiny_sweep_csv(path):
    """The 20-run CPU sweep of tests/small_sweeps.py (DEMO20) as a runs CSV."""
    from small_sweeps import DEMO20

    path.write_text("params,tokens,loss\n" + "".join(f"{n},{d},{y!r}\n" for n, d, y in DEMO20))
    return path


def test_degenerate_small_sweep_is_reported(capsys, tmp_path):
    csv = _tiny_sweep_csv(tmp_path / "tiny.csv")
    rc, out, err = _run(capsys, str(csv), "--json")
    assert rc == 0, err
    payload = json.loads(out)
    assert payload["degenerate"] is True and payload["E"] < 1e-50
    assert any(f.startswith("E -> 0") for f in payload["flags"])
    rc, out, err = _run(capsys, str(csv))
    assert rc == 0 and "NOT IDENTIFIED" in out and "flag: E -> 0" in out
    # --small-sweep: the constrained refit (alpha = beta in [0.05, 1.5]), and why
    rc, out, err = _run(capsys, str(csv), "--small-sweep", "--json")
    payload = json.loads(out)
    assert payload["alpha"] == payload["beta"] and 0.05 <= payload["alpha"] <= 1.5
    assert any("so reported the constrained fit" in f for f in payload["flags"])
    # explicit bounds that bind are flagged
    rc, out, err = _run(capsys, str(csv), "--exponent-bounds", "0.1,1.5", "--json")
    payload = json.loads(out)
    assert payload["beta"] == pytest.approx(0.1, abs=1e-9)
    assert any("beta = 0.1 is at its bound" in f for f in payload["flags"])


def test_fit_reads_a_tracker_dir(capsys, tmp_path):
    from scalinglab.laws.chinchilla import ParametricLaw
    from standins import write_wandb_offline

    law = ParametricLaw(E=1.5, A=10.0, B=10.0, alpha=0.3, beta=0.3)
    runs = []
    for n in (2e4, 5e4, 1.2e5, 3e5):
        for d in (2e5, 6e5, 2e6):
            runs.append((n, d, [5.5, float(law.predict(n, d / 2)), float(law.predict(n, d))]))
    write_wandb_offline(tmp_path / "wandb", runs)
    rc, out, err = _run(capsys, str(tmp_path / "wandb"), "--json")
    assert rc == 0, err
    payload = json.loads(out)
    assert payload["n_runs"] == 12
    assert any("final row of each of 12 runs" in n for n in payload["notes"])
    # the final points are exact draws from the law: recovered
    assert payload["E"] == pytest.approx(1.5, rel=1e-3) and payload["alpha"] == pytest.approx(0.3, rel=1e-3)
    assert payload["degenerate"] is False and payload["flags"] == []
