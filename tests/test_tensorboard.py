"""TensorBoard event files of training runs, read back with TensorBoard's own readers: every epoch once,
the hyperparameters and results of each run, and no change to what training writes."""

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.plugins.hparams import plugin_data_pb2

from digitstudy.datasets import SPLITS, write_splits
from digitstudy.events import CURVES, EVENT_FILES, HPARAMS
from digitstudy.paths import EVENTS_DIR
from digitstudy.paths import RUN as RUN_PATTERN
from helpers import Killed, killed_at_epoch, learnable_split, run_settings, train_into


RUN = Path("mnist", "cnn_dropout", "seed3_lr0.05_mom0.9")
SETTINGS = run_settings(model="cnn_dropout", epochs=4)


# --- reading event files as TensorBoard does ------------------------------------------------------


def curves(directory):
    """{tag: [(epoch, value), ...]} of the curves, as TensorBoard's Scalars tab reads them."""
    accumulator = EventAccumulator(str(directory), size_guidance={"scalars": 0})
    accumulator.Reload()
    return {tag: [(event.step, event.value) for event in accumulator.Scalars(tag)] for tag in CURVES}


def hparams(directory):
    """(hyperparameters, {metric tag: value}) of a run, as TensorBoard's HParams tab reads them."""
    accumulator = EventAccumulator(str(directory), size_guidance={"scalars": 0})
    accumulator.Reload()
    content = accumulator.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    values = {name: getattr(value, value.WhichOneof("kind")) for name, value in start.hparams.items()}
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        accumulator.PluginTagToContent("hparams")["_hparams_/experiment"]
    ).experiment
    metrics = {info.name.tag: accumulator.Scalars(info.name.tag)[-1].value for info in experiment.metric_infos}
    return values, metrics


def steps_on_disk(directory):
    """Counter of (tag, epoch) over every event file of the folder, read raw: no purging of restarts."""
    counts = Counter()
    for path in Path(directory).glob(EVENT_FILES):
        for event in EventFileLoader(str(path)).Load():
            counts.update((value.tag, event.step) for value in event.summary.value if value.tag in CURVES)
    return counts


def assert_curves_match(directory, history):
    """Every epoch of history.csv once per curve, with its value (stored as float32)."""
    found = curves(directory)
    for tag, column in CURVES.items():
        assert [step for step, _ in found[tag]] == list(history["epoch"]), tag
        np.testing.assert_array_equal([value for _, value in found[tag]], history[column].to_numpy(np.float32))
    assert set(steps_on_disk(directory).values()) == {1}


# --- one run, trained by run_training in a study's folder layout --------------------------------------


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "mnist.h5"
    splits = {name: learnable_split(size, seed) for seed, (name, size) in enumerate(zip(SPLITS, (300, 100, 100)))}
    attributes = {"dataset": "mnist", "source_sha256": {"train-images-idx3-ubyte": "12" * 32}, "split_seed": 0}
    write_splits(path, splits, n_classes=10, attributes=attributes)
    return path


def train(data_file, study, run=RUN, log=lambda message: None, settings=SETTINGS):
    """The run in a study folder's layout: its outputs in results/runs/<run>, its events where the
    train_run rule puts them (paths.EVENTS_DIR)."""
    events = study / EVENTS_DIR.replace(RUN_PATTERN, str(run))
    return train_into(data_file, study / "results" / "runs" / run, settings, log, events_dir=events)


def outputs_of(run_dir):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    del metrics["wall_seconds"], metrics["resumed_from_epoch"]
    history = pd.read_csv(run_dir / "history.csv").drop(columns="seconds")
    return metrics, history, torch.load(run_dir / "model.pt", weights_only=True)


def assert_same_outputs(run_dir, other_dir):
    (metrics, history, weights), (other_metrics, other_history, other_weights) = map(outputs_of, (run_dir, other_dir))
    assert metrics == other_metrics
    pd.testing.assert_frame_equal(history, other_history, check_exact=True)
    assert all(torch.equal(weights[name], other_weights[name]) for name in weights)


@pytest.fixture(scope="module")
def study(data_file, tmp_path_factory):
    """A study folder holding the run, trained once without interruption."""
    study = tmp_path_factory.mktemp("study")
    train(data_file, study)
    return study


