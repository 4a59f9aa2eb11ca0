import os
from pathlib import Path

import pytest

from helpers import load_real_mnist, mnist_dir_from

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_dir():
    """The folder of real MNIST named by MNIST_DIR (skipped without it, except in CI)."""
    return mnist_dir_from(os.environ)


@pytest.fixture(scope="session")
def real_mnist(mnist_dir):
    return load_real_mnist(mnist_dir)
