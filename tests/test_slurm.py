"""`snakemake --profile slurm` on config/quick.yaml against a live Slurm, as docs/cluster.md
says. tests/slurm/start-local-slurm.sh starts a single-node Slurm on this machine (.ci/run does);
without one the tests skip, except in CI (CI=true), where they fail."""

import contextlib
import json
import math
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers import (
    QUICK_CONFIG,
    REPO,
    copy_workflow,
    quick_config,
    snakemake,
    snakemake_command,
    snakemake_environment,
    write_config,
)


pytestmark = [pytest.mark.workflow, pytest.mark.slow]
SLURM_TOOLS = ("sbatch", "sinfo", "squeue", "scontrol", "scancel")
SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+) \(log: .*/(rule|group)_([^/]+)/")
PROFILE = yaml.safe_load((REPO / "slurm" / "config.yaml").read_text())
# The quick study less its two cnn_dropout experiments (both datasets, both data rules and the
# models the tests retrain stay): three training groups through Slurm instead of five.
SLURM_CONFIG = (QUICK_CONFIG, "config/slurm-test.yaml")
DROPPED = "experiments: {mnist: {cnn_dropout: null}, twodigit: {cnn_dropout: null}}\n"
EXPERIMENTS = [
    (dataset, model)
    for dataset, models in quick_config()["experiments"].items()
    for model in models
    if model != "cnn_dropout"
]
# Each experiment's seed study and grid (3 runs), then, once its choice is made, its replicates in rounds.
CONFIRM = quick_config()["confirm"]
LOOKS = [*range(CONFIRM["first"], CONFIRM["max"], CONFIRM["step"]), CONFIRM["max"]]


def replicate_runs(workdir, dataset, model):
    """The run names of an experiment's replicates over its rounds (its task's decisions.json)."""
    decisions = json.loads((workdir / "results" / "tables" / dataset / "decisions.json").read_text())
    return decisions["runs"][model]


def slurm_problem():
    """Why no Slurm can run jobs here, or None."""
    missing = [tool for tool in SLURM_TOOLS if shutil.which(tool) is None]
    if missing:
        return f"Slurm client commands missing: {', '.join(missing)} (run tests/slurm/start-local-slurm.sh)"
    states = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    if states.returncode != 0:
        return f"sinfo failed, is slurmctld running? {states.stderr.strip()}"
    if not {"idle", "mixed", "allocated"} & set(states.stdout.split()):
        return f"no Slurm node is up (sinfo states: {states.stdout.split()})"
    return None


@pytest.fixture(scope="session")
def slurm_cpus():
    """CPUs of the smallest Slurm node, after checking that Slurm runs (skip, or fail in CI)."""
    problem = slurm_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem}; CI must run the Slurm tests")
        pytest.skip(problem)
    cpus = subprocess.run(["sinfo", "-h", "-o", "%c"], capture_output=True, text=True, check=True)
    return min(int(value.rstrip("+")) for value in cpus.stdout.split())


# The profile as shipped, without --cores: the workflow sizes its jobs to the node. Only the first
# status check comes sooner than the plugin's 40 s, which suits a busy cluster, not a test.
SLURM_ARGUMENTS = ("--profile", "slurm", "--slurm-init-seconds-before-status-checks", "5")


def submitted_jobs(output):
    """{Slurm job id: rule or group name} from the plugin's log lines."""
    return {int(job_id): name for job_id, _, name in SUBMITTED.findall(output)}


def slurm_job(job_id):
    """`scontrol show job` as a dict (Slurm keeps finished jobs for MinJobAge, an hour here)."""
    shown = subprocess.run(["scontrol", "show", "job", "-o", str(job_id)], capture_output=True, text=True, check=True)
    return dict(re.findall(r"(\S+?)=(\S*)", shown.stdout))


def run_dirs(workdir):
    return sorted((workdir / "results" / "runs").glob("*/*/*"))


