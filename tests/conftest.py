"""Shared fixtures: where the published reference material lives.

The reference files in ``../shared/reference/`` are read in place (never copied into the repo);
``SCALINGLAB_REFERENCE_DIR`` overrides the location.
"""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = Path(os.environ.get("SCALINGLAB_REFERENCE_DIR", REPO.parent / "shared" / "reference"))


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not REFERENCE_DIR.is_dir():
        pytest.skip(f"reference material not found at {REFERENCE_DIR} (set SCALINGLAB_REFERENCE_DIR)")
    return REFERENCE_DIR


@pytest.fixture(scope="session")
def chinchilla_fig4_csv(reference_dir) -> Path:
    path = reference_dir / "chinchilla_fig4_epoch.csv"
    if not path.exists():
        pytest.skip(f"{path} not found (set SCALINGLAB_REFERENCE_DIR)")
    return path
