"""Published scaling laws as small immutable objects with their constants cited.

Every published constant lives in :mod:`scalinglab.laws.registry` (or the module of its paper) and
nowhere else.
"""