@pytest.fixture(scope="module")
def slurm_study(tmp_path_factory, mnist_dir, slurm_cpus):
    """A copy of the workflow in which the quick study has run through Slurm; and the output."""
    workdir = copy_workflow(tmp_path_factory.mktemp("slurm_study"))
    (workdir / SLURM_CONFIG[1]).write_text(DROPPED)
    started = time.perf_counter()
    finished = snakemake(workdir, *SLURM_ARGUMENTS, mnist_dir=mnist_dir, configfile=SLURM_CONFIG, cores=None)
    seconds = time.perf_counter() - started
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output[-4000:]
    if slurm_cpus < PROFILE["cores"]:  # the profile's groups would ask for more CPUs than the node has
        assert f"Slurm: a group job asks for at most {slurm_cpus} CPUs" in output
    jobs = submitted_jobs(output)
    print(f"\nquick study through Slurm: {seconds:.0f} s, {len(jobs)} Slurm jobs")
    return workdir, jobs


def test_every_training_run_went_through_slurm(slurm_study, slurm_cpus):
    workdir, jobs = slurm_study
    runs = run_dirs(workdir)
    assert len(runs) == sum(3 + len(replicate_runs(workdir, dataset, model)) for dataset, model in EXPERIMENTS)
    for run in runs:
        metrics = json.loads((run / "metrics.json").read_text())
        job_id = metrics["host"]["slurm_job_id"]
        assert job_id is not None, f"{run} was not trained in a Slurm job"
        assert int(job_id) in jobs and "train_run" in jobs[int(job_id)], run
        job = slurm_job(job_id)
        assert job["JobState"] == "COMPLETED" and "train_run" in job["Comment"]
    for job_id in jobs:
        job = slurm_job(job_id)
        assert job["JobState"] == "COMPLETED", job
        assert "gpu" not in job["TRES"], "a CPU study must not ask for a GPU"
        assert int(job["NumCPUs"]) <= slurm_cpus


def test_grouping_runs_several_training_runs_per_slurm_job(slurm_study):
    workdir, jobs = slurm_study
    per_job = PROFILE["group-components"]["train_{dataset}_{model}"]
    training_jobs = [name for name in jobs.values() if "train_run" in name]
    # The replicates of a choice wait for it, and each round's for the decisions before it: group jobs
    # of their own.
    sizes = [LOOKS[0], *(later - earlier for earlier, later in zip(LOOKS, LOOKS[1:]))]
    rounds = {(dataset, model): len(replicate_runs(workdir, dataset, model)) for dataset, model in EXPERIMENTS}
    expected = sum(
        math.ceil(3 / per_job) + sum(math.ceil(size / per_job) for size in sizes[: LOOKS.index(count) + 1])
        for count in rounds.values()
    )
    assert len(training_jobs) == expected
    assert sum("aggregate" in name for name in jobs.values()) == 1
    local = ("fetch_idx", "choose", "plan_replicates", "decide_round")
    assert not any(rule in name for name in jobs.values() for rule in local), "local rules"


