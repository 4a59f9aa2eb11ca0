"""One training job from its HDF5 file to its three outputs: history.csv, metrics.json, model.pt."""

import contextlib
import csv
import io
import json
import os
import pickle
import platform
import time
from dataclasses import asdict
from pathlib import Path

import h5py
import numpy as np
import torch

from .datasets import read_splits
from .events import open_events
from .files import sha256_file, write_bytes_atomic, write_json_atomic, write_text_atomic
from .paths import CHECKPOINT_NAME, RUN_NAME
from .scripting import Interrupted
from .training import RunSettings, best_epoch, check_device, to_tensor_split, train
from .version import workflow_version


HISTORY_COLUMNS = ("epoch", "train_loss", "train_error", "valid_loss", "valid_error", "seconds")
# What torch.load raises on a damaged file, or on one that weights_only refuses to unpickle.
CHECKPOINT_ERRORS = (RuntimeError, pickle.UnpicklingError, EOFError, OSError, ValueError)


def library_versions():
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "h5py": h5py.__version__,
    }


def host_record(environ=os.environ):
    """Where the run trained: the machine, and on a Slurm cluster the job that ran it."""
    return {"name": platform.node(), "slurm_job_id": environ.get("SLURM_JOB_ID")}


def history_csv(history):
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=HISTORY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return text.getvalue()


def run_record(
    dataset,
    settings,
    history,
    outcome,
    data_file,
    data_sha256,
    attributes,
    wall_seconds,
    threads,
    resumed_from_epoch=None,
    run=None,
):
    """Everything a reader needs to trust and reproduce the run (metrics.json). `run`: the name of the
    run's folder (paths.RUN_NAME); split_seed: the train/validation split it trained on (the data file's)."""
    final, best = history[-1], best_epoch(history)
    return {
        "dataset": dataset,
        "run": run,
        **asdict(settings),
        "split_seed": int(attributes["split_seed"]),
        "threads": threads,
        "status": outcome["status"],
        "reason": outcome["reason"],
        "diverged_epoch": outcome["diverged_epoch"],
        "epochs_completed": len(history),
        "final": {key: final[key] for key in ("train_loss", "train_error", "valid_loss", "valid_error")},
        "best_valid": {"epoch": best["epoch"], "valid_error": best["valid_error"], "valid_loss": best["valid_loss"]},
        "test": outcome["test"],
        "chance_error": outcome["chance_error"],
        "wall_seconds": wall_seconds,
        "resumed_from_epoch": resumed_from_epoch,
        "versions": library_versions(),
        "workflow": workflow_version(),
        "host": host_record(),
        "data": {
            "file": str(data_file),
            "sha256": data_sha256,
            "source_sha256": json.loads(attributes["source_sha256"]),
        },
    }


# --- checkpoints: a killed job resumes after its last finished epoch ---------------------------------


def checkpoint_path(model_path):
    """The run's checkpoint, beside its outputs (paths.CHECKPOINT_NAME)."""
    return Path(model_path).with_name(CHECKPOINT_NAME)


def run_identity(dataset, settings, threads, data_sha256):
    """What a checkpoint must have been saved for to be resumed: the same run on the same data, with
    the same thread count (which can change the order of float sums)."""
    return {"dataset": dataset, **asdict(settings), "threads": threads, "data_sha256": data_sha256}


def tensors_bytes(tensors):
    """torch.save's bytes of `tensors`, written to memory: saved to a file, the archive inside takes its
    folder name from the file's name, and an atomic write's temporary name is random, so two identical
    runs would write different bytes."""
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    return buffer.getvalue()


def save_checkpoint(path, identity, state, wall_seconds):
    write_bytes_atomic(path, tensors_bytes({"identity": identity, "wall_seconds": wall_seconds, **state}))


@contextlib.contextmanager
def said_where_interrupted(saved, epochs):
    """A stop signal inside the block says in the job's log which epoch the checkpoint holds, that
    is, where the next run goes on (scripting.logged writes the line)."""
    try:
        yield
    except Interrupted as stop:
        done = saved[0]
        resumes = f"the next run resumes from the checkpoint of epoch {done}"
        if done == 0:
            stop.detail = f"in epoch 1 of {epochs}: no checkpoint yet, the next run starts afresh"
        elif done == epochs:
            stop.detail = f"after its last epoch, writing its outputs: {resumes}"
        else:
            stop.detail = f"in epoch {done + 1} of {epochs}: {resumes}"
        raise


