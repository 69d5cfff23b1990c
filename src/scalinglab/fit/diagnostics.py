"""Whether the runs identify a fitted L(N, D) = E + A/N^α + B/D^β: refusals, flags, standard errors.

Small sweeps (``docs/fitting.md``, pitfalls): ten-odd tiny runs spanning a factor ~1.3 in loss
rarely identify all five parameters. The optimiser then "converges" to a boundary law (E -> 0, an
exponent near 0 where its term merges with E, or a steep term that vanishes over the data). Every
fit is therefore checked after the optimum is found (:func:`diagnose`, then the local curvature,
:func:`standard_errors` and :func:`se_problems`); each problem is a message in the estimator's
``flags_``. Before any fit, :func:`check_identifiable` refuses tables that cannot determine the law
at all, and :func:`learning_curves_note` notices a table of learning curves.
"""

from __future__ import annotations

import math

import numpy as np

import scalinglab.fit.huber as H
from scalinglab.errors import ScalingLabError

#: Range of the allocation exponent a = β/(α+β) (N_opt ∝ C^a) outside of which a fit is flagged:
#: published estimates run from 0.46-0.51 (Hoffmann, Besiroglu) to 0.73 (Kaplan); a below 0.25 or
#: above 0.8 means one of the two terms is doing almost nothing over the data.
PLAUSIBLE_A = (0.25, 0.8)

#: A term (A/N^α or B/D^β) whose total change over the fitted runs is below this fraction of the
#: loss does not shape the fit: its constant and exponent are then not identified by the data. The
#: value is Hoffmann's Huber δ on log loss — residuals below it are treated as noise.
VANISHING_TERM = 1e-3

#: E below this fraction of the smallest observed loss counts as E -> 0 (the lower bound E > 0).
E_NEGLIGIBLE = 1e-3

#: Start of the flag a fit to long-form learning curves gets (several rows per run_id).
LEARNING_CURVES_FLAG = "the table looks like learning curves"

#: Weak identification from the local curvature (Gauss-Newton standard errors, ``standard_errors``),
#: on the same scale as the bootstrap rules (``scalinglab.fit.bootstrap``): an approximate 95%
#: interval (±1.96 se) of a wider than 0.25, or of α, β or E spanning more than a factor 4.
MAX_SE_A = 0.25 / 3.92
MAX_SE_LOG = math.log(4.0) / 3.92


def learning_curves_note(table: dict) -> str | None:
    """A flag when ``table`` (a dict of columns) holds several rows per run (learning curves), else None.

    Approach 3 fits one final loss per run (Hoffmann et al. 2022, §3.3); fed a long-form curve table
    it fits every evaluation point as if it were a run trained to that many tokens, although the
    early points of a run come from an unfinished learning-rate schedule (``docs/fitting.md``).
    Only a repeated ``run_id`` is taken as evidence: a ladder legitimately has several runs per size.
    """
    if "run_id" not in table:
        return None
    run_id = table["run_id"]
    n_rows = len(run_id)
    n_runs = len({v for v, gone in zip(run_id, _missing(run_id), strict=True) if not gone})
    if n_rows == n_runs:
        return None
    step = ", with a step column" if "step" in table else ""
    return (f"{LEARNING_CURVES_FLAG} ({n_rows} rows for {n_runs} runs{step}): Approach 3 is meant for "
            "one final loss per run, and every evaluation point was fitted as a run; keep each run's "
            "last row (e.g. runs.sort_values('step').groupby('run_id').tail(1))")


def _missing(values) -> np.ndarray:
    """Entries of a run_id column that are missing (None or NaN), as pandas' nunique skips them."""
    return np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in values], dtype=bool)


