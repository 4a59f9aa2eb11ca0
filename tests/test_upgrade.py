"""A study finished by the previous version of the workflow (layout 1), then this workflow laid over it
as `git pull` would: every command stops with one line giving the upgrade command; that command, run
as printed, brings the study over, and nothing trains or rebuilds its data again."""

import filecmp
import io
import os
import re
import shlex
import subprocess
import sys
import tarfile
import time

import pytest

from helpers import REPO, copy_study, copy_workflow, snakemake, snakemake_environment
from test_rerun import planned_jobs


pytestmark = pytest.mark.workflow
# The last main of layout 1: mnist and twodigit built by rules of their own (fetch_mnist,
# prepare_mnist, make_two_digit), the workflow in the repository root's Snakefile.
LAYOUT_1 = "373fb89"
WORKFLOW_PATHS = ("Snakefile", "workflow", "config", "slurm", "scripts")
DATA_RULES = {"fetch_idx", "prepare_idx", "make_pairs", "fetch_mnist", "prepare_mnist", "make_two_digit"}


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
    """This workflow's files over the old ones, as `git pull` leaves them: a file that changed gets a
    new modification time, an unchanged one keeps its old time (Snakemake compares script times), and
    a file this workflow no longer has goes."""
    now = time.time()
    for name in WORKFLOW_PATHS:
        old = study / name
        for path in [old] if old.is_file() else old.rglob("*"):
            if path.is_file() and not (new / path.relative_to(study)).exists():
                path.unlink()
    for path in (p for p in new.rglob("*") if p.is_file()):
        target = study / path.relative_to(new)
        unchanged = target.exists() and filecmp.cmp(path, target, shallow=False)
        if not unchanged:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
            os.utime(target, (now, now))


def trained_files(study):
    """{path: bytes} of every run's outputs and every data file."""
    paths = [*(study / "results" / "runs").rglob("*.*"), *(study / "data").rglob("*")]
    return {path.relative_to(study): path.read_bytes() for path in paths if path.is_file()}


@pytest.fixture(scope="module")
def old_study(tmp_path_factory, mnist_dir):
    """The quick study finished by the workflow of LAYOUT_1, then this workflow over it."""
    study = extract_commit(LAYOUT_1, tmp_path_factory.mktemp("old") / "study")
    finished = snakemake(study, mnist_dir=mnist_dir)
    assert finished.returncode == 0, finished.stderr[-3000:]
    lay_over(copy_workflow(tmp_path_factory.mktemp("new") / "workflow"), study)
    return study


@pytest.fixture(scope="module")
def upgraded(old_study, tmp_path_factory, mnist_dir):
    """A copy of the old study, upgraded with the command the workflow prints: (study, the old study's
    trained files, what the upgrade printed)."""
    study = copy_study(old_study, tmp_path_factory.mktemp("upgraded") / "study")
    before = trained_files(study)
    refused = snakemake(study, "--dry-run", mnist_dir=mnist_dir)
    assert refused.returncode == 1
    line = refused.stderr.strip().splitlines()[-1]
    command = re.fullmatch(r"study error: results/study\.yaml: this study was made by an earlier .*: (python .*)", line)
    assert command, line
    words = shlex.split(command.group(1))
    assert words[:2] == ["python", "scripts/upgrade.py"]
    done = subprocess.run(
        [sys.executable, *words[1:]], cwd=study, env=snakemake_environment(mnist_dir), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return study, before, done.stdout


def test_every_command_on_an_old_study_names_the_upgrade(old_study, mnist_dir):
    for arguments in (("--dry-run",), ("train_all", "--dry-run"), ("--report", "report.html")):
        refused = snakemake(old_study, *arguments, mnist_dir=mnist_dir)
        assert refused.returncode == 1
        assert refused.stderr.strip().splitlines()[-1] == (
            "study error: results/study.yaml: this study was made by an earlier version of digitstudy (layout 1; "
            "this one writes layout 2): bring it over without training anything again with: python "
            "scripts/upgrade.py --configfile config/quick.yaml"
        )


def test_the_upgrade_retrains_nothing_and_rebuilds_no_data(upgraded, mnist_dir):
    study, before, printed = upgraded
    assert "15 trained runs unchanged" in printed and "left to rerun" not in printed
    assert "moved benchmarks/data/prepare_mnist.tsv to benchmarks/data/mnist.tsv" in printed
    dry = snakemake(study, "--dry-run", mnist_dir=mnist_dir)
    assert dry.returncode == 0, dry.stderr[-3000:]
    rules = {job.rule for job in planned_jobs(dry)}
    assert not ({"train_run"} | DATA_RULES) & rules
    finished = snakemake(study, mnist_dir=mnist_dir)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert trained_files(study) == before  # not one byte of data or runs rewritten
    assert (study / "results" / "tables" / "twodigit" / "pairwise.csv").exists()
    assert not (study / "results" / "tables" / "twodigit" / "paired.csv").exists()
    again = snakemake(study, "--dry-run", mnist_dir=mnist_dir)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_the_new_data_rules_make_the_old_data_byte_for_byte(upgraded, mnist_dir):
    study, before, _ = upgraded
    files = [f"data/processed/{dataset}.h5" for dataset in ("mnist", "twodigit")]
    rebuilt = snakemake(
        study,
        *files,
        "--forcerun",
        "prepare_idx",
        "make_pairs",
        "--allowed-rules",
        "prepare_idx",
        "make_pairs",
        mnist_dir=mnist_dir,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    for path in files:
        assert (study / path).read_bytes() == before[study.joinpath(path).relative_to(study)], path


def test_a_run_changed_before_the_upgrade_is_left_to_retrain(old_study, tmp_path, mnist_dir):
    study = copy_study(old_study, tmp_path / "study")
    (study / "config" / "longer.yaml").write_text("experiments: {mnist: {ann: {batch_size: 32, epochs: 3}}}\n")
    done = subprocess.run(
        [sys.executable, "scripts/upgrade.py", "--configfile", "config/quick.yaml", "config/longer.yaml"],
        cwd=study,
        env=snakemake_environment(mnist_dir),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "12 trained runs unchanged" in done.stdout
    assert "mnist/ann/seed1_lr0.01_mom0.9: trained with another epochs" in done.stdout
    dry = snakemake(study, "--dry-run", mnist_dir=mnist_dir, configfile=("config/quick.yaml", "config/longer.yaml"))
    trained = [job.wildcards for job in planned_jobs(dry) if job.rule == "train_run"]
    assert len(trained) == 3 and all(wildcards["model"] == "ann" for wildcards in trained)