def load_problem(error):
    """torch.load's error in a few words (its messages go on with a page of advice)."""
    if str(error).startswith("Weights only load failed"):
        return "torch.load(weights_only=True) refused it: not only tensors and plain data"
    return " ".join(str(error).split()).split(". ")[0]


def load_checkpoint(path, identity, log):
    """The checkpoint at `path` if it was saved for this very run, else None (then the run starts
    afresh, which gives the same result, only later)."""
    if not path.exists():
        return None
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)  # RNG states stay on the CPU
    except CHECKPOINT_ERRORS as error:
        log(f"ignoring unreadable checkpoint {path} ({load_problem(error)}); starting afresh")
        return None
    if not isinstance(checkpoint, dict) or checkpoint.get("identity") != identity:
        log(f"ignoring checkpoint {path}: saved for other settings or data; starting afresh")
        return None
    log(f"resumed from checkpoint at epoch {checkpoint['epoch']}")
    return checkpoint


def run_training(
    dataset, data_file, settings, threads, history_path, metrics_path, model_path, log, events_dir=None, run=None
):
    """Train one run and write its outputs, each atomically. Resumes from the run's checkpoint if a
    killed job left one, and removes it once the outputs are complete. events_dir: where its TensorBoard
    events go (None: nowhere); run: its name (paths.RUN_NAME) for its record."""
    started = time.perf_counter()
    check_device(settings.device)
    torch.set_num_threads(threads)
    splits, attributes = read_splits(data_file)
    mean, std = float(attributes["pixel_mean"]), float(attributes["pixel_std"])
    data = {name: to_tensor_split(split, mean, std, settings.device) for name, split in splits.items()}
    data_sha256 = sha256_file(data_file)  # hashed once: the checkpoint's identity and metrics.json
    checkpoint, identity = checkpoint_path(model_path), run_identity(dataset, settings, threads, data_sha256)
    resume = load_checkpoint(checkpoint, identity, log)
    earlier_seconds = resume["wall_seconds"] if resume else 0.0
    events = open_events(events_dir, resume["history"] if resume else [], log)

    saved = [resume["epoch"] if resume else 0]  # the epoch in the checkpoint on disk

    def save(state):
        save_checkpoint(checkpoint, identity, state, earlier_seconds + time.perf_counter() - started)
        saved[0] = state["epoch"]
        events.add_epochs(state["history"])  # after the checkpoint: a rerun rewrites the events from it

    with said_where_interrupted(saved, settings.epochs):
        history, outcome, model = train(settings, data, int(attributes["n_classes"]), log, resume, save)
        record = run_record(
            dataset,
            settings,
            history,
            outcome,
            data_file,
            data_sha256,
            attributes,
            earlier_seconds + time.perf_counter() - started,
            threads,
            resume["epoch"] if resume else None,
            run=run,
        )
        events.finish(history, record)  # before the outputs: a run with outputs has all its events
        write_bytes_atomic(model_path, tensors_bytes(model.state_dict()))
        write_text_atomic(history_path, history_csv(history))
        write_json_atomic(metrics_path, record)
    checkpoint.unlink(missing_ok=True)
    return record


def train_run(wildcards, settings, threads, data_file, outputs, events_dir, log):
    """What rule train_run does: one run from its wildcards (text, as in its paths: dataset, model, seed,
    lr, momentum, split) and its settings (batch_size, epochs, chance_patience, device) to its outputs
    (`outputs`: the rule's named files)."""
    run = RunSettings(
        model=wildcards["model"],
        seed=int(wildcards["seed"]),
        lr=float(wildcards["lr"]),
        momentum=float(wildcards["momentum"]),
        **settings,
    )
    name = RUN_NAME.format(**wildcards)
    return run_training(
        wildcards["dataset"],
        data_file,
        run,
        threads,
        outputs.history,
        outputs.metrics,
        outputs.model,
        log,
        events_dir,
        name,
    )
