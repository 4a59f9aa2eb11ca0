"""The progress command (digitstudy-progress) on a finished quick study and on one caught in the middle
of a training job, and its time estimate."""

import ast
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import digitstudy.commands.progress
from digitstudy.models import model_spec
from digitstudy.paths import CHECKPOINT_NAME
from digitstudy.progress import (
    AtOnce,
    Run,
    planned_runs,
    read_run,
    read_study,
    report,
    run_dir,
    run_log,
    run_state,
    runs_at_once,
    study_at_once,
    time_left,
)
from digitstudy.snakemake_internals import LOCKS
from helpers import (
    REPO,
    copy_study,
    copy_workflow,
    quick_config,
    snakemake,
    snakemake_command,
    snakemake_environment,
)


# The command as pip installs it, beside this Python.
PROGRESS = str(Path(sys.executable).parent / "digitstudy-progress")
# Where the example of the command's output may lie (README.md or the docs folder).
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def progress(folder):
    """The command's output lines, after the time and folder line."""
    done = subprocess.run([PROGRESS, str(folder)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[1:]


def test_its_help_shows_the_whole_description():
    """The command pip installs beside this Python (pyproject.toml: project.scripts)."""
    done = subprocess.run([PROGRESS, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    description = ast.get_docstring(ast.parse(Path(digitstudy.commands.progress.__file__).read_text()), clean=False)
    assert description.strip() in done.stdout  # as written, its lines and indented examples kept


def test_the_estimate_shares_the_work_among_the_runs_at_once():
    """Two runs of an experiment timed at 2 s per epoch, one of another model not timed yet (its cost
    figure scaled by the timed one's), with two runs at once."""
    cnn, lenet5 = (model_spec(name).epoch_seconds_per_1000 for name in ("cnn", "lenet5"))
    timed = Run("mnist/cnn/a", ("mnist", "cnn"), (1, 0.1, 0.9), 10, cnn, state="running", epoch_seconds=[2.0] * 4)
    waiting = Run("mnist/cnn/b", ("mnist", "cnn"), (2, 0.1, 0.9), 10, cnn)
    untimed = Run("twodigit/lenet5/a", ("twodigit", "lenet5"), (1, 0.1, 0.9), 10, 2 * lenet5, state="running")
    assert time_left([timed, waiting], slots=2) == 20.0  # never less than the longest run still to go
    ratio = 2 * lenet5 / cnn  # twice the pixels
    expected = (12 + 20 + 2 * ratio * 10) / 2
    assert time_left([timed, waiting, untimed], slots=2) == pytest.approx(max(expected, 2 * ratio * 10))
    assert time_left([waiting, untimed], slots=1) is None


def test_a_runs_cost_figure_grows_with_its_image_size(tmp_path):
    runs = {run.experiment: run for run in planned_runs(quick_config(), tmp_path)}
    assert runs[("twodigit", "cnn_dropout")].cost == 2 * runs[("mnist", "cnn_dropout")].cost > 0


def test_replicates_are_counted_before_their_choice_names_them(tmp_path):
    config = quick_config()
    names = [run.name for run in planned_runs(config, tmp_path) if run.experiment == ("mnist", "ann")]
    assert names == [
        "mnist/ann/seed1_lr0.01_mom0.9",
        "mnist/ann/seed66_lr0.01_mom0.9",
        "mnist/ann/seed1_lr0.1_mom0.9",
        "mnist/ann/replicate 1 (after the choice)",
        "mnist/ann/replicate 2 (after the choice)",
    ]
    plan = tmp_path / "results" / "tables" / "mnist" / "ann" / "replicates.json"
    plan.parent.mkdir(parents=True)
    plan.write_text(json.dumps({"runs": [[2, 0.1, 0.9, 1], [3, 0.1, 0.9, 2], [4, 0.1, 0.9, 3]]}))
    names = [run.name for run in planned_runs(config, tmp_path) if run.experiment == ("mnist", "ann")]
    assert names[-2:] == ["mnist/ann/seed2_lr0.1_mom0.9_split1", "mnist/ann/seed3_lr0.1_mom0.9_split2"]


def test_a_model_counts_the_replicates_of_each_round_that_names_it(tmp_path):
    """Round 1 gives every model confirm.first replicates; a later round only the models its previous
    round's decisions name (quick: 2, then 3)."""
    config = quick_config()
    plan = tmp_path / "results" / "tables" / "mnist" / "ann" / "replicates.json"
    plan.parent.mkdir(parents=True)
    plan.write_text(json.dumps({"runs": [[2, 0.1, 0.9, 1], [3, 0.1, 0.9, 2], [4, 0.1, 0.9, 3]]}))
    rounds = tmp_path / "results" / "tables" / "mnist" / "rounds"
    rounds.mkdir(parents=True)
    replicates = lambda: [run.name for run in planned_runs(config, tmp_path) if "split" in run.name]  # noqa: E731
    (rounds / "round1.json").write_text(json.dumps({"next": ["cnn"]}))
    assert replicates() == ["mnist/ann/seed2_lr0.1_mom0.9_split1", "mnist/ann/seed3_lr0.1_mom0.9_split2"]
    (rounds / "round1.json").write_text(json.dumps({"next": ["ann", "cnn"]}))
    assert replicates()[-1] == "mnist/ann/seed4_lr0.1_mom0.9_split3" and len(replicates()) == 3


@pytest.mark.workflow
def test_a_replace_style_study_counts_its_own_runs(tmp_path, mnist_dir):
    """A config file that is the whole study (--replace-workflow-config): one experiment, two runs. The
    command reads the config its first real run resolved (results/study.yaml), nothing else."""
    workdir = copy_workflow(tmp_path)
    (workdir / "config" / "one.yaml").write_text(
        "study: one\n"
        "data: {n_train: 300, n_valid: 100, n_test: 100}\n"
        "experiments: {mnist: {ann: {batch_size: 32}}}\n"
        "seed_study: {seeds: [1], lr: 0.01, momentum: 0.9}\n"
        "grid: {seed: 1, lr: [0.01, 0.1], momentum: [0.9]}\n"
        "confirm: {first: 2, max: 2}\n"
    )
    data = snakemake(
        workdir, "data/processed/mnist.h5", mnist_dir=mnist_dir, configfile="config/one.yaml", replace=True
    )
    assert data.returncode == 0, data.stderr[-2000:]
    assert progress(workdir) == [
        "runs: 4, done 0, running 0, waiting 4",  # and the 2 replicates its choice will name
        "training time left: not known until a first epoch is timed",
    ]


@pytest.mark.workflow
def test_a_finished_study(quick_study):
    runs = read_study(quick_study)
    assert progress(quick_study) == [f"runs: {len(runs)}, done {len(runs)}, running 0, waiting 0", "training: finished"]


def caught_running(process, study, timeout=120):
    """Stop snakemake and its job (SIGSTOP to its process group) once a run is running with an epoch
    finished; returns that run. The job may finish an epoch between the look and the stop: look again."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "snakemake ended before a run could be caught running"
        if any(run.state == "running" and run.epochs_done for run in read_study(study)):
            os.killpg(process.pid, signal.SIGSTOP)
            running = [run for run in read_study(study) if run.state == "running" and run.epochs_done]
            if running:
                return running[0]
            os.killpg(process.pid, signal.SIGCONT)
        time.sleep(0.05)
    pytest.fail("no run was seen running in time")


@pytest.fixture(scope="module")
def in_progress(quick_study, tmp_path_factory, mnist_dir):
    """The last experiment's runs trained again, one at a time, and the command read in the middle of
    one: (every run, the runs done then, the run caught running, the command's lines)."""
    study = copy_study(quick_study, tmp_path_factory.mktemp("progress") / "study")
    runs = read_study(study)
    again = [run for run in runs if run.experiment == runs[-1].experiment]
    for run in again:
        (study / "results" / "runs" / run.name / "metrics.json").unlink()
    targets = [f"results/runs/{run.name}/metrics.json" for run in again]
    process = subprocess.Popen(
        snakemake_command(*targets, cores=1),
        cwd=study,
        env=snakemake_environment(mnist_dir),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        running = caught_running(process, study)
        done = sum(run.state == "done" for run in read_study(study))
        lines = progress(study)
    finally:  # the rest of the training is not needed: a finished study is the test above
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    return runs, done, running, lines


@pytest.mark.workflow
def test_a_study_in_progress(in_progress):
    runs, done, running, lines = in_progress
    assert lines[0] == f"runs: {len(runs)}, done {done}, running 1, waiting {len(runs) - done - 1}"
    assert lines[1].startswith(f"  {running.name}  {running.epochs_done}/{running.epochs} epochs, ")
    assert lines[2].startswith("training time left: about ") and lines[2].endswith(" timed epochs)")


def shape(line):
    """A line of the command's output with what varies from study to study (numbers, durations, run
    names, the time and folder) replaced by placeholders."""
    line = re.sub(r"^\d\d:\d\d:\d\d  .*$", "TIME  FOLDER", line)
    line = re.sub(r"[\d.]+ s per epoch", "N s per epoch", line)
    line = re.sub(r"\b\d+ h \d+ min\b|\b\d+ min \d+ s\b|\b\d+ s\b", "DURATION", line)
    line = re.sub(r"\S+/\S+/seed\S+", "RUN", line)
    line = re.sub(r"\b1 run at once\b", "N runs at once", line)
    return re.sub(r"\d+(\.\d+)?", "N", re.sub(r" {2,}(?=\d)", " ", line))


@pytest.mark.workflow
def test_the_docs_example_has_the_shape_of_the_commands_real_output(in_progress):
    *_, lines = in_progress
    text = next(path.read_text() for path in DOCS if "<!-- progress-example -->" in path.read_text())
    example = text.split("<!-- progress-example -->\n```\n", 1)[1].split("```", 1)[0].splitlines()
    assert shape(example[0]) == "TIME  FOLDER"
    header, *running, estimate = example[1:]
    real_header, real_running, real_estimate = lines
    assert shape(header) == shape(real_header)
    assert running and all(shape(line) == shape(real_running) for line in running)
    assert shape(estimate) == shape(real_estimate)


ONE_AT_ONCE = AtOnce(1, "assumed: one, as no snakemake runs now")


def stopped_run(folder, seed, checkpoint_epochs):
    """A run whose job Ctrl-C stopped in `folder`, its log's last line as the job writes it, and a
    checkpoint of `checkpoint_epochs` epochs (2 s each) where it had finished one."""
    run = Run(f"mnist/cnn/seed{seed}_lr0.1_mom0.9", ("mnist", "cnn"), (seed, 0.1, 0.9), 4, 1.0)
    log = run_log(folder, run)
    log.parent.mkdir(parents=True, exist_ok=True)
    if checkpoint_epochs:
        resumes = f"the next run resumes from the checkpoint of epoch {checkpoint_epochs}"
        run_dir(folder, run).mkdir(parents=True)
        history = [{"epoch": epoch, "seconds": 2.0} for epoch in range(1, checkpoint_epochs + 1)]
        torch.save({"history": history}, run_dir(folder, run) / CHECKPOINT_NAME)
    else:
        resumes = "no checkpoint yet, the next run starts afresh"
    log.write_text(f"interrupted by SIGINT in epoch {checkpoint_epochs + 1} of 4: {resumes}\n")
    return run


def test_a_run_whose_job_was_stopped_is_interrupted_until_a_later_snakemake_takes_it_up(tmp_path):
    run = stopped_run(tmp_path, 1, checkpoint_epochs=1)
    log = run_log(tmp_path, run)
    assert run_state(tmp_path, run, started=None) == "interrupted"  # no Snakemake now
    assert run_state(tmp_path, run, started=log.stat().st_mtime + 1) == "waiting"  # a later one will take it up
    run = read_run(tmp_path, run, started=None)
    waiting = Run("mnist/cnn/seed2_lr0.1_mom0.9", ("mnist", "cnn"), (2, 0.1, 0.9), 4, 1.0)
    lines = report([run, waiting], ONE_AT_ONCE)
    assert lines[0] == (
        "runs: 2, done 0, running 0, waiting 1, interrupted 1 (the next snakemake resumes it from its checkpoint)"
    )
    assert lines[1].startswith(f"  {run.name}  1/4 epochs, 2.0 s per epoch, last change ")
    assert lines[1].endswith(", interrupted: resumes after epoch 1")
    assert lines[2].startswith("training time left: about 14 s at 1 run at once")  # its 3 epochs and the other's 4


def test_interrupted_runs_are_told_apart_by_their_checkpoints(tmp_path):
    """A run stopped in its first epoch has no checkpoint: the next snakemake starts it afresh."""
    resumed, afresh = (
        read_run(tmp_path, stopped_run(tmp_path, seed, epochs), None) for seed, epochs in [(1, 2), (2, 0)]
    )
    lines = report([resumed, afresh], ONE_AT_ONCE)
    assert lines[0].endswith(
        "interrupted 2 (the next snakemake resumes 1 from its checkpoint and starts 1 afresh, with no checkpoint yet)"
    )
    assert lines[1].endswith(", interrupted: resumes after epoch 2") and lines[1].startswith(f"  {resumed.name}  2/4")
    assert lines[2].endswith(", interrupted: no checkpoint yet, starts afresh") and "  0/4 epochs" in lines[2]
    assert report([afresh], ONE_AT_ONCE)[0].endswith(
        "interrupted 1 (no checkpoint yet: the next snakemake starts it afresh)"
    )
    assert time_left([resumed, afresh], slots=1) == 2.0 * (2 + 4)  # the fresh start trains all 4 epochs


def test_the_runs_at_once_are_assumed_and_said_to_be(tmp_path):
    """No file of the folder holds Snakemake's --cores: while a Snakemake works here (its lock), as many
    as train now; one otherwise, as after a Ctrl-C. Either is said to be assumed, not passed off as known."""
    assert runs_at_once(running=2, snakemake_now=True) == AtOnce(2, "assumed: as many as train now")
    assert runs_at_once(running=0, snakemake_now=True) == AtOnce(1, "assumed: one, as none trains now")
    assert runs_at_once(running=0, snakemake_now=False) == AtOnce(1, "assumed: one, as no snakemake runs now")
    training = [
        Run(f"mnist/cnn/{seed}", ("mnist", "cnn"), (seed, 0.1, 0.9), 4, 1.0, state="running") for seed in (1, 2)
    ]
    assert study_at_once(tmp_path, training) == AtOnce(1, "assumed: one, as no snakemake runs now")
    lock = tmp_path / LOCKS / "0.input.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("")
    assert study_at_once(tmp_path, training) == AtOnce(2, "assumed: as many as train now")


def test_the_estimate_says_the_runs_at_once_and_what_they_rest_on():
    timed = Run("mnist/cnn/a", ("mnist", "cnn"), (1, 0.1, 0.9), 10, 1.0, state="running", epoch_seconds=[2.0] * 4)
    waiting = [Run(f"mnist/cnn/{seed}", ("mnist", "cnn"), (seed, 0.1, 0.9), 10, 1.0) for seed in (2, 3)]
    lines = report([timed, *waiting], AtOnce(2, "assumed: as many as train now"))
    assert lines[-1] == (
        "training time left: about 26 s at 2 runs at once (assumed: as many as train now; from 4 timed epochs)"
    )
    # No more at once than there are runs to go
    assert (
        report([timed], AtOnce(2, "two"))[-1]
        == "training time left: about 12 s at 1 run at once (two; from 4 timed epochs)"
    )
