"""Beyond-Chinchilla solvers against straightforward references measured in the same run.

- ``data_constrained_optimum`` (the README's 1,000-point grid, evaluated as one numpy array)
  against the same grid walked point by point with scalar ``predict`` calls, as the
  ``huggingface/datablations`` README loop does; both must return the same (N, D).
- ``inference_aware_optimum`` (Brent root of the stationarity condition) against a dense search
  of 20,001 sizes along the iso-loss curve; the relative disagreement in N is printed.
- ``plan.gap.simulate`` (one (budget x model) array) against a per-budget Python loop.

Run: ``.venv/bin/python benchmarks/beyond.py``
"""

import math

import numpy as np
from _timing import best_of

from scalinglab.laws.data_constrained import MUENNIGHOFF_2023, README_GRID, data_constrained_optimum
from scalinglab.laws.inference import inference_aware_optimum, tokens_for_loss
from scalinglab.laws.registry import get_law
from scalinglab.plan import gap


def scalar_grid(compute, unique):
    law = MUENNIGHOFF_2023
    chin = law.parametric.optimum(compute)
    best = (math.inf, None, None)
    for i in np.linspace(*README_GRID):
        for n, d in ((chin.params / i, chin.tokens * i), (chin.params * i, chin.tokens / i)):
            loss = law.predict(n, d, min(unique, d))
            if loss < best[0]:
                best = (loss, n, d)
    return best


def dense_inference_search(law, compute, d_inf, points=20_001):
    target = law.optimum(compute).loss
    n_floor = (law.A / (target - law.E)) ** (1 / law.alpha)
    n_chin = law.optimum(compute).params
    sizes = np.exp(np.linspace(math.log(n_floor * 1.0001), math.log(n_chin), points))
    cost = [6 * n * tokens_for_loss(law, n, target) + 2 * n * d_inf for n in sizes]
    return sizes[int(np.argmin(cost))]


def loop_simulate(law):
    setup = gap.kaplan_setup()
    budgets = np.logspace(*gap.LOG10_C_NON_EMBEDDING, gap.N_BUDGETS)
    best = []
    for c in budgets:
        tokens = c / (6 * setup.non_embedding)
        loss = law.E + law.A / setup.total**law.alpha + law.B / tokens**law.beta
        best.append(setup.non_embedding[int(np.argmin(loss))])
    return np.polyfit(np.log(budgets), np.log(best), 1)[0]


def main():
    vec = best_of(lambda: data_constrained_optimum(None, 1e22, 25e9))
    ref = best_of(lambda: scalar_grid(1e22, 25e9), repeat=3)
    opt, (_, n_ref, d_ref) = data_constrained_optimum(None, 1e22, 25e9), scalar_grid(1e22, 25e9)
    same = opt["params"] == n_ref and opt["tokens"] == d_ref
    print(f"data-constrained optimum (C 1e22, U 25B): vectorised grid {vec * 1e3:.2f} ms, scalar "
          f"loop {ref * 1e3:.1f} ms, ratio {ref / vec:.0f}x; identical answer: {same}")

    law = get_law("hoffmann2022")
    inference_aware_optimum(law, 1e23, 2e12)  # import scipy.optimize outside the timing
    root = best_of(lambda: inference_aware_optimum(law, 1e23, 2e12))
    grid = best_of(lambda: dense_inference_search(law, 1e23, 2e12), repeat=3)
    n_root = inference_aware_optimum(law, 1e23, 2e12)["params"]
    n_grid = dense_inference_search(law, 1e23, 2e12)
    print(f"inference-aware optimum (C 1e23, 2T tokens): Brent root {root * 1e3:.2f} ms, 20,001-point "
          f"search {grid * 1e3:.1f} ms, ratio {grid / root:.0f}x; |N_root/N_grid - 1| = "
          f"{abs(n_root / n_grid - 1):.1e}")

    hu = get_law("hoffmann2022-unrounded")
    arr = best_of(lambda: gap.simulate(hu))
    loop = best_of(lambda: loop_simulate(hu))
    agree = abs(gap.simulate(hu)["non_embedding_exponent"] - loop_simulate(hu))
    print(f"explain-gap simulation: array {arr * 1e3:.2f} ms (both bookkeepings), per-budget loop "
          f"{loop * 1e3:.2f} ms (non-embedding only); exponent difference {agree:.1e}")


if __name__ == "__main__":
    main()
