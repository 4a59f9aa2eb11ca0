"""One training job end to end: HDF5 file in, history.csv + metrics.json + model.pt out, nothing else."""

import csv
import json
import os
import re
import signal
from pathlib import Path

import pytest
import torch

from digitstudy.datasets import SPLITS, read_splits, write_splits
from digitstudy.files import sha256_file
from digitstudy.models import build_model
from digitstudy.runs import HISTORY_COLUMNS
from digitstudy.scripting import logged
from digitstudy.training import evaluate, to_tensor_split
from digitstudy.version import workflow_version
from helpers import Killed, killed_at_epoch, learnable_split, run_settings, train_into


SOURCE_SHA256 = {"train-images-idx3-ubyte": "12" * 32, "t10k-images-idx3-ubyte": "34" * 32}
OUTPUTS = {"history.csv", "metrics.json", "model.pt"}


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    """A tiny dataset file written the way the prepare_idx rule writes one."""
    path = tmp_path_factory.mktemp("data") / "mnist.h5"
    sizes = {"train": 300, "valid": 100, "test": 100}
    splits = {name: learnable_split(sizes[name], seed) for seed, name in enumerate(SPLITS)}
    write_splits(
        path, splits, n_classes=10, attributes={"dataset": "mnist", "source_sha256": SOURCE_SHA256, "split_seed": 0}
    )
    return path


def run(data_file, out_dir, **changes):
    settings = run_settings(**changes)
    messages = []
    record = train_into(data_file, out_dir, settings, messages.append)
    return settings, record, messages


def read_history(path):
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def strict_json(path):
    """metrics.json must be standard JSON: NaN or Infinity would break other readers."""

    def refuse(constant):
        raise ValueError(f"{path}: non-standard JSON constant {constant}")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.fixture(scope="module")
def finished_run(data_file, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("run")
    settings, record, messages = run(data_file, out_dir)
    return out_dir, settings, record, messages


def test_writes_exactly_the_three_outputs(finished_run, data_file):
    out_dir = finished_run[0]
    # No temporary siblings left behind (atomic writes rename them), and nothing undeclared.
    assert set(os.listdir(out_dir)) == OUTPUTS
    assert os.listdir(data_file.parent) == [data_file.name]


def test_outputs_are_not_private(finished_run):
    # mkstemp creates its files readable by the owner only; a renamed temporary must not carry that
    # into results that collaborators and the report need to read.
    umask = os.umask(0)
    os.umask(umask)
    for name in OUTPUTS:
        assert (finished_run[0] / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


def test_history_has_one_row_per_epoch(finished_run):
    out_dir, settings = finished_run[:2]
    columns, rows = read_history(out_dir / "history.csv")
    assert (
        tuple(columns)
        == HISTORY_COLUMNS
        == ("epoch", "train_loss", "train_error", "valid_loss", "valid_error", "seconds")
    )
    assert [int(row["epoch"]) for row in rows] == list(range(1, settings.epochs + 1))
    for row in rows:
        assert 0 <= float(row["train_error"]) <= 1 and 0 <= float(row["valid_error"]) <= 1
        assert float(row["seconds"]) > 0
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])


def test_metrics_record_the_run(finished_run, data_file):
    out_dir, settings, record, messages = finished_run
    metrics = strict_json(out_dir / "metrics.json")
    assert metrics == json.loads(json.dumps(record))  # the file holds what was returned
    assert metrics["status"] == "ok" and metrics["reason"] is None
    assert (metrics["dataset"], metrics["model"], metrics["seed"], metrics["lr"], metrics["momentum"]) == (
        "mnist",
        settings.model,
        settings.seed,
        settings.lr,
        settings.momentum,
    )
    assert metrics["epochs_completed"] == settings.epochs and metrics["threads"] == 1
    assert 0 <= metrics["test"]["error"] <= 1 and metrics["test"]["loss"] > 0
    assert metrics["versions"]["torch"] == torch.__version__
    assert set(metrics["versions"]) >= {"python", "torch", "numpy", "h5py"}
    assert metrics["workflow"] == workflow_version()  # which digitstudy trained it (tests/test_version.py)
    assert metrics["data"]["sha256"] == sha256_file(data_file)
    assert metrics["data"]["source_sha256"] == SOURCE_SHA256
    assert len(messages) >= settings.epochs  # one log line per epoch at least


def test_best_valid_matches_history(finished_run):
    out_dir = finished_run[0]
    _, rows = read_history(out_dir / "history.csv")
    best = strict_json(out_dir / "metrics.json")["best_valid"]
    errors = [float(row["valid_error"]) for row in rows]
    assert best["epoch"] == errors.index(min(errors)) + 1
    assert best["valid_error"] == pytest.approx(min(errors))


