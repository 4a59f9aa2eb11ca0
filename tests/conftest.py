import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_dir():
    """The folder of real MNIST named by MNIST_DIR. Skipped without it, except in CI, where a test
    that needs MNIST must run."""
    folder = os.environ.get("MNIST_DIR", "")
    if not folder:
        if os.environ.get("CI") == "true":
            pytest.fail("MNIST_DIR is not set, and CI=true forbids skipping tests that need MNIST")
        pytest.skip("MNIST_DIR is not set (a folder with the four MNIST IDX files)")
    if not Path(folder).is_dir():
        pytest.fail(f"MNIST_DIR={folder} is not a folder")
    return Path(folder)