def test_slurm_results_equal_local_results(slurm_study, quick_study):
    """Every run, and every experiment's tables and choice, as the quick study run locally with
    --cores 2 has them (its other experiments aside)."""
    slurm_dir, _ = slurm_study
    study = quick_study
    slurm_runs = [run.relative_to(slurm_dir) for run in run_dirs(slurm_dir)]
    local_runs = [run.relative_to(study) for run in run_dirs(study) if run.parent.name != "cnn_dropout"]
    # Without cnn_dropout a task has fewer pairs, so its rounds may end sooner (never later: alpha is
    # split over fewer pairs, and a narrower interval decides whatever a wider one decides).
    assert set(slurm_runs) <= set(local_runs)
    assert {run for run in local_runs if "_split" not in run.name} <= set(slurm_runs)
    for run in slurm_runs:
        history = pd.read_csv(slurm_dir / run / "history.csv").drop(columns="seconds")
        pd.testing.assert_frame_equal(history, pd.read_csv(study / run / "history.csv").drop(columns="seconds"))
        ours, theirs = (json.loads((folder / run / "metrics.json").read_text()) for folder in (slurm_dir, study))
        for key in ("status", "epochs_completed", "final", "best_valid", "test", "data"):
            assert ours[key] == theirs[key], (run, key)
    runs = pd.read_csv(study / "results" / "runs.csv").drop(columns="wall_seconds")
    through_slurm = {run.parts[-3:] for run in slurm_runs}  # (dataset, model, run)
    runs = runs[[key in through_slurm for key in zip(runs["dataset"], runs["model"], runs["run"])]]
    runs = runs.reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.read_csv(slurm_dir / "results" / "runs.csv").drop(columns="wall_seconds"), runs)
    for dataset, model in EXPERIMENTS:
        tables = Path("results", "tables", dataset, model)
        for name in ("seeds.csv", "grid.csv", "choice.json"):
            assert (slurm_dir / tables / name).read_text() == (study / tables / name).read_text(), tables / name


def test_cuda_training_asks_slurm_for_one_gpu_per_group_job(slurm_study, mnist_dir, tmp_path):
    """A group of three cuda runs asks for one GPU, which no node of this Slurm has: refused before
    sbatch (on a GPU cluster the same group job goes out with --gpus=1)."""
    workdir = tmp_path / "cuda"
    shutil.copytree(slurm_study[0], workdir, symlinks=True)
    write_config(workdir, lambda config: config["training"].update(device="cuda"), name="config/cuda.yaml")
    returncode, output = finish(retrain(workdir, ann_runs(workdir), mnist_dir=mnist_dir, configfile="config/cuda.yaml"))
    assert returncode != 0
    assert not submitted_jobs(output), output[-3000:]
    assert re.search(
        r"^Slurm: group job train_mnist_ann \(\d+ jobs\) cannot start in partition \w+: it asks for "
        r"1 GPU\(s\), the nodes have 0\.",
        output,
        re.MULTILINE,
    ), output[-3000:]


def test_a_cancelled_slurm_job_fails_and_a_rerun_completes_it(slurm_study, slurm_cpus, mnist_dir, tmp_path):
    workdir = tmp_path / "cancel"
    shutil.copytree(slurm_study[0], workdir, symlinks=True)
    # Longer training of one run, so that there is time to cancel it in the middle.
    (workdir / "config" / "long.yaml").write_text("experiments:\n  mnist:\n    cnn: {batch_size: 32, epochs: 20}\n")
    run = "results/runs/mnist/cnn/seed66_lr0.01_mom0.9"
    command = snakemake_command(
        f"{run}/metrics.json", *SLURM_ARGUMENTS, configfile=(*SLURM_CONFIG, "config/long.yaml"), cores=None
    )
    environment = snakemake_environment(mnist_dir)
    log = workdir / "logs" / "train" / "mnist" / "cnn" / "seed66_lr0.01_mom0.9.log"
    log.unlink()
    with open(tmp_path / "first.out", "w") as out:
        first = subprocess.Popen(command, cwd=workdir, env=environment, stdout=out, stderr=subprocess.STDOUT, text=True)
        job_id = wait_for_training(first, log, out_path=tmp_path / "first.out")
        subprocess.run(["scancel", str(job_id)], check=True)
        returncode = first.wait(timeout=120)
    output = (tmp_path / "first.out").read_text()
    assert returncode != 0, output[-3000:]
    # The group's error names the cancelled Slurm job's log; Slurm says it was cancelled.
    assert re.search(rf"Error in group train_mnist_cnn\n.*\n?.*/{job_id}\.log", output), output[-3000:]
    assert slurm_job(job_id)["JobState"] == "CANCELLED"
    assert not (workdir / run / "metrics.json").exists()
    # Slurm's SIGTERM is an event in the job's log, in one line: where the next run goes on.
    stopped = re.fullmatch(
        r"interrupted by SIGTERM in epoch \d+ of 20: the next run resumes from the checkpoint of epoch (\d+)",
        log.read_text().splitlines()[-1],
    )
    assert stopped and "Traceback" not in log.read_text(), log.read_text()[-2000:]

    rerun = subprocess.run(command, cwd=workdir, env=environment, capture_output=True, text=True)
    assert rerun.returncode == 0, (rerun.stdout + rerun.stderr)[-3000:]
    assert log.read_text().splitlines()[0] == f"resumed from checkpoint at epoch {stopped[1]}"
    metrics = json.loads((workdir / run / "metrics.json").read_text())
    assert metrics["epochs_completed"] == 20 and metrics["status"] == "ok"
    assert int(metrics["host"]["slurm_job_id"]) != job_id


