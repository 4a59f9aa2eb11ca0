"""A `snakemake` killed with SIGKILL in the middle of a training job: after --unlock and a rerun with
--rerun-incomplete the job resumes from its checkpoint and ends exactly as if never interrupted."""

import json
import os
import signal
import subprocess
import time

import pandas as pd
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

from helpers import copy_study, snakemake_command, snakemake_environment, write_config


pytestmark = pytest.mark.workflow
RUN = "results/runs/mnist/cnn_dropout/seed1_lr0.01_mom0.9"
LOG = "logs/train/mnist/cnn_dropout/seed1_lr0.01_mom0.9.log"
EVENTS = "logs/tensorboard/mnist/cnn_dropout/seed1_lr0.01_mom0.9"
EPOCHS = 8


def one_longer_run(config):
    """The quick study's data, one run of cnn_dropout (dropout: the global RNG state matters too),
    trained longer so that it can be killed in the middle."""
    config["experiments"] = {"mnist": {"cnn_dropout": {"batch_size": 32, "epochs": EPOCHS}}}
    config["seed_study"]["seeds"] = [1]
    config["grid"].update(lr=[0.01], momentum=[0.9])


def command(study, *arguments):
    configfile = write_config(study, one_longer_run)
    return snakemake_command(f"{RUN}/metrics.json", *arguments, configfile=configfile, cores=1, replace=True)


def checkpoint_epoch(path):
    """The last epoch saved in the checkpoint, 0 while there is none."""
    try:
        return torch.load(path, weights_only=True)["epoch"]
    except (FileNotFoundError, RuntimeError, EOFError):
        return 0


def kill_when_checkpointed(process, checkpoint, epoch, timeout=120):
    """SIGKILL snakemake and its job (its process group) once `epoch` is in the checkpoint."""
    deadline = time.monotonic() + timeout
    while checkpoint_epoch(checkpoint) < epoch:
        assert process.poll() is None, "snakemake ended before it could be killed"
        assert time.monotonic() < deadline, "no checkpoint in time"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def curves(event_dir):
    """{tag: [(epoch, value), ...]} of the run's TensorBoard curves (epoch times left out: they differ)."""
    accumulator = EventAccumulator(str(event_dir), size_guidance={"scalars": 0})
    accumulator.Reload()
    tags = [tag for tag in accumulator.Tags()["scalars"] if tag.split("/")[0] in ("loss", "error")]
    return {tag: [(event.step, event.value) for event in accumulator.Scalars(tag)] for tag in tags}


def points_on_disk(event_dir):
    """(tag, epoch) of every curve point in every event file, read raw (TensorBoard hides a restart's
    repeated epochs; the files must not hold them at all)."""
    return [
        (value.tag, event.step)
        for path in sorted(event_dir.glob("events.out.tfevents.*"))
        for event in EventFileLoader(str(path)).Load()
        for value in event.summary.value
        if value.tag.split("/")[0] in ("loss", "error")
    ]


def outputs_of(run_dir):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    timing = {key: metrics.pop(key) for key in ("wall_seconds", "resumed_from_epoch")}
    history = pd.read_csv(run_dir / "history.csv").drop(columns="seconds")
    return metrics, timing, history, torch.load(run_dir / "model.pt", weights_only=True)


def test_killed_study_resumes_to_the_uninterrupted_result(quick_study, tmp_path, mnist_dir):
    environment = snakemake_environment(mnist_dir)
    killed, whole = copy_study(quick_study, tmp_path / "killed"), copy_study(quick_study, tmp_path / "whole")
    # The uninterrupted run goes on beside the one that is killed.
    uninterrupted = subprocess.Popen(
        command(whole), cwd=whole, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    victim = subprocess.Popen(
        command(killed),
        cwd=killed,
        env=environment,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    kill_when_checkpointed(victim, killed / RUN / "checkpoint.pt", epoch=2)
    saved = checkpoint_epoch(killed / RUN / "checkpoint.pt")
    assert 2 <= saved < EPOCHS and not (killed / RUN / "metrics.json").exists()

    # A killed snakemake leaves its lock behind; --unlock is the documented way out, not --nolock.
    assert subprocess.run(command(killed, "--unlock"), cwd=killed, env=environment).returncode == 0
    resumed = subprocess.run(
        command(killed, "--rerun-incomplete"), cwd=killed, env=environment, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert uninterrupted.wait() == 0, uninterrupted.stderr.read()[-3000:]

    log = (killed / LOG).read_text().splitlines()
    assert log[0] == f"resumed from checkpoint at epoch {saved}"
    assert [int(line.split()[1]) for line in log if line.startswith("epoch")] == list(range(saved + 1, EPOCHS + 1))
    assert not (killed / RUN / "checkpoint.pt").exists()
    metrics, timing, history, weights = outputs_of(killed / RUN)
    whole_metrics, whole_timing, whole_history, whole_weights = outputs_of(whole / RUN)
    assert timing["resumed_from_epoch"] == saved and whole_timing["resumed_from_epoch"] is None
    assert metrics == whole_metrics and metrics["epochs_completed"] == EPOCHS
    pd.testing.assert_frame_equal(history, whole_history, check_exact=True)
    assert weights.keys() == whole_weights.keys()
    for name in weights:
        assert torch.equal(weights[name], whole_weights[name]), name
    # The curves in TensorBoard: each epoch once, as those of the uninterrupted run.
    resumed_curves = curves(killed / EVENTS)
    assert len(resumed_curves) == 4 and resumed_curves == curves(whole / EVENTS)
    assert all([epoch for epoch, _ in points] == list(range(1, EPOCHS + 1)) for points in resumed_curves.values())
    on_disk = points_on_disk(killed / EVENTS)
    assert len(on_disk) == len(set(on_disk)) == 4 * EPOCHS
