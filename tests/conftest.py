"""Shared fixtures: where the published reference material lives.

The reference files in ``../shared/reference/`` are read in place (never copied into the repo);
``SCALINGLAB_REFERENCE_DIR`` overrides the location.
"""

import os
import sysconfig
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


@pytest.fixture(scope="module")
def epoch240(chinchilla_fig4_csv):
    """Epoch's 245 Chinchilla Figure 4 runs less the 5 highest losses (the 240 they fit)."""
    from scalinglab.io import drop_highest_loss, read_runs

    return drop_highest_loss(read_runs(chinchilla_fig4_csv).runs, 5)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """~400 kB of real Python source (the json and email packages of this CPython): a small text
    corpus for tests that really train."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted((root / "json").glob("*.py")) + sorted((root / "email").glob("*.py"))
    path = tmp_path_factory.mktemp("corpus") / "code.txt"
    path.write_text("\n\n".join(f.read_text() for f in files))
    return path


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory):
    """Point the tokenised-corpus cache (``SCALINGLAB_CACHE``) at a fresh folder for one module."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SCALINGLAB_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()
