"""scalinglab: plan, predict, fit and measure language-model scaling laws.

Importing this package is cheap: it loads numpy-level modules on demand and never torch or ray,
so ``scalinglab plan`` answers in well under a second. Training (``scalinglab.train``) and
distribution (``scalinglab.sweep`` with Ray) import their heavy dependencies lazily.
"""

from scalinglab._lazy import lazy_attributes, lazy_dir
from scalinglab.errors import ScalingLabError

__version__ = "0.1.0"

# The everyday API and the seed-compatible façades (:mod:`scalinglab.compat`) are exposed lazily so
# that ``import scalinglab`` stays light; each name maps to the module that defines it.
_LAZY = {
    # core and laws
    "TransformerShape": "scalinglab.core.architecture",
    "shape_for_params": "scalinglab.core.shapes",
    "get_accelerator": "scalinglab.core.hardware",
    "get_law": "scalinglab.laws.registry",
    "list_laws": "scalinglab.laws.registry",
    "ParametricLaw": "scalinglab.laws.chinchilla",
    # planning
    "train_plan": "scalinglab.plan.budget",
    "training_memory": "scalinglab.plan.memory",
    # fitting
    "read_runs": "scalinglab.io",
    "RunTable": "scalinglab.io",
    "ChinchillaFit": "scalinglab.fit.parametric",
    "IsoFLOPFit": "scalinglab.fit.isoflop",
    "EnvelopeFit": "scalinglab.fit.envelope",
    "KaplanFit": "scalinglab.fit.kaplan",
    "PowerLawFit": "scalinglab.fit.powerlaw",
    "SaturatingPowerLawFit": "scalinglab.fit.powerlaw",
    "fit_small_sweep": "scalinglab.fit.parametric",
    "bootstrap": "scalinglab.fit.bootstrap",
    "extrapolation_check": "scalinglab.fit.validate",
    # measuring (torch and ray load only when these are called). The training loop itself is
    # ``scalinglab.train.train``: a top-level ``train`` would be shadowed by the subpackage.
    "TrainConfig": "scalinglab.train.config",
    "isoflop_design": "scalinglab.sweep.design",
    "ladder_design": "scalinglab.sweep.design",
    "run_sweep": "scalinglab.sweep.runner",
    "write_report": "scalinglab.report",
    # the compatibility façades' names
    "ScalingLawPredictor": "scalinglab.compat.predictor",
    "ComputeBudgetCalculator": "scalinglab.compat.budget",
    "ComputeEconomy": "scalinglab.compat.budget",
    "MasterFitter": "scalinglab.compat.fitter",
    "KaplanTransformer": "scalinglab.train.model",
    "EmergentAbilitiesTracker": "scalinglab.compat.beyond",
    "DataScalingPlanner": "scalinglab.compat.beyond",
    "EfficiencyComparator": "scalinglab.compat.beyond",
}

__getattr__ = lazy_attributes(__name__, _LAZY)
__dir__ = lazy_dir(globals(), _LAZY)

__all__ = ["ScalingLabError", "__version__", *_LAZY]
