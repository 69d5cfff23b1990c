"""scalinglab: plan, predict, fit and measure language-model scaling laws.

Importing this package is cheap: it loads numpy-level modules on demand and never torch or ray,
so ``scalinglab plan`` answers in well under a second. Training (``scalinglab.train``) and
distribution (``scalinglab.sweep`` with Ray) import their heavy dependencies lazily.
"""

from scalinglab.errors import ScalingLabError

__version__ = "0.1.0"

# Seed-compatible façades (see ../shared/seeds/) are exposed lazily so that ``import scalinglab``
# stays light; each name maps to the module that defines it.
_LAZY = {
    "ScalingLawPredictor": "scalinglab.compat.predictor",
    "ComputeBudgetCalculator": "scalinglab.compat.budget",
    "ComputeEconomy": "scalinglab.compat.budget",
    "MasterFitter": "scalinglab.compat.fitter",
    "KaplanTransformer": "scalinglab.train.model",
    "EmergentAbilitiesTracker": "scalinglab.compat.beyond",
    "DataScalingPlanner": "scalinglab.compat.beyond",
    "EfficiencyComparator": "scalinglab.compat.beyond",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'scalinglab' has no attribute {name!r}")


__all__ = ["ScalingLabError", "__version__", *_LAZY]