def test_a_run_writes_every_epoch_and_its_hparams(study):
    run_dir, event_dir = study / "results" / "runs" / RUN, study / "logs" / "tensorboard" / RUN
    assert_curves_match(event_dir, pd.read_csv(run_dir / "history.csv"))
    values, metrics = hparams(event_dir)
    record = json.loads((run_dir / "metrics.json").read_text())
    assert values == {**{key: record[key] for key in HPARAMS}, "status": "ok"}
    assert metrics["result/final_valid_error"] == np.float32(record["final"]["valid_error"])
    assert metrics["result/best_epoch"] == record["best_valid"]["epoch"]
    assert not list(run_dir.glob(EVENT_FILES))  # the run folder holds its outputs only


def test_a_diverged_run_shows_its_last_epoch_and_status(data_file, tmp_path):
    """Its last epoch has no checkpoint (the run ends at once), and its losses are NaN."""
    settings = run_settings(model="ann", lr=1e6, epochs=5, chance_patience=2)
    run = Path("mnist", "ann", "seed3_lr1000000_mom0.9")
    record = train(data_file, tmp_path, run, settings=settings)
    assert record["status"] == "diverged"
    event_dir = tmp_path / "logs" / "tensorboard" / run
    assert_curves_match(event_dir, pd.read_csv(tmp_path / "results" / "runs" / run / "history.csv"))
    assert hparams(event_dir)[0]["status"] == "diverged"


def test_event_files_change_no_result(study, data_file, tmp_path):
    """The same run without events; its outputs are the same bit for bit."""
    train_into(data_file, tmp_path, SETTINGS, lambda message: None)
    assert_same_outputs(study / "results" / "runs" / RUN, tmp_path)


def test_without_tensorboard_a_run_says_so_and_trains(study, data_file, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails as if not installed
    messages = []
    train(data_file, tmp_path, log=messages.append)
    assert messages[0] == "tensorboard not installed: no event files"
    assert not (tmp_path / "logs").exists()
    assert_same_outputs(study / "results" / "runs" / RUN, tmp_path / "results" / "runs" / RUN)


@pytest.mark.parametrize("events_lost", [False, True])
def test_a_resumed_run_has_each_epoch_once(study, data_file, tmp_path, events_lost):
    """Killed during epoch 3, resumed from its checkpoint (epoch 2); events_lost: the kill came
    between the checkpoint and its events, so they lack an epoch the checkpoint holds."""
    run_dir, event_dir = tmp_path / "results" / "runs" / RUN, tmp_path / "logs" / "tensorboard" / RUN
    with pytest.raises(Killed):
        train(data_file, tmp_path, log=killed_at_epoch(3))
    assert [step for step, _ in curves(event_dir)["loss/train"]] == [1, 2]
    if events_lost:
        for path in event_dir.glob(EVENT_FILES):
            path.unlink()
    train(data_file, tmp_path)
    assert_curves_match(event_dir, pd.read_csv(run_dir / "history.csv"))
    resumed, whole = curves(event_dir), curves(study / "logs" / "tensorboard" / RUN)
    assert all(resumed[tag] == whole[tag] for tag in CURVES if tag != "time/epoch_seconds")


# --- a finished quick study ------------------------------------------------------------------------


def check_run(study, run):
    """The run's events show each epoch of its history.csv once and its metrics.json's settings."""
    run_dir, event_dir = study / "results" / "runs" / run, study / "logs" / "tensorboard" / run
    assert_curves_match(event_dir, pd.read_csv(run_dir / "history.csv"))
    values, metrics = hparams(event_dir)
    record = json.loads((run_dir / "metrics.json").read_text())
    assert values == {**{key: record[key] for key in HPARAMS}, "status": record["status"]}
    assert metrics["result/final_valid_error"] == np.float32(record["final"]["valid_error"])


@pytest.mark.workflow
def test_a_finished_study_shows_every_epoch_and_the_hparams_of_every_run(quick_study):
    runs = sorted(
        path.parent.relative_to(quick_study / "results" / "runs")
        for path in (quick_study / "results" / "runs").glob("*/*/*/metrics.json")
    )
    assert runs and runs == sorted(
        path.relative_to(quick_study / "logs" / "tensorboard")
        for path in (quick_study / "logs" / "tensorboard").glob("*/*/*")
    )
    for run in runs:
        check_run(quick_study, run)
