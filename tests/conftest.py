"""Shared test set-up: quick mode, figures to a temp dir, and a guard against skipped notebooks."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    config.addinivalue_line("markers", "cuda: needs a CUDA GPU (skipped without one)")
    config.addinivalue_line("markers", "browser: builds the book and drives headless chromium (MNIST_EXPLORE_BROWSER_TESTS=0 skips)")
    matplotlib.use("Agg")
    # Set before any notebook kernel starts, so the kernels inherit them: notebooks
    # run in quick mode, and nothing the tests draw overwrites the committed figures/.
    os.environ["MNIST_EXPLORE_QUICK"] = "1"
    os.environ.setdefault("MNIST_EXPLORE_FIGURES", tempfile.mkdtemp(prefix="mnist-explore-figures-"))


def pytest_collection_modifyitems(config, items):
    import torch

    if not torch.cuda.is_available():
        skip = pytest.mark.skip(reason="needs a CUDA GPU")
        for item in items:
            if "cuda" in item.keywords:
                item.add_marker(skip)


def pytest_collection_finish(session):
    """A full run (no paths given) must collect every notebook, or nbval is not doing its job."""
    given = [a for a in session.config.invocation_params.args if not a.startswith("-")]
    if given:
        return
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    collected = {Path(str(item.path)).name for item in session.items if str(item.path).endswith(".ipynb")}
    missing = [nb.name for nb in notebooks if nb.name not in collected]
    if missing:
        raise pytest.UsageError(f"notebooks not collected (is nbval installed and --nbval-lax set?): {missing}")


@pytest.fixture(scope="session")
def mnist():
    from mnist_explore.data import load_mnist

    return load_mnist()
