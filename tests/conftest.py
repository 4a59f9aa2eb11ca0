import os
import shutil

import pytest
from filelock import FileLock

from helpers import (  # noqa: F401 (REPO)
    QUICK_STUDY_LOG,
    REPO,
    copy_workflow,
    load_real_mnist,
    mnist_dir_from,
    snakemake,
)


@pytest.fixture(scope="session")
def mnist_dir():
    """The folder of real MNIST named by MNIST_DIR (skipped without it, except in CI)."""
    return mnist_dir_from(os.environ)


@pytest.fixture(scope="session")
def real_mnist(mnist_dir):
    return load_real_mnist(mnist_dir)


def finished_quick_study(folder, mnist_dir):
    """The quick study run to its end in folder/study; what its snakemake said beside it."""
    workdir = copy_workflow(folder / "study")
    finished = snakemake(workdir, mnist_dir=mnist_dir)
    assert finished.returncode == 0, finished.stderr[-3000:]
    (folder / QUICK_STUDY_LOG).write_text(finished.stderr)  # its jobs, for the interruption test
    return workdir


@pytest.fixture(scope="session")
def quick_study(request, tmp_path_factory, mnist_dir):
    """A workflow folder in which the quick study has run to the end. Never changed: tests work on
    a copy (helpers.copy_study), so one run of a few minutes serves every test module. The test
    processes of pytest-xdist (pytest.ini runs three) share it: the first to need it makes it in their
    common temporary folder while the other waits for it."""
    if not hasattr(request.config, "workerinput"):  # one process (-n 0)
        return finished_quick_study(tmp_path_factory.mktemp("quick"), mnist_dir)
    shared = tmp_path_factory.getbasetemp().parent / "quick"
    with FileLock(f"{shared}.lock"):
        if not (shared / QUICK_STUDY_LOG).is_file():
            shutil.rmtree(shared, ignore_errors=True)  # a worker that failed to make it left a part
            finished_quick_study(shared, mnist_dir)
    return shared / "study"


# The slowest files first, so that the test processes end together instead of one waiting on a long
# file that came last (the live Slurm study polls for minutes; the interruption test runs a study).
# pytest-xdist hands the first ones to its processes, one each (pytest.ini keeps this order).
SLOWEST_FIRST = (
    "test_slurm.py",
    "test_interruptions.py",
    "test_upgrade_from_4.py",
    "test_upgrade.py",
    "test_add_dataset.py",
    "test_rerun.py",
    "test_module.py",
    "test_add_model.py",
)


# A test that uses one of these fixtures needs what the marker names (pytest.ini): it is marked so here,
# so that `-m "not slurm"` and `-m "not browser"` leave out exactly the tests that need them.
MARKED_BY_FIXTURE = {"slurm_cpus": "slurm", "chromium": "browser"}


def mark_by_fixture(item):
    for fixture, marker in MARKED_BY_FIXTURE.items():
        if fixture in item.fixturenames:
            item.add_marker(marker)


def check_workflow_marker(item):
    """A test that runs a study must say so: `-m "not workflow"` may never start one."""
    if "quick_study" in item.fixturenames and item.get_closest_marker("workflow") is None:
        raise pytest.UsageError(f"{item.nodeid} uses the quick study but is not marked workflow")


def pytest_collection_modifyitems(config, items):
    for item in items:
        mark_by_fixture(item)
        check_workflow_marker(item)

    def rank(item):
        name = item.path.name
        return SLOWEST_FIRST.index(name) if name in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: each file's tests keep their order