def check_identifiable(n, d, k: int) -> None:
    """Refuse runs that cannot determine a k-parameter L(N, D), each reason as one clear error."""
    if n.size <= k:
        raise ScalingLabError(f"{n.size} runs cannot determine {k} parameters; need at least {k + 1}")
    design = np.column_stack([np.ones_like(n), np.log(n), np.log(d)])
    if np.unique(n).size < 2:
        raise ScalingLabError(f"all runs have the same model size ({n[0]:.4g} params); "
                              "Approach 3 needs at least two sizes")
    if np.unique(d).size < 2:
        raise ScalingLabError(f"all runs have the same token count ({d[0]:.4g}); need at least two")
    if np.linalg.matrix_rank(design, tol=1e-8 * np.abs(design).max()) < 3:
        raise ScalingLabError("tokens are a fixed power of params in every run (e.g. a constant "
                              "tokens/param), so the N and D terms cannot be told apart")


def diagnose(law, params, tokens, loss, exponent_bounds=None, *, tied=False, fixed_E=None):
    """Check whether the runs identify ``law``; return ``(messages, numbers)``.

    Each message names one reason the fitted law should not be trusted (empty list: none found).
    The checks, with the constants that set them:

    - E -> 0: E below ``E_NEGLIGIBLE`` × the smallest observed loss (the fit hit the bound E > 0;
      skipped when E is fixed).
    - an exponent within 1e-3 of a bound of ``exponent_bounds`` (the constraint decides it, not
      the data), or below 0.05 (its term is nearly constant and trades off against E).
    - a vanishing term: A/N^α (or B/D^β) changes by less than ``VANISHING_TERM`` × the mean loss
      across the fitted runs, so its constant and exponent are not identified.
    - the allocation exponent a = β/(α+β) outside ``PLAUSIBLE_A``.

    Parameters
    ----------
    law : ParametricLaw
    params, tokens, loss : ndarray
        The runs the law was fitted to.
    exponent_bounds : (lo, hi), optional
    tied, fixed_E
        Settings of the fit (a tied pair is reported once; a fixed E is not checked).

    Returns
    -------
    messages : list of str
    numbers : dict
        ``term_change_N``, ``term_change_D`` (as fractions of the mean loss), ``a``.
    """
    n, d, y = (np.asarray(v, dtype=float) for v in (params, tokens, loss))
    out = []
    mean_loss = float(np.mean(y))
    # log-space evaluation: A/N^α = exp(ln A − α ln N) never overflows for representable laws.
    term_n = np.exp(math.log(law.A) - law.alpha * np.log([n.min(), n.max()]))
    term_d = np.exp(math.log(law.B) - law.beta * np.log([d.min(), d.max()]))
    change_n = float(abs(term_n[0] - term_n[1]) / mean_loss)
    change_d = float(abs(term_d[0] - term_d[1]) / mean_loss)
    a_alloc = law.a if law.alpha + law.beta > 0 else math.nan
    numbers = {"term_change_N": change_n, "term_change_D": change_d, "a": float(a_alloc),
               "E_over_min_loss": float(law.E / y.min())}
    if fixed_E is None and law.E < E_NEGLIGIBLE * y.min():
        out.append(f"E -> 0 (E = {law.E:.3g} nats): the runs do not bound the irreducible loss; "
                   "the fit sits on the constraint E > 0")
    names = (("alpha", law.alpha),) if tied else (("alpha", law.alpha), ("beta", law.beta))
    label = {"alpha": "alpha (= beta)" if tied else "alpha", "beta": "beta"}
    for name, value in names:
        if exponent_bounds is not None:
            lo, hi = exponent_bounds
            if abs(value - lo) <= 1e-3 or abs(value - hi) <= 1e-3:
                out.append(f"{label[name]} = {value:.4g} is at its bound [{lo:g}, {hi:g}]: the "
                           "constraint, not the data, sets it")
                continue
        if 0 < value < 0.05:
            out.append(f"{label[name]} = {value:.4g} ~ 0: its term is almost constant over the runs "
                       "and trades off against E")
    for what, change, const, exp_name in (("A/N^alpha", change_n, law.A, "alpha"),
                                          ("B/D^beta", change_d, law.B, "beta")):
        if change < VANISHING_TERM:
            out.append(f"the {what} term vanishes over the data (changes by {100 * change:.2g}% of the "
                       f"loss across the runs): {what[0]} = {const:.3g} and {exp_name} are not identified")
    lo_a, hi_a = PLAUSIBLE_A
    if math.isfinite(a_alloc) and not (lo_a <= a_alloc <= hi_a) and not tied:
        out.append(f"allocation exponent a = {a_alloc:.3g} (N_opt ∝ C^a) is outside the plausible "
                   f"range [{lo_a:g}, {hi_a:g}] of published fits")
    return out, numbers


