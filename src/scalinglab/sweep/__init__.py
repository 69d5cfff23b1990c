"""Scaling sweeps: designs, the resumable run store, local and Ray executors."""