def test_model_reloads_and_reproduces_test_error(finished_run, data_file):
    out_dir, settings = finished_run[:2]
    state = torch.load(out_dir / "model.pt", weights_only=True)
    model = build_model(settings.model, (1, 28, 28), 10)
    model.load_state_dict(state)  # strict: same layers, same shapes
    splits, attributes = read_splits(data_file, names=("test",))
    mean, std = float(attributes["pixel_mean"]), float(attributes["pixel_std"])
    test = to_tensor_split(splits["test"], mean, std, "cpu")
    metrics, result = strict_json(out_dir / "metrics.json"), evaluate(model, test)
    assert result["error"] == metrics["test"]["error"]
    # Trained in channels_last memory format, evaluated here in the default one: equal up to rounding.
    assert result["loss"] == pytest.approx(metrics["test"]["loss"], rel=1e-4, abs=1e-7)


def test_diverged_run_still_writes_valid_outputs(data_file, tmp_path):
    _, record, _ = run(data_file, tmp_path, model="ann", lr=1e6, epochs=5, chance_patience=2)
    metrics = strict_json(tmp_path / "metrics.json")  # NaN losses must become null, not NaN
    assert metrics["status"] == "diverged" and metrics["diverged_epoch"] == metrics["epochs_completed"]
    _, rows = read_history(tmp_path / "history.csv")
    assert len(rows) == metrics["epochs_completed"] < 5
    assert set(os.listdir(tmp_path)) == OUTPUTS


# --- reproducibility of a whole job ----------------------------------------------------------------


def outputs_of(out_dir):
    """(metrics without the timing fields, history without seconds, weights) of a finished run."""
    metrics = strict_json(out_dir / "metrics.json")
    for key in ("wall_seconds", "resumed_from_epoch"):
        metrics.pop(key)
    _, rows = read_history(out_dir / "history.csv")
    history = [{key: value for key, value in row.items() if key != "seconds"} for row in rows]
    return metrics, history, torch.load(out_dir / "model.pt", weights_only=True)


def assert_same_weights(weights, other):
    assert weights.keys() == other.keys()
    for name in weights:
        assert torch.equal(weights[name], other[name]), name


def test_same_job_twice_gives_the_same_outputs_bit_for_bit(data_file, finished_run, tmp_path):
    run(data_file, tmp_path)
    metrics, history, weights = outputs_of(finished_run[0])
    metrics_again, history_again, weights_again = outputs_of(tmp_path)
    assert metrics_again == metrics and history_again == history
    assert_same_weights(weights, weights_again)
    # The bytes too: a checksum or a content-addressed cache must see one model, not two.
    assert (tmp_path / "model.pt").read_bytes() == (finished_run[0] / "model.pt").read_bytes()


def test_other_seed_gives_other_outputs(data_file, finished_run, tmp_path):
    run(data_file, tmp_path, seed=4)
    metrics, history, weights = outputs_of(finished_run[0])
    other_metrics, other_history, other_weights = outputs_of(tmp_path)
    assert other_history != history and other_metrics["final"] != metrics["final"]
    assert not any(torch.equal(weights[name], other_weights[name]) for name in weights)


# --- checkpoints ---------------------------------------------------------------------------------


def kill(data_file, out_dir, epoch, **changes):
    settings = run_settings(**{"model": "cnn_dropout", "epochs": 4, **changes})
    with pytest.raises(Killed):
        train_into(data_file, out_dir, settings, killed_at_epoch(epoch))
    return settings


def test_killed_job_resumes_to_the_uninterrupted_result(data_file, tmp_path):
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    kill(data_file, killed, epoch=3)
    assert os.listdir(killed) == ["checkpoint.pt"]  # no output yet: each is written at the end
    checkpoint = torch.load(killed / "checkpoint.pt", weights_only=True)
    assert checkpoint["epoch"] == 2 and len(checkpoint["history"]) == 2
    _, record, messages = run(data_file, killed, model="cnn_dropout", epochs=4)
    assert messages[0] == "resumed from checkpoint at epoch 2"
    assert [message.split()[1] for message in messages if message.startswith("epoch")] == ["3", "4"]
    assert record["resumed_from_epoch"] == 2
    run(data_file, whole, model="cnn_dropout", epochs=4)
    assert set(os.listdir(killed)) == OUTPUTS  # the checkpoint is gone once the outputs are complete
    metrics, history, weights = outputs_of(killed)
    assert (metrics, history) == outputs_of(whole)[:2]
    assert_same_weights(weights, outputs_of(whole)[2])


