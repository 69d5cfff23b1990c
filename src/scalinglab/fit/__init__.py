"""Estimators that fit scaling laws to runs: Approaches 1-3, power laws, bootstrap, hold-out checks."""
