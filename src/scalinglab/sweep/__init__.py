"""Scaling sweeps: designs, the resumable run store, local and Ray executors, and the analysis.

=================  =========================================================================
module             what it does
=================  =========================================================================
``design``         IsoFLOP grid and model ladder -> a SweepDesign of planned runs
``planned``        PlannedRun, SweepDesign, plan_run (config, ID, FLOPs by convention)
``family``         the shapes a sweep may use (scalinglab.core.shapes) and a law's best one
``priors``         what centres a budget's sizes (tokens per parameter, a law's optimum)
``hyperparams``    the stated learning-rate / batch / warm-up / schedule rule
``store``          one folder per sweep: sealed per-run records, Parquet tables, lock, status
``worker``         the run function an executor calls (``train_task``) and its attempt log
``local``          process-pool executor sized to the cores
``ray_exec``       Ray executor (local Ray on loopback, or an existing cluster)
``runner``         ``run_sweep``: skip finished runs, resume the rest, stream results in
``analysis``       Approaches 1-3, IsoFLOP optima, extrapolation check, plan for a budget
``spec``           sweep settings from TOML and options -> a design
=================  =========================================================================

Nothing here imports torch or Ray at import time; the worker and the Ray executor do, in the
processes that train.
"""
