import os

import pytest

from helpers import REPO, copy_workflow, load_real_mnist, mnist_dir_from, snakemake  # noqa: F401 (REPO)


@pytest.fixture(scope="session")
def mnist_dir():
    """The folder of real MNIST named by MNIST_DIR (skipped without it, except in CI)."""
    return mnist_dir_from(os.environ)


@pytest.fixture(scope="session")
def real_mnist(mnist_dir):
    return load_real_mnist(mnist_dir)


@pytest.fixture(scope="session")
def quick_study(tmp_path_factory, mnist_dir):
    """A workflow folder in which the quick study has run to the end. Never changed: tests work on
    a copy (helpers.copy_study), so one run of a few minutes serves every test module."""
    workdir = copy_workflow(tmp_path_factory.mktemp("quick") / "study")
    finished = snakemake(workdir, mnist_dir=mnist_dir)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return workdir
