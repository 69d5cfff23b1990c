"""Cold-start time of `scalinglab plan ... --json`, as a ratio to `python -c pass` in the same run.

Each command runs in a fresh interpreter (subprocess) N times; the best time is reported, which
is the least noisy estimate of the fixed cost on a shared machine. The goal for the planner is an
answer in under 0.3 s; the components (`import typer`, `import scalinglab.cli`) show where the time
goes.

    python benchmarks/cli_startup.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
PLAN = ["plan", "--params", "65B", "--tokens", "1.4T", "--gpu", "A100-80GB", "--gpus", "2048", "--mfu", "0.476", "--json"]
ENTRY = "import sys; from scalinglab.cli import main; sys.exit(main(sys.argv[1:]))"

COMMANDS = {
    "python -c pass (reference)": ["-c", "pass"],
    "import typer": ["-c", "import typer"],
    "import scalinglab": ["-c", "import scalinglab"],
    "import scalinglab.cli + build_app()": ["-c", "from scalinglab.cli import build_app; build_app()"],
    "scalinglab plan ... --json": ["-c", ENTRY, *PLAN],
}


def best_of(argv: list[str], repeats: int, env: dict) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, *argv], check=True, env=env, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    best_of(COMMANDS["scalinglab plan ... --json"], 1, env)  # warm the bytecode cache once
    times = {name: best_of(argv, args.repeats, env) for name, argv in COMMANDS.items()}
    reference = times["python -c pass (reference)"]
    print(f"python {sys.version.split()[0]}, best of {args.repeats} fresh processes")
    print(f"{'command':40s} {'seconds':>8s} {'x pass':>8s}")
    for name, seconds in times.items():
        print(f"{name:40s} {seconds:8.3f} {seconds / reference:8.1f}")
    plan = times["scalinglab plan ... --json"]
    print(f"\nplan cold start {plan:.3f} s (goal < 0.3 s): {'met' if plan < 0.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
