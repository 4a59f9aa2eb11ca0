"""One training job from its HDF5 file to its three outputs: history.csv, metrics.json, model.pt."""

import csv
import io
import json
import os
import platform
import time
from dataclasses import asdict

import h5py
import numpy as np
import torch

from .datasets import read_splits
from .files import atomic_path, sha256_file, write_json_atomic, write_text_atomic
from .training import best_epoch, to_tensor_split, train

HISTORY_COLUMNS = ("epoch", "train_loss", "train_error", "valid_loss", "valid_error", "seconds")


def library_versions():
    return {"python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__, "h5py": h5py.__version__}


def host_record(environ=os.environ):
    """Where the run trained: the machine, and on a Slurm cluster the job that ran it."""
    return {"name": platform.node(), "slurm_job_id": environ.get("SLURM_JOB_ID")}


def history_csv(history):
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=HISTORY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return text.getvalue()


def run_record(dataset, settings, history, outcome, data_file, attributes, wall_seconds, threads):
    """Everything a reader needs to trust and reproduce the run (metrics.json)."""
    final, best = history[-1], best_epoch(history)
    return {
        "dataset": dataset, **asdict(settings), "threads": threads,
        "status": outcome["status"], "reason": outcome["reason"],
        "diverged_epoch": outcome["diverged_epoch"], "epochs_completed": len(history),
        "final": {key: final[key] for key in ("train_loss", "train_error", "valid_loss", "valid_error")},
        "best_valid": {"epoch": best["epoch"], "valid_error": best["valid_error"],
                       "valid_loss": best["valid_loss"]},
        "test": outcome["test"], "chance_error": outcome["chance_error"],
        "wall_seconds": wall_seconds, "versions": library_versions(), "host": host_record(),
        "data": {"file": str(data_file), "sha256": sha256_file(data_file),
                 "source_sha256": json.loads(attributes["source_sha256"])},
    }


def run_training(dataset, data_file, settings, threads, history_path, metrics_path, model_path, log):
    """Train one run and write its outputs, each atomically."""
    started = time.perf_counter()
    torch.set_num_threads(threads)
    splits, attributes = read_splits(data_file)
    mean, std = float(attributes["pixel_mean"]), float(attributes["pixel_std"])
    data = {name: to_tensor_split(split, mean, std, settings.device) for name, split in splits.items()}
    history, outcome, model = train(settings, data, int(attributes["n_classes"]), log)
    record = run_record(dataset, settings, history, outcome, data_file, attributes,
                        time.perf_counter() - started, threads)
    with atomic_path(model_path) as temporary:
        torch.save(model.state_dict(), temporary)
    write_text_atomic(history_path, history_csv(history))
    write_json_atomic(metrics_path, record)
    return record