def wait_for_training(process, log, out_path, timeout=120):
    """The Slurm job id of the training job once its log shows a finished epoch."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, out_path.read_text()[-3000:]
        jobs = submitted_jobs(out_path.read_text())
        if jobs and log.exists() and "epoch   2" in log.read_text():
            (job_id,) = jobs
            assert slurm_job(job_id)["JobState"] == "RUNNING"
            return job_id
        time.sleep(0.5)
    process.kill()
    pytest.fail(f"training did not start within {timeout} s:\n{out_path.read_text()[-3000:]}")


# --- jobs that cannot start: stopped before sbatch, or cancelled with Slurm's reason ------------------


@contextlib.contextmanager
def slurm_partition(name, **settings):
    """A partition of this Slurm's nodes, made for one test (root, as .ci/run is) and deleted after."""
    nodes = ",".join(
        subprocess.run(["sinfo", "-h", "-N", "-o", "%N"], capture_output=True, text=True, check=True).stdout.split()
    )
    subprocess.run(
        [
            "scontrol",
            "create",
            f"PartitionName={name}",
            f"Nodes={nodes}",
            *(f"{key}={value}" for key, value in settings.items()),
        ],
        check=True,
    )
    try:
        yield name
    finally:
        subprocess.run(["scontrol", "delete", f"PartitionName={name}"], check=True)


def ann_runs(workdir):
    return [
        f"{run.relative_to(workdir)}/metrics.json"
        for run in run_dirs(workdir)
        if run.parent.name == "ann" and run.parent.parent.name == "mnist"
    ]


def retrain(workdir, targets, *options, mnist_dir, configfile=SLURM_CONFIG):
    """snakemake --profile slurm, started, on training runs that exist already (forced)."""
    arguments = [*targets, *SLURM_ARGUMENTS, "--forcerun", "train_run", "--allowed-rules", "train_run", *options]
    return subprocess.Popen(
        snakemake_command(*arguments, configfile=configfile, cores=None),
        cwd=workdir,
        env=snakemake_environment(mnist_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process, timeout=120):
    """The return code and output of `process`, within `timeout` s: far below the plugin's patience, so
    that a hang fails the test instead of stalling it."""
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"snakemake --profile slurm still waiting after {timeout} s:\n{process.communicate()[0][-3000:]}")
    return process.returncode, output


def test_a_job_larger_than_any_node_is_stopped_before_sbatch(slurm_study, mnist_dir, tmp_path):
    workdir = tmp_path / "large"
    shutil.copytree(slurm_study[0], workdir, symlinks=True)
    memory = max(
        int(value.rstrip("+"))
        for value in subprocess.run(["sinfo", "-h", "-N", "-o", "%m"], capture_output=True, text=True).stdout.split()
    )
    run = ann_runs(workdir)[0]
    returncode, output = finish(
        retrain(workdir, [run], "--set-resources", f"train_run:mem_mb={memory + 1000}", mnist_dir=mnist_dir)
    )
    assert returncode != 0
    assert not submitted_jobs(output), output[-3000:]
    (line,) = [line for line in output.splitlines() if line.startswith("Slurm: train_run")]
    assert re.search(
        rf"cannot start in partition \w+: it asks for {memory + 1000} MB of memory, the largest "
        rf"node has {memory} MB\. Change it with --set-resources train_run:mem_mb=N",
        line,
    ), line