def standard_errors(theta, data, pmap, bounds=None) -> dict:
    """Approximate (Gauss-Newton) standard errors at the optimum ``theta`` of a fit.

    Cov(φ) ≈ s²·(JᵀJ)⁻¹ over the free parameters φ, with J the Jacobian of the log-loss prediction
    and s² = Σr²/(n − k) the residual variance (unweighted: ``sample_weight`` is not used here). Parameters at an active bound are held fixed.
    Returns se of ``e`` (= ln E, so a relative se of E), ``alpha``, ``beta`` (absolute) and of the
    allocation exponent ``a`` (delta method); inf where the curvature is singular.
    """
    theta2 = np.asarray(theta, dtype=float)[None, :]
    lse, p1, p2, p3 = H._lse_parts(theta2, data.log_n, data.log_d)
    jac = np.stack([p1[0], p2[0], p3[0], -p1[0] * data.log_n, -p2[0] * data.log_d], axis=1) @ pmap.M
    free = np.ones(len(pmap.names), dtype=bool)
    if bounds is not None:
        phi = pmap.free(theta2)[0]
        for i, (lo, hi) in enumerate(bounds):
            if (lo is not None and phi[i] <= lo + 1e-9) or (hi is not None and phi[i] >= hi - 1e-9):
                free[i] = False
    resid = data.log_l - lse[0]
    dof = data.n - int(free.sum())
    out = {"e": math.inf, "alpha": math.inf, "beta": math.inf, "a": math.inf}
    if dof <= 0:
        return out
    jf = jac[:, free]
    info = jf.T @ jf
    if not np.all(np.isfinite(info)) or np.linalg.cond(info) > 1e14:
        return out
    cov_free = np.linalg.inv(info) * float(resid @ resid) / dof
    cov_phi = np.zeros((len(pmap.names), len(pmap.names)))
    cov_phi[np.ix_(free, free)] = cov_free
    cov = pmap.M @ cov_phi @ pmap.M.T  # (5, 5) over (a, b, e, alpha, beta)
    _, _, _, alpha, beta = theta
    out["e"] = float(math.sqrt(max(cov[2, 2], 0.0)))
    out["alpha"] = float(math.sqrt(max(cov[3, 3], 0.0)))
    out["beta"] = float(math.sqrt(max(cov[4, 4], 0.0)))
    s = alpha + beta
    if s > 0:
        grad = np.array([-beta / s**2, alpha / s**2])
        out["a"] = float(math.sqrt(max(grad @ cov[3:, 3:] @ grad, 0.0)))
    return out


def se_problems(se, law, tied=False) -> list:
    out = []
    if se["a"] > MAX_SE_A and not tied:
        out.append(f"allocation exponent a = {law.a:.3g} ± {se['a']:.2g} (approx. standard error): "
                   "the runs do not determine the compute-optimal allocation")
    for name, value in ((("alpha (= beta)", law.alpha),) if tied else (("alpha", law.alpha), ("beta", law.beta))):
        if value > 0 and se[name.split()[0]] / value > MAX_SE_LOG:
            out.append(f"{name} = {value:.3g} ± {se[name.split()[0]]:.2g} (approx. standard error): not determined "
                       "by the runs")
    if se["e"] > MAX_SE_LOG:
        out.append(f"E = {law.E:.3g} known only within a factor {math.exp(1.96 * min(se['e'], 100)):.3g} "
                   "(approx. 95%): the runs do not pin down the irreducible loss")
    return out
