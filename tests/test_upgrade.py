"""A study finished by the previous version of the workflow (layout 1), then this workflow laid over it
as `git pull` would: every command stops with one line giving the upgrade command; that command, run
as printed, brings the study over, and nothing trains or rebuilds its data again."""

import filecmp
import hashlib
import io
import json
import os
import shlex
import subprocess
import tarfile
import time

import pytest

from digitstudy.record import LAYOUT, RECORD
from digitstudy.snakemake_internals import LOCKS, lock_time
from helpers import REPO, copy_study, copy_workflow, quick_config, snakemake, snakemake_environment, workflow_error
from test_rerun import planned_jobs


pytestmark = [pytest.mark.workflow, pytest.mark.slow]
# The last main of layout 1: mnist and twodigit built by rules of their own (fetch_mnist,
# prepare_mnist, make_two_digit), the workflow in the repository root's Snakefile.
LAYOUT_1 = "373fb89"
WORKFLOW_PATHS = ("Snakefile", "workflow", "config", "slurm", "scripts")
# Where an old version's own library lay (beside its rule scripts, before 5.0.0 made it a package).
OLD_LIBRARY = "workflow/scripts"
DATA_RULES = {"fetch_idx", "prepare_idx", "make_pairs", "fetch_mnist", "prepare_mnist", "make_two_digit"}
# The quick study less three experiments (both datasets and all three data rules stay): six runs.
SMALLER = ("config/quick.yaml", "config/two.yaml")


def extract_commit(commit, workdir, paths=WORKFLOW_PATHS):
    """The workflow as it was at `commit` (its `paths`), from this repository's history; returns the files
    it holds."""
    found = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True)
    if found.returncode != 0:
        pytest.skip(f"commit {commit} is not in this clone's history (a shallow clone?)")
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit, *paths], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(workdir, filter="data")
        return [member.name for member in tar.getmembers() if member.isfile()]


def lay_over(new, study, tracked):
    """This workflow's files over the old ones, as `git pull` leaves them: a file that changed gets a
    new modification time, an unchanged one keeps its old time (Snakemake compares script times), and
    a file of the old commit (`tracked`) that this workflow no longer has goes."""
    now = time.time()
    for name in tracked:
        if not (new / name).exists():
            (study / name).unlink()
    for path in (p for p in new.rglob("*") if p.is_file()):
        target = study / path.relative_to(new)
        unchanged = target.exists() and filecmp.cmp(path, target, shallow=False)
        if not unchanged:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
            os.utime(target, (now, now))


def run_printed_command(line, study, mnist_dir):
    """The command after ' with: ' in `line`, run in `study` as a user's shell with the venv active would."""
    words = shlex.split(line.split(" with: ", 1)[1])
    environment = snakemake_environment(mnist_dir)
    return subprocess.run(words, cwd=study, env=environment, capture_output=True, text=True)


class Content(bytes):
    """A file's bytes that a failing comparison shows by size and checksum, not as megabytes of bytes."""

    def __repr__(self):
        return f"<{len(self)} bytes, sha256 {hashlib.sha256(self).hexdigest()[:16]}>"


def trained_files(study):
    """{path: Content} of every run's outputs and every data file."""
    paths = [*(study / "results" / "runs").rglob("*.*"), *(study / "data").rglob("*")]
    return {path.relative_to(study): Content(path.read_bytes()) for path in paths if path.is_file()}


@pytest.fixture(scope="module")
def old_study(tmp_path_factory, mnist_dir):
    """The quick study (less three experiments) finished by the workflow of LAYOUT_1, then this
    workflow over it."""
    study = tmp_path_factory.mktemp("old") / "study"
    tracked = extract_commit(LAYOUT_1, study)
    (study / SMALLER[1]).write_text(
        "experiments: {mnist: {cnn: null, cnn_dropout: null}, twodigit: {cnn_dropout: null}}\n"
    )
    finished = snakemake(study, mnist_dir=mnist_dir, configfile=SMALLER, library=study / OLD_LIBRARY)
    assert finished.returncode == 0, finished.stderr[-3000:]
    lay_over(copy_workflow(tmp_path_factory.mktemp("new") / "workflow"), study, tracked)
    return study