def test_a_group_longer_than_the_partition_allows_is_stopped_before_sbatch(slurm_study, mnist_dir, tmp_path):
    """Each run fits the partition's MaxTime, three of them one after another in one group do not."""
    workdir = tmp_path / "short"
    shutil.copytree(slurm_study[0], workdir, symlinks=True)
    with slurm_partition("short", MaxTime=10, State="UP"):
        returncode, output = finish(
            retrain(
                workdir, ann_runs(workdir), "--set-resources", "train_run:slurm_partition=short", mnist_dir=mnist_dir
            )
        )
    assert returncode != 0
    assert not submitted_jobs(output), output[-3000:]
    (line,) = [line for line in output.splitlines() if line.startswith("Slurm: group job train_mnist_ann")]
    asked = re.search(
        r"\(\d+ jobs\) cannot start in partition short: it asks for (\d+) minutes, the partition's "
        r"MaxTime is 10\. Put fewer jobs in one Slurm job \(--group-components "
        r"train_\{dataset\}_\{model\}=N",
        line,
    )
    assert asked and int(asked.group(1)) > 10, line


def test_a_job_that_can_no_longer_start_is_cancelled_with_slurms_reason(slurm_study, mnist_dir, tmp_path):
    """The partition changes under a waiting job (it was down; it comes up with a MaxTime below the
    job's limit): the pending watch cancels it within seconds, and Snakemake ends. A job of the same
    user, from the same folder, in the same partition and as unable to start, that this Snakemake did
    not submit, is left alone."""
    workdir = tmp_path / "changed"
    shutil.copytree(slurm_study[0], workdir, symlinks=True)
    with slurm_partition("changing", State="DOWN"):
        foreign = subprocess.run(
            ["sbatch", "--parsable", "-p", "changing", "--time=5", f"--chdir={workdir}", "--wrap", "sleep 1"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        try:
            process = retrain(
                workdir,
                ann_runs(workdir)[:1],
                "--set-resources",
                "train_run:slurm_partition=changing",
                mnist_dir=mnist_dir,
            )
            job_id = wait_for_pending(workdir, "changing", other_than=foreign)
            subprocess.run(["scontrol", "update", "PartitionName=changing", "MaxTime=1", "State=UP"], check=True)
            returncode, output = finish(process, timeout=150)
            assert slurm_job(foreign)["JobState"] == "PENDING", output[-3000:]
            assert f"Slurm job {foreign} " not in output
        finally:
            subprocess.run(["scancel", foreign])
    assert returncode != 0
    cancelled = (
        f"Slurm job {job_id} (rule_train_mnist_ann_train_run) can never start: PartitionTimeLimit (the job's time "
        "limit exceeds the partition's MaxTime); cancelled."
    )
    assert cancelled in output, output[-3000:]
    assert output.count(cancelled) == 2, output[-3000:]  # when cancelled, and again at the end
    assert slurm_job(job_id)["JobState"] == "CANCELLED"


def wait_for_pending(workdir, partition, timeout=60, other_than=None):
    """The id of this folder's job (other than job `other_than`) once Slurm lists it as pending in
    `partition`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = subprocess.run(
            ["squeue", "-h", "-p", partition, "-t", "PENDING", "-o", "%i|%Z"], capture_output=True, text=True
        ).stdout.split()
        jobs = [
            line.split("|")[0]
            for line in listed
            if os.path.realpath(line.split("|")[1]) == str(workdir.resolve()) and line.split("|")[0] != other_than
        ]
        if jobs:
            return int(jobs[0])
        time.sleep(1)
    pytest.fail(f"no job pending in partition {partition} after {timeout} s")
