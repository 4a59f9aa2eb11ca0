import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import load_real_mnist, mnist_dir_from

REPO = Path(__file__).resolve().parents[1]
QUICK = yaml.safe_load((REPO / "config" / "quick.yaml").read_text())


def copy_workflow(workdir):
    """The workflow, its configs and its Slurm profile, copied into `workdir`."""
    shutil.copy(REPO / "Snakefile", workdir)
    for folder in ("workflow", "config", "slurm"):
        shutil.copytree(REPO / folder, workdir / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return workdir


def snakemake(workdir, *arguments, mnist_dir, cores=("--cores", "2")):
    """Run the snakemake of this environment in `workdir` on config/quick.yaml; return its
    completed process. This environment's bin folder goes first on PATH, as an activated venv's."""
    environment = {**os.environ, "MNIST_DIR": str(mnist_dir),
                   "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    # --configfile takes several values: options after it, so that targets stay targets.
    command = [sys.executable, "-m", "snakemake", "--configfile", "config/quick.yaml", *cores,
               *arguments]
    return subprocess.run(command, cwd=workdir, env=environment, capture_output=True, text=True)


@pytest.fixture(scope="session")
def mnist_dir():
    """The folder of real MNIST named by MNIST_DIR (skipped without it, except in CI)."""
    return mnist_dir_from(os.environ)


@pytest.fixture(scope="session")
def real_mnist(mnist_dir):
    return load_real_mnist(mnist_dir)


@pytest.fixture(scope="session")
def study(tmp_path_factory, mnist_dir):
    """A copy of the workflow in which the quick study has run to the end with `--cores 2`."""
    workdir = copy_workflow(tmp_path_factory.mktemp("study"))
    finished = snakemake(workdir, mnist_dir=mnist_dir)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return workdir
