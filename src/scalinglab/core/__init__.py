"""Accounting core: units and human numbers, the hardware catalog, transformer shapes.

Pure numpy/stdlib; no I/O beyond reading packaged catalogs, no torch.
"""
