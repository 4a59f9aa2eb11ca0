"""A study finished before the report's analysis existed gains it without training anything again:
the quick study trained by an earlier main, then this workflow laid over it as `git pull` would."""

import filecmp
import io
import os
import subprocess
import tarfile
import time

import pandas as pd
import pytest

from helpers import REPO, copy_workflow, snakemake
from test_rerun import planned_jobs


pytestmark = pytest.mark.workflow
# The last main before per-image predictions, error analysis and paired tests (issue 7).
BEFORE_ANALYSIS = "1bb498f"
WORKFLOW_PATHS = ("Snakefile", "workflow", "config", "slurm")


def extract_commit(commit, workdir):
    """The workflow as it was at `commit`, from this repository's history."""
    found = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True)
    if found.returncode != 0:
        pytest.skip(f"commit {commit} is not in this clone's history (a shallow clone?)")
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit, *WORKFLOW_PATHS], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(workdir, filter="data")
    return workdir


def lay_over(new, study):
    """This workflow's files over the old ones, as `git pull` leaves them: a file that changed gets
    a new modification time, an unchanged one keeps its old time (Snakemake compares script times)."""
    now = time.time()
    for path in (p for p in new.rglob("*") if p.is_file()):
        target = study / path.relative_to(new)
        unchanged = target.exists() and filecmp.cmp(path, target, shallow=False)
        if not unchanged:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
            os.utime(target, (now, now))


@pytest.fixture(scope="module")
def old_study(tmp_path_factory, mnist_dir):
    """The quick study's runs trained by the workflow of BEFORE_ANALYSIS, then this workflow over it."""
    study = extract_commit(BEFORE_ANALYSIS, tmp_path_factory.mktemp("old") / "study")
    trained = snakemake(study, "train_all", mnist_dir=mnist_dir)
    assert trained.returncode == 0, trained.stderr[-3000:]
    lay_over(copy_workflow(tmp_path_factory.mktemp("new") / "workflow"), study)
    return study


def test_an_earlier_study_plans_no_training_and_gains_the_analysis(old_study, mnist_dir):
    dry = snakemake(old_study, "--dry-run", mnist_dir=mnist_dir)
    assert dry.returncode == 0, dry.stderr[-3000:]
    rules = [job.rule for job in planned_jobs(dry)]
    assert not {
        "train_run",
        "fetch_mnist",
        "prepare_mnist",
        "make_two_digit",
        "fetch_idx",
        "prepare_idx",
        "make_pairs",
    } & set(rules)
    assert rules.count("predict_test") == 5 and "compare_models" in rules and "write_summary" in rules

    finished = snakemake(old_study, mnist_dir=mnist_dir)
    assert finished.returncode == 0, finished.stderr[-3000:]
    summary = (old_study / "results" / "summary.md").read_text()
    assert "## Findings" in summary and "95% interval" in summary and "McNemar" in summary
    pairs = pd.read_csv(old_study / "results" / "tables" / "twodigit" / "lenet5" / "digit_pairs.csv")
    assert (pairs["digit_left"] + pairs["digit_right"] == pairs["sum"]).all()
