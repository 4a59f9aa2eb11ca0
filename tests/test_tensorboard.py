"""TensorBoard event files of training runs, read back with TensorBoard's own readers: every epoch once,
the hyperparameters and results of each run, and no change to what training writes."""

import json
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.plugins import base_plugin
from tensorboard.plugins.hparams import plugin_data_pb2
from werkzeug.test import Client

from digitstudy.datasets import SPLITS, write_splits
from digitstudy.events import CURVES, EVENT_FILES, HPARAMS, open_events
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
    """(hyperparameters, {metric tag: value}) of a run's own event files: its session's values, and the
    last value of each scalar, which the HParams tab shows as the run's metrics."""
    accumulator = EventAccumulator(str(directory), size_guidance={"scalars": 0})
    accumulator.Reload()
    content = accumulator.PluginTagToContent("hparams")
    assert "_hparams_/experiment" not in content  # TensorBoard would take one run's for the study's
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info
    values = {name: getattr(value, value.WhichOneof("kind")) for name, value in start.hparams.items()}
    metrics = {tag: accumulator.Scalars(tag)[-1].value for tag in accumulator.Tags()["scalars"]}
    return values, metrics


def hparams_tab(logdir, route, request):
    """The JSON that TensorBoard's HParams tab gets for `logdir` from the hparams plugin's backend
    (`route`: /experiment, its columns; /session_groups, its rows), as `tensorboard --logdir` serves it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # from a library the plugin imports
        from tensorboard.plugins.hparams import hparams_plugin

    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, str(logdir))
    context = base_plugin.TBContext(logdir=str(logdir), data_provider=provider, multiplexer=multiplexer)
    app = hparams_plugin.HParamsPlugin(context).get_plugin_apps()[route]
    response = Client(app).post(route, data=json.dumps({"experimentName": "", **request}))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def hparam_columns(logdir):
    """{name: differs} of the HParams tab's hyperparameter columns, in the order TensorBoard gives them."""
    experiment = hparams_tab(logdir, "/experiment", {"hparamsLimit": 1000})
    return {info["name"]: info.get("differs", False) for info in experiment["hparamInfos"]}


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
    assert metrics["error/valid"] == np.float32(record["final"]["valid_error"])
    assert metrics["result/best_valid_error"] == np.float32(record["best_valid"]["valid_error"])
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


# --- the HParams tab over many runs, as TensorBoard's backend serves it -------------------------------


def write_run(logdir, dataset="mnist", model="cnn", seed=1, split_seed=0, lr=0.01, momentum=0.9, batch_size=32):
    """A finished two-epoch run's event files, written by events.py from a record with these settings."""
    history = [
        {
            "epoch": epoch,
            "train_loss": 1 / epoch,
            "valid_loss": 1.2 / epoch,
            "train_error": 0.2 / epoch,
            "valid_error": 0.3 / epoch,
            "seconds": 1.0,
        }
        for epoch in (1, 2)
    ]
    settings = {"dataset": dataset, "model": model, "seed": seed, "split_seed": split_seed, "lr": lr}
    record = {**settings, "momentum": momentum, "batch_size": batch_size, "epochs": 2, "status": "ok"}
    record["best_valid"] = {"epoch": 2, "valid_error": 0.15, "valid_loss": 0.6}
    name = f"{dataset}/{model}/seed{seed}_lr{lr}_mom{momentum}" + (f"_split{split_seed}" if split_seed else "")
    events = open_events(logdir / name, [], log=pytest.fail)
    events.add_epochs(history[:1])
    events.finish(history, record)
    return name


def test_the_hparams_tab_marks_the_settings_that_differ_between_runs(tmp_path):
    """Before, each run wrote an experiment summary of its own, which TensorBoard took for the whole
    logdir's: every column read as not differing."""
    write_run(tmp_path, seed=1, lr=0.01, momentum=0.9)
    write_run(tmp_path, seed=2, lr=0.1, momentum=0.5)
    differs = hparam_columns(tmp_path)
    assert set(differs) == {*HPARAMS, "status"}
    assert {name for name in differs if differs[name]} == {"seed", "lr", "momentum"}


def test_the_hparams_tab_shows_the_runs_settings_by_default(tmp_path):
    """A logdir like the full study's: two experiments (their batch sizes differ), a seed study, a grid
    and a replicate on another split. The tab shows the first five hyperparameters of TensorBoard's
    order, those that differ first (tf-hparams-query-pane); the rest are one click away."""
    for dataset, model, batch_size in (("mnist", "cnn", 32), ("twodigit", "lenet5", 128)):
        runs = [{"seed": seed} for seed in (1, 66)] + [{"lr": 0.1, "momentum": momentum} for momentum in (0.0, 0.9)]
        for run in [*runs, {"seed": 2, "split_seed": 1}]:
            write_run(tmp_path, dataset, model, batch_size=batch_size, **run)
    assert list(hparam_columns(tmp_path))[:5] == ["dataset", "lr", "model", "momentum", "seed"]


def test_the_hparams_tab_shows_each_runs_final_and_best_values(tmp_path):
    name = write_run(tmp_path)
    statuses = ["STATUS_SUCCESS", "STATUS_UNKNOWN", "STATUS_FAILURE", "STATUS_RUNNING"]
    request = {"allowedStatuses": statuses, "colParams": [], "startIndex": 0, "sliceSize": 10}
    [group] = hparams_tab(tmp_path, "/session_groups", request)["sessionGroups"]
    assert group["name"] == name
    values = {metric["name"]["tag"]: metric["value"] for metric in group["metricValues"]}
    assert values["error/valid"] == np.float32(0.15) and values["loss/train"] == np.float32(0.5)  # the last epoch's
    assert values["result/best_valid_error"] == np.float32(0.15) and values["result/best_epoch"] == 2
    assert set(values) == {*CURVES, "result/best_valid_error", "result/best_valid_loss", "result/best_epoch"}


# --- a finished quick study ------------------------------------------------------------------------


def check_run(study, run):
    """The run's events show each epoch of its history.csv once and its metrics.json's settings."""
    run_dir, event_dir = study / "results" / "runs" / run, study / "logs" / "tensorboard" / run
    assert_curves_match(event_dir, pd.read_csv(run_dir / "history.csv"))
    values, metrics = hparams(event_dir)
    record = json.loads((run_dir / "metrics.json").read_text())
    assert values == {**{key: record[key] for key in HPARAMS}, "status": record["status"]}
    assert metrics["error/valid"] == np.float32(record["final"]["valid_error"])


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
    # The quick study varies seeds, learning rates, splits, datasets and models; one momentum only.
    differs = hparam_columns(quick_study / "logs" / "tensorboard")
    assert {name for name in differs if differs[name]} >= {"dataset", "model", "seed", "split_seed", "lr"}
    assert differs["momentum"] is False