def signal_at_epoch(epoch, signum, messages):
    """A log that sends this process `signum` when training reaches `epoch` (before it is saved), as
    Ctrl-C or Snakemake would."""

    def log(message):
        messages.append(message)
        if message.startswith(f"epoch {epoch:3d}"):
            os.kill(os.getpid(), signum)

    return log


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stopped_job_says_in_one_line_where_the_next_run_goes_on(data_file, tmp_path, signum, status, capsys):
    log_path, messages = tmp_path / "train.log", []
    settings = run_settings(model="cnn_dropout", epochs=4)
    handlers = {each: signal.getsignal(each) for each in (signal.SIGINT, signal.SIGTERM)}
    with pytest.raises(SystemExit) as ended, logged(log_path):
        train_into(data_file, tmp_path / "run", settings, signal_at_epoch(3, signum, messages))
    name = signal.Signals(signum).name
    line = f"interrupted by {name} in epoch 3 of 4: the next run resumes from the checkpoint of epoch 2"
    assert ended.value.code == status
    assert log_path.read_text() == line + "\n" and "Traceback" not in capsys.readouterr().err
    assert os.listdir(tmp_path / "run") == ["checkpoint.pt"]
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["epoch"] == 2
    # The signal handlers are the test process's own again.
    assert {each: signal.getsignal(each) for each in handlers} == handlers


def test_checkpoint_of_other_settings_is_not_resumed(data_file, tmp_path):
    kill(data_file, tmp_path, epoch=3, epochs=4)
    _, record, messages = run(data_file, tmp_path, model="cnn_dropout", epochs=5)
    assert messages[0].startswith("ignoring checkpoint") and "other settings" in messages[0]
    assert record["resumed_from_epoch"] is None and record["epochs_completed"] == 5
    assert set(os.listdir(tmp_path)) == OUTPUTS


class Payload:
    """Any object other than tensors and plain data: weights_only must refuse to unpickle it."""


@pytest.mark.parametrize("content", [b"not a checkpoint", "pickle"])
def test_unreadable_or_unsafe_checkpoint_is_not_loaded(data_file, tmp_path, content):
    if content == "pickle":
        torch.save({"identity": None, "payload": Payload()}, tmp_path / "checkpoint.pt")
    else:
        (tmp_path / "checkpoint.pt").write_bytes(content)
    _, record, messages = run(data_file, tmp_path, epochs=1)
    assert messages[0].startswith(f"ignoring unreadable checkpoint {tmp_path / 'checkpoint.pt'}")
    assert record["resumed_from_epoch"] is None and set(os.listdir(tmp_path)) == OUTPUTS


def test_code_reads_no_pickle_beyond_weights_only():
    # Weights and checkpoints are the only binary files read back; torch.load must refuse anything
    # but tensors and plain data in them, and no other unpickler may be used anywhere.
    repo = Path(__file__).resolve().parents[1]
    sources = [*repo.glob("workflow/**/*.py"), *repo.glob("workflow/**/*.smk"), *repo.glob("bench/*.py")]
    for path in sources:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            where = f"{path.relative_to(repo)}:{number}"
            if "torch.load(" in line:
                assert "weights_only=True" in line, where
            assert not re.search(r"pickle\.loads?\(|read_pickle|allow_pickle=True|np\.load\(", line), where


def test_load_run_gives_the_model_and_preprocessing_that_reproduce_the_test_error(finished_run, data_file):
    from digitstudy.predictions import load_run, test_logits
    from digitstudy.training import standardise

    out_dir, _, record, _ = finished_run
    model, preprocess = load_run(out_dir, data_file=data_file)
    splits, attributes = read_splits(data_file, names=("test",))
    assert not model.training
    predicted = test_logits(model, preprocess(splits["test"].images)).argmax(dim=1).numpy()
    assert (predicted != splits["test"].labels).mean() == record["test"]["error"]
    # The very tensor training standardises to, bit for bit, for every pixel value 0-255
    mean, std = float(attributes["pixel_mean"]), float(attributes["pixel_std"])
    every_pixel = torch.arange(256, dtype=torch.uint8).reshape(4, 1, 8, 8).numpy()
    for images in (splits["test"].images, every_pixel):
        tensor = preprocess(images)
        assert tensor.dtype == torch.float32 and tensor.shape == images.shape
        assert torch.equal(tensor, standardise(images, mean, std, "cpu"))