@pytest.fixture(scope="module")
def upgraded(old_study, tmp_path_factory, mnist_dir):
    """A copy of the old study, upgraded with the command that every snakemake command prints there:
    (study, the old study's trained files, what the upgrade printed)."""
    study = copy_study(old_study, tmp_path_factory.mktemp("upgraded") / "study")
    before, record = trained_files(study), (study / RECORD).read_bytes()
    refused = snakemake(study, "--dry-run", mnist_dir=mnist_dir, configfile=SMALLER)
    assert refused.returncode == 1
    [line] = workflow_error(refused)
    assert line == (
        "study error: results/study.yaml: this study was made by an earlier version of digitstudy (layout 1; "
        f"this one writes layout {LAYOUT}): bring it over without training anything again with: "
        "digitstudy-upgrade --configfile config/quick.yaml config/two.yaml"
    )
    leave_killed_snakemakes_lock(study)
    unlock = snakemake(study, "--unlock", mnist_dir=mnist_dir, configfile=SMALLER)
    assert unlock.returncode == 1 and workflow_error(unlock) == [line]  # the layout stops it like any command
    locked = run_printed_command(line, study, mnist_dir)
    assert locked.returncode == 1 and locked.stderr.splitlines() == [
        "upgrade error: a snakemake holds this folder's lock (.snakemake/locks): wait until it ends; if none is "
        "running (one was killed), remove its lock and upgrade with: "
        "digitstudy-upgrade --configfile config/quick.yaml config/two.yaml --unlock"
    ], locked.stderr[-3000:]
    assert trained_files(study) == before and (study / RECORD).read_bytes() == record  # nothing touched
    done = run_printed_command(locked.stderr, study, mnist_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    assert lock_time(study) is None
    return study, before, done.stdout


def leave_killed_snakemakes_lock(study):
    """The lock files a snakemake killed in `study` leaves (where lock_time finds a running one's): the
    snakemake that a user then runs to unlock stops on the layout, as every command does."""
    (study / LOCKS).mkdir(parents=True, exist_ok=True)
    for name in ("0.input.lock", "0.output.lock"):
        (study / LOCKS / name).write_text("results/runs/mnist/cnn/seed1_lr0.1_mom0.9/metrics.json\n")


def test_the_upgrade_retrains_nothing_and_rebuilds_no_data(upgraded, mnist_dir):
    study, before, printed = upgraded
    assert "6 trained runs unchanged" in printed and "left to rerun" not in printed
    assert "moved benchmarks/data/prepare_mnist.tsv to benchmarks/data/mnist.tsv" in printed
    assert "6 run records completed with their run name and split seed" in printed
    trained = snakemake(study, "train_all", mnist_dir=mnist_dir, configfile=SMALLER)
    assert trained.returncode == 0, trained.stderr[-3000:]
    # The confirmation stage, new in layout 3: choices, replicates, their data, the rounds' decisions.
    ran = planned_jobs(trained)
    # train_all itself, a target without outputs, is not listed once the rounds' checkpoints re-plan it.
    assert {job.rule for job in ran} - {"train_all"} == {
        "choose",
        "plan_replicates",
        "train_run",
        "prepare_idx",
        "make_pairs",
        "predict_round",
        "decide_round",
    }
    fresh = {f"_split{index}" for index in range(1, 1 + quick_config()["confirm"]["first"])}
    assert {job.wildcards["split"] for job in ran if job.rule in {"train_run", *DATA_RULES}} == fresh
    after = trained_files(study)
    records = [path for path in before if path.name == "metrics.json"]
    assert {path: after[path] for path in before if path not in records} == {  # not one byte rewritten
        path: content for path, content in before.items() if path not in records
    }
    for path in records:  # the records gained their run name and split seed, and nothing else changed
        old, new = json.loads(before[path]), json.loads(after[path])
        assert new == {**old, "run": path.parent.name, "split_seed": 0}
    dry = snakemake(study, "--dry-run", mnist_dir=mnist_dir, configfile=SMALLER)
    assert dry.returncode == 0, dry.stderr[-3000:]
    rules = {job.rule for job in planned_jobs(dry)}
    assert not ({"train_run"} | DATA_RULES) & rules
    assert {"compare_models", "write_summary"} <= rules  # what changed after training reruns (choose ran above)


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
        configfile=SMALLER,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    for path in files:
        assert (study / path).read_bytes() == before[study.joinpath(path).relative_to(study)], path


def test_a_run_changed_before_the_upgrade_is_left_to_retrain(old_study, tmp_path, mnist_dir):
    study = copy_study(old_study, tmp_path / "study")
    (study / "config" / "longer.yaml").write_text("experiments: {mnist: {ann: {batch_size: 32, epochs: 3}}}\n")
    done = subprocess.run(
        ["digitstudy-upgrade", "--configfile", *SMALLER, "config/longer.yaml"],
        cwd=study,
        env=snakemake_environment(mnist_dir),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "3 trained runs unchanged" in done.stdout
    assert "mnist/ann/seed1_lr0.01_mom0.9: trained with another epochs" in done.stdout
    dry = snakemake(study, "--dry-run", mnist_dir=mnist_dir, configfile=(*SMALLER, "config/longer.yaml"))
    trained = [job.wildcards for job in planned_jobs(dry) if job.rule == "train_run"]
    assert len(trained) == 3 and all(wildcards["model"] == "ann" for wildcards in trained)
