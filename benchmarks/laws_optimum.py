"""Closed-form optimum vs Brent minimisation, and vectorised vs scalar ``predict``.

Prints times and ratios against a reference measured in the same run:

- ``ParametricLaw.optimum`` (Hoffmann Eq. 4, closed form) against ``numeric_optimum`` (Brent along
  6ND = C), over 200 budgets from 1e18 to 1e26; the relative disagreement is printed too.
- ``predict`` on one array of 1e6 (N, D) pairs against 1e4 scalar calls (per-point ratio).

Run: ``.venv/bin/python benchmarks/laws_optimum.py``
"""

import numpy as np
from _timing import best_of

from scalinglab.laws.chinchilla import numeric_optimum
from scalinglab.laws.registry import HOFFMANN_2022


def main():
    law = HOFFMANN_2022
    budgets = np.logspace(18, 26, 200)
    numeric_optimum(law, 1e21)  # import scipy.optimize outside the timing

    closed = best_of(lambda: [law.optimum(c) for c in budgets])
    brent = best_of(lambda: [numeric_optimum(law, c) for c in budgets], repeat=3)
    worst = max(abs(numeric_optimum(law, c).params / law.optimum(c).params - 1) for c in budgets)
    print(f"optimum, 200 budgets: closed form {closed * 1e3:.2f} ms, Brent {brent * 1e3:.1f} ms, "
          f"ratio Brent/closed {brent / closed:.0f}x; worst relative disagreement in N {worst:.1e}")

    rng = np.random.default_rng(0)
    n = 10 ** rng.uniform(7, 12, 1_000_000)
    d = 10 ** rng.uniform(9, 13, 1_000_000)
    vector = best_of(lambda: law.predict(n, d))
    scalar = best_of(lambda: [law.predict(float(a), float(b)) for a, b in zip(n[:10_000], d[:10_000], strict=True)])
    per_vector, per_scalar = vector / 1e6, scalar / 1e4
    print(f"predict: vectorised {per_vector * 1e9:.1f} ns/point, scalar {per_scalar * 1e6:.2f} us/call, "
          f"ratio scalar/vectorised {per_scalar / per_vector:.0f}x")


if __name__ == "__main__":
    main()
