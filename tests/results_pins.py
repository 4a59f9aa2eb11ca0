"""The numbers that pin what each stage of the workflow makes, so that tests/test_results_versions.py
can tell when a stage's results changed while its version (src/digitstudy/versions.py) did not.

Each stage's function does a tiny, deterministic piece of the stage's work through the very library
functions that its rules' scripts call (workflow/scripts/*.py, with the arguments the rules give), in a
temporary folder, and returns flat {name: value} numbers that characterise what it made. A stage's
inputs are written here, in the form the stage before it writes them, rather than made by that stage's
functions: a stage's numbers then move with its own library code alone, and a failure names the one
version to raise.

    python tests/results_pins.py                  # pin every stage in tests/pinned_results.json
    python tests/results_pins.py data training    # pin these stages only
"""

import contextlib
import hashlib
import json
import math
import re
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch
from PIL import Image

from digitstudy import paths
from digitstudy.aggregate import write_choice, write_experiment_tables, write_runs_table
from digitstudy.compare import write_comparison
from digitstudy.confirm import prediction_files_by_model, write_replicate_tables, write_round_decisions
from digitstudy.costs import write_cost_tables
from digitstudy.datasets import SPLITS, build_base, build_pairs, read_splits, write_splits
from digitstudy.error_analysis import write_digit_pairs_table, write_error_tables
from digitstudy.fetch import fetch_dataset
from digitstudy.figures import (
    plot_comparison,
    plot_curves,
    plot_errors,
    plot_grid,
    plot_pair_samples,
    plot_replicates,
    plot_weights,
)
from digitstudy.files import read_json, sha256_file, write_json_atomic
from digitstudy.idx import IDX_FILES
from digitstudy.models import build_model
from digitstudy.predictions import NO_PREDICTION, write_predictions, write_round_predictions
from digitstudy.runs import train_run
from digitstudy.study import looks, write_replicate_plan
from digitstudy.summary import write_summary
from digitstudy.versions import RESULTS_VERSIONS
from helpers import learnable_split, predictions, write_idx_dataset


PINS_FILE = Path(__file__).with_name("pinned_results.json")
# Floats that numpy or torch compute may differ in their last bits between CPUs (SIMD kernels of other
# widths sum in another order); digits past these are not results.
SIGNIFICANT_DIGITS = 10
TOLERANCE = {"relative": 1e-6, "absolute": 1e-9}
# Training's floats moved 4.8e-6 (relative) when torch ran its AVX2 kernels instead of AVX-512 on one
# machine, and an SGD run carries such a difference on: 1e-4 leaves room for other CPUs.
TOLERANCES = {**{stage: TOLERANCE for stage in RESULTS_VERSIONS}, "training": {**TOLERANCE, "relative": 1e-4}}
SHOWN_CHANGES = 3  # the changed numbers a failure names


def ignore(message):
    """The log of a library call whose messages no number reads."""


# --- numbers that read the same on every machine ------------------------------------------------------


def significant(value, digits=SIGNIFICANT_DIGITS):
    return float(f"{value:.{digits}g}")


def array_sha256(array):
    """SHA-256 of an array's dtype, shape and little-endian bytes: equal arrays give equal digests on
    any machine, and an array of another dtype or shape never the same one."""
    array = np.asarray(array)
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    digest = hashlib.sha256(f"{little.dtype.str} {little.shape} ".encode())
    digest.update(little.tobytes())
    return digest.hexdigest()


DECIMAL = re.compile(r"(?<![\w.])-?\d*\.\d+(?:[eE][-+]?\d+)?(?![\w.])")


def stable_number(match):
    """A decimal of more than SIGNIFICANT_DIGITS digits rounded to that many, marked '~'; a shorter one
    as written, so that a change of form ('1.0' to '1') is still a change."""
    text = match.group()
    digits = re.sub(r"[eE].*", "", text).replace("-", "").replace(".", "").lstrip("0")
    return text if len(digits) <= SIGNIFICANT_DIGITS else f"{float(text):.{SIGNIFICANT_DIGITS}g}~"


def text_sha256(path):
    """SHA-256 of a text file with its long decimals rounded (stable_number): a float computed a last
    bit apart on another CPU hashes the same, every other character as written."""
    return hashlib.sha256(DECIMAL.sub(stable_number, Path(path).read_text()).encode()).hexdigest()


def png_sha256(path):
    """SHA-256 of a PNG's decoded pixels, not of its bytes: the same picture compressed by another zlib
    build, or saved with other metadata (the PNG names matplotlib's version), is the same figure."""
    with Image.open(path) as image:
        return array_sha256(np.asarray(image.convert("RGBA")))


@contextlib.contextmanager
def torch_threads(count):
    """torch on `count` threads inside the block (the rules set their job's threads; the thread count
    can change float sums), as it was after it."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# --- inputs in the form the stage before writes them -------------------------------------------------

SOURCE_SHA256 = {name: f"{index:x}" * 64 for index, name in enumerate(IDX_FILES, 10)}


def write_data_file(path, sizes, n_classes=4, height=12, width=10, seed=0, pairs=False, mislabelled=0.0):
    """A dataset's HDF5 file as prepare_idx writes one (make_pairs' with `pairs`), of learnable images;
    another `seed` redraws train and valid and keeps the test images, as a replicate's split does.
    mislabelled: the fraction of each split's labels redrawn at random."""
    drawn = [
        learnable_split(count, split + (seed if name != "test" else 0), height, width, n_classes)
        for split, (name, count) in enumerate(zip(SPLITS, sizes))
    ]
    for index, split in enumerate(drawn):
        draw = np.random.default_rng([seed, index])
        redrawn = draw.random(len(split.labels)) < mislabelled
        split.labels[redrawn] = draw.integers(0, n_classes, redrawn.sum())
    if pairs:
        for split in drawn:
            split.digits = np.stack([split.labels // 2, split.labels - split.labels // 2], axis=1)
    attributes = {"dataset": path.stem, "source_sha256": SOURCE_SHA256, "split_seed": seed}
    write_splits(path, dict(zip(SPLITS, drawn)), n_classes, attributes)
    return path


def pattern(tensor, name, phase):
    """Values spread over [-1, 1) by their position and `phase` (a Weyl sequence, in integer arithmetic:
    the same on every machine, and no pattern a layer could line up with), with the scale of an
    initialisation (running variances positive)."""
    steps = (torch.arange(tensor.numel()) * 2654435761 + phase * 40503 + 1) % 2**32
    wave = (steps.double() / 2**31 - 1).reshape(tensor.shape)
    if name.endswith("running_var"):
        return 1 + wave**2 / 2
    return wave * (2 / tensor[0].numel()) ** 0.5 if tensor.dim() > 1 else wave / 10


def write_model(path, model_name, image_shape, n_classes, phase):
    """A run's model.pt whose weights are set by pattern(), not trained: its predictions then pin the
    evaluation (forward pass, standardisation, batches), not training, which is a stage of its own.
    phase None: every weight NaN, as a diverged run may leave them."""
    model = build_model(model_name, image_shape, n_classes)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                tensor.copy_(pattern(tensor, name, phase) if phase is not None else torch.full_like(tensor, math.nan))
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    return path


# --- data: fetch_idx, prepare_idx, make_pairs ----------------------------------------------------------

BASE_SIZES = {"train": 150, "valid": 50, "test": 40}
PAIRS_SIZES = {"train": 120, "valid": 40, "test": 40}
SPLIT_SEED, REPLICATE_SPLIT_SEED, PAIR_SEED = 3, 4, 11


def data_numbers(folder):
    """fetch_idx, then prepare_idx on the study's split and on a replicate's, and make_pairs, from a small
    base dataset in MNIST's format: the fetched files' checksums, and what training reads of each file."""
    source, raw = folder / "source", folder / "raw"
    checksums = write_idx_dataset(source, counts=(240, 60), n_classes=4, height=12, width=10, seed=5)
    fetch_dataset(name="digits", idx={"sha256": checksums}, folder=source, out_dir=raw, log=ignore)
    numbers = {f"fetched {name} sha256": sha256_file(raw / name) for name in IDX_FILES}
    files = {name: folder / f"{name}.h5" for name in ("digits", "digits_split4", "pairs")}
    build_base(raw, files["digits"], "digits", BASE_SIZES, split_seed=SPLIT_SEED, test_seed=SPLIT_SEED)
    build_base(raw, files["digits_split4"], "digits", BASE_SIZES, split_seed=REPLICATE_SPLIT_SEED, test_seed=SPLIT_SEED)
    build_pairs(raw, files["pairs"], "pairs", "digits", PAIRS_SIZES, SPLIT_SEED, PAIR_SEED, test_seed=SPLIT_SEED)
    for name, path in files.items():
        numbers.update(data_file_numbers(name, path))
    return numbers


def attribute_value(value):
    """An HDF5 attribute as a pinned number: floats to SIGNIFICANT_DIGITS (the pixel statistics are numpy
    sums), arrays as text."""
    if isinstance(value, (float, np.floating)):
        return significant(float(value))
    if isinstance(value, np.ndarray):
        return " ".join(str(item) for item in value.tolist())
    return int(value) if isinstance(value, np.integer) else str(value)


def data_file_numbers(name, path):
    """A data file's attributes, and each split's size, class counts and arrays (as read_splits reads
    them: the HDF5 bytes themselves depend on the HDF5 library's version)."""
    splits, attributes = read_splits(path)
    numbers = {f"{name} {key}": attribute_value(value) for key, value in attributes.items()}
    for split_name, split in splits.items():
        numbers[f"{name} {split_name} size"] = len(split.labels)
        numbers[f"{name} {split_name} class counts"] = " ".join(str(count) for count in np.bincount(split.labels))
        for array in ("images", "labels", "digits"):
            if getattr(split, array) is not None:
                numbers[f"{name} {split_name} {array} sha256"] = array_sha256(getattr(split, array))
    return numbers


# --- training: train_run -------------------------------------------------------------------------------

TRAINING_SETTINGS = {"batch_size": 32, "epochs": 2, "chance_patience": 5, "device": "cpu"}
# (model, lr, momentum): each model of the study, and a learning rate at which a run diverges.
TRAINING_RUNS = (
    ("ann", 0.05, 0.9),
    ("cnn", 0.05, 0.9),
    ("cnn_dropout", 0.05, 0.9),
    ("lenet5", 0.05, 0.9),
    ("ann", 1000.0, 0.9),
)
HISTORY_NUMBERS = ("train_loss", "train_error", "valid_loss", "valid_error")  # not its seconds


def training_numbers(folder):
    """Each of TRAINING_RUNS trained for two epochs on a few hundred small images, on one thread, as
    rule train_run trains: its history, record and saved weights."""
    # A third of the labels redrawn: the bars alone would take the losses to 0 within an epoch, where
    # their digits say nothing of the training.
    data_file = write_data_file(folder / "digits.h5", (320, 96, 96), height=16, width=16, mislabelled=1 / 3)
    numbers = {}
    with torch_threads(1):
        for model, lr, momentum in TRAINING_RUNS:
            wildcards = {"dataset": "digits", "model": model, "seed": "3", "split": ""}
            wildcards.update(lr=paths.format_number(lr), momentum=paths.format_number(momentum))
            run_dir = folder / model / paths.RUN_NAME.format(**wildcards)
            outputs = SimpleNamespace(**{name.split(".")[0]: run_dir / name for name in paths.RUN_FILES})
            train_run(wildcards, TRAINING_SETTINGS, 1, data_file, outputs, events_dir=None, log=ignore)
            numbers.update(run_numbers(f"{model} {run_dir.name}", outputs))
    return numbers


def run_numbers(name, outputs):
    """A run's status, losses and errors per epoch and on the test images, and its saved weights. Of a
    diverged run its status and where it stopped: the numbers of an overflowing run are chaos, which
    the last bit of one float on another CPU can change."""
    record = read_json(outputs.metrics)
    keys = ("status", "reason", "epochs_completed", "diverged_epoch", "chance_error")
    numbers = {f"{name} {key}": record[key] for key in keys}
    if record["status"] != "ok":
        return numbers
    numbers.update({f"{name} test {key}": value for key, value in record["test"].items()})
    numbers.update({f"{name} best_valid {key}": value for key, value in record["best_valid"].items()})
    for row in pd.read_csv(outputs.history).to_dict("records"):
        numbers.update({f"{name} epoch {row['epoch']} {key}": float(row[key]) for key in HISTORY_NUMBERS})
    return {**numbers, **weights_numbers(name, outputs.model)}


def weights_numbers(name, model_path):
    """The names and shapes of a saved model's tensors, and the sum and sum of squares of its weights
    (in float64)."""
    state = torch.load(model_path, map_location="cpu", weights_only=True)
    weights = torch.cat([tensor.double().flatten() for tensor in state.values() if tensor.is_floating_point()])
    layout = ";".join(f"{key}:{'x'.join(map(str, tensor.shape))}" for key, tensor in state.items())
    return {
        f"{name} weights layout": layout,
        f"{name} weights sum": weights.sum().item(),
        f"{name} weights sum of squares": (weights**2).sum().item(),
    }


# --- predictions: predict_test, predict_round --------------------------------------------------------

PREDICTED_MODELS = ("ann", "cnn", "lenet5")
PREDICTED_SHAPE, PREDICTED_CLASSES = (1, 16, 16), 4


def predictions_numbers(folder):
    """predict_test (the chosen of two grid runs) and predict_round (three replicates: on the study's
    split, on another split, and one whose weights are NaN) of each of PREDICTED_MODELS, from weights set
    by write_model, on one thread (the rules set their jobs' threads)."""
    study = write_data_file(folder / "digits.h5", (200, 50, 300), height=16, width=16)
    replicate = write_data_file(folder / "digits_split1.h5", (200, 50, 300), height=16, width=16, seed=7)
    numbers = {}
    with torch_threads(1):
        for model in PREDICTED_MODELS:
            numbers.update(chosen_prediction_numbers(folder / model, model, study))
            numbers.update(round_prediction_numbers(folder / model, model, [study, replicate, study]))
    return numbers


def chosen_prediction_numbers(folder, model, data_path):
    """predict_test's test.csv: its classes exactly, its probabilities summed."""
    runs = ["seed1_lr0.01_mom0.9", "seed1_lr0.1_mom0.9"]
    model_paths = [
        write_model(folder / run / "model.pt", model, PREDICTED_SHAPE, PREDICTED_CLASSES, phase)
        for phase, run in enumerate(runs)
    ]
    choice_path = folder / "choice.json"
    write_json_atomic(choice_path, {"dataset": "digits", "model": model, "chosen": {"run": runs[1]}})
    write_predictions(choice_path, model_paths, runs, data_path, folder / "test.csv")
    frame = pd.read_csv(folder / "test.csv")
    classes = frame[["index", "label", "prediction", "correct"]].to_numpy()
    return {
        f"{model} test.csv classes sha256": array_sha256(classes.astype(np.int64)),
        f"{model} test.csv error": 1 - frame["correct"].mean(),
        f"{model} test.csv p_label sum": frame["p_label"].sum(),
        f"{model} test.csv p_prediction sum": frame["p_prediction"].sum(),
    }


def round_prediction_numbers(folder, model, data_paths):
    """predict_round's round CSV (classes only: its text, exactly) and its count of NO_PREDICTION."""
    runs = [f"seed{index + 2}_lr0.1_mom0.9_split{index + 1}" for index in range(len(data_paths))]
    phases = [*range(2, len(runs) + 1), None]
    model_paths = [
        write_model(folder / run / "model.pt", model, PREDICTED_SHAPE, PREDICTED_CLASSES, phase)
        for run, phase in zip(runs, phases)
    ]
    frame = write_round_predictions(model, model_paths, data_paths, runs, folder / "round1.csv")
    return {
        f"{model} round1.csv sha256": text_sha256(folder / "round1.csv"),
        f"{model} round1.csv no prediction": int((frame[runs] == NO_PREDICTION).to_numpy().sum()),
    }


# --- tables: every rule that writes a table, a choice, a plan, decisions or the summary ----------------

TASK = "twodigit"
TASK_MODELS = {"ann": 0.09, "cnn": 0.06, "lenet5": 0.05}  # each model's typical validation error
TASK_CLASSES, VALID_IMAGES, TEST_IMAGES = 7, 1000, 160
GRID = {"seed": 1, "lr": (0.01, 0.1), "momentum": (0.0, 0.9)}
SEED_STUDY = {"seeds": (1, 2, 3), "lr": 0.01, "momentum": 0.9}
CONFIRM = {"first": 3, "step": 2, "max": 5, "alpha": 0.05, "delta": 0.5}
STUDY_SPLIT_SEED, EPOCHS = 0, 4
# The grid runs that went wrong, (model, lr, momentum): why they diverged, or how far worse they ended;
# and the replicate that diverged (model, replicate).
GRID_PROBLEMS = {
    ("ann", 0.1, 0.9): "non-finite loss",
    ("cnn", 0.1, 0.9): "validation error at chance level (0.857) for 2 epochs",
}
FAR_WORSE = {("lenet5", 0.01, 0.0): 0.25}
DIVERGED_REPLICATE = ("lenet5", 2)


def tables_numbers(folder):
    """A synthetic task of three models in the workflow's layout (grid, seed study, replicates in rounds,
    test predictions), from which collect_runs, choose, plan_replicates, make_tables, decide_round,
    analyse_errors, tabulate_digit_pairs, tabulate_replicates, compare_models, tabulate_costs and
    write_summary make their files: the hash of each file's text. In the study folder, as the rules
    run: prediction_files_by_model and the costs read the workflow's relative paths."""
    with contextlib.chdir(folder):
        experiments = {model: experiment_tables(model) for model in TASK_MODELS}
        decisions = confirmation({model: read_json(plan) for model, (_, plan) in experiments.items()})
        replicate_tables(decisions)
        for model in TASK_MODELS:
            error_tables(model)
        comparison_tables()
        study_tables(experiments)
        summary()
        outputs = [
            path
            for path in Path("results").rglob("*")
            if path.is_file() and path.parts[1] not in ("runs", "predictions")
        ]
        return {str(path): text_sha256(path) for path in sorted(outputs)}


def run_error(model, run, extra=0.0):
    """A run's validation error: its model's, moved by a seeded draw of the run, in whole images."""
    seed, lr, momentum, split_seed = run
    draw = np.random.default_rng(
        [list(TASK_MODELS).index(model), seed, round(lr * 1000), round(momentum * 10), split_seed or 0]
    )
    error = TASK_MODELS[model] + extra + draw.normal(0, 0.015)
    return round(max(error, 0.005) * VALID_IMAGES) / VALID_IMAGES


def run_problem(model, run):
    """Why a run diverged (GRID_PROBLEMS, DIVERGED_REPLICATE), or None."""
    seed, lr, momentum, split_seed = run
    if split_seed is None:
        return GRID_PROBLEMS.get((model, lr, momentum))
    return "non-finite loss" if (model, split_seed) == DIVERGED_REPLICATE else None


def metrics_record(model, run):
    """A run's metrics.json as train_run writes it, the fields the tables read: run_problem's runs
    diverged after two epochs (a non-finite loss is null, as in JSON), FAR_WORSE's ended far above."""
    seed, lr, momentum, split_seed = run
    problem = run_problem(model, run)
    lost = problem == "non-finite loss"
    error = run_error(model, run, FAR_WORSE.get((model, lr, momentum), 0.0) if split_seed is None else 0.0)
    error = 0.857 if problem and not lost else error
    completed = 2 if problem else EPOCHS
    final = {"train_loss": None if lost else 2 * error + 0.01, "train_error": error / 2}
    final.update(valid_loss=None if lost else 3 * error, valid_error=error)
    return {
        "dataset": TASK,
        "model": model,
        "run": paths.run_name(*run),
        "seed": seed,
        "lr": lr,
        "momentum": momentum,
        "batch_size": 32,
        "epochs": EPOCHS,
        "chance_error": 0.857,
        "split_seed": STUDY_SPLIT_SEED if split_seed is None else split_seed,
        "threads": 1,
        "status": "diverged" if problem else "ok",
        "reason": problem,
        "diverged_epoch": completed if problem else None,
        "epochs_completed": completed,
        "final": final,
        "best_valid": {"epoch": completed - 1, "valid_error": error, "valid_loss": final["valid_loss"]},
        "test": {"loss": None if lost else 3 * error + 0.002, "error": error + 0.003},
        "wall_seconds": 10.5 * completed,
    }


def write_run(model, run):
    """A run's metrics.json and the benchmark file of its job; returns the metrics' path."""
    path = paths.run_path(f"{paths.RUN_DIR}/metrics.json", TASK, model, run)
    record = metrics_record(model, run)
    write_json_atomic(path, record)
    write_benchmark(paths.run_path(paths.TRAIN_BENCHMARK, TASK, model, run), record["wall_seconds"] + 1.5)
    return path


def write_benchmark(path, seconds):
    """A Snakemake benchmark file of a job that took `seconds`, most of them on the CPU."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    minutes, rest = divmod(round(seconds), 60)
    clock = f"{minutes // 60}:{minutes % 60:02d}:{rest:02d}"
    Path(path).write_text(f"s\th:m:s\tmax_rss\tcpu_time\n{seconds}\t{clock}\t100\t{0.9 * seconds}\n")


def grid_runs():
    return [(GRID["seed"], lr, momentum, None) for lr in GRID["lr"] for momentum in GRID["momentum"]]


def seed_runs():
    return [(seed, SEED_STUDY["lr"], SEED_STUDY["momentum"], None) for seed in SEED_STUDY["seeds"]]


def experiment(model):
    """The wildcards of an experiment's files."""
    return {"dataset": TASK, "model": model}


def named(outputs, **tables):
    """A rule's named outputs, as its script reads snakemake.output: `outputs` ({name: path}) as they are,
    and each of `tables` (name=path without its suffix) as a table's three files, name_csv, name_md and
    name_html."""
    files = {f"{name}_{form}": f"{path}.{form}" for name, path in tables.items() for form in ("csv", "md", "html")}
    return SimpleNamespace(**files, **outputs)


def experiment_tables(model):
    """choose, plan_replicates and make_tables of one experiment; returns (choice, plan) paths."""
    grid, seeds = [write_run(model, run) for run in grid_runs()], [write_run(model, run) for run in seed_runs()]
    choice, plan = (pattern.format(**experiment(model)) for pattern in (paths.CHOICE, paths.REPLICATE_PLAN))
    write_choice(TASK, model, grid, seeds, choice)
    write_replicate_plan(choice, GRID["seed"], STUDY_SPLIT_SEED, CONFIRM["max"], plan)
    tables = named(
        {}, seeds=paths.SEEDS_TABLE.format(**experiment(model)), grid=paths.GRID_TABLE.format(**experiment(model))
    )
    write_experiment_tables(TASK, model, seeds, grid, choice, tables)
    return choice, plan


def confirmation(plans):
    """The rounds of the confirmation: the replicates of the models still undecided trained (their
    metrics.json) and predicted (predict_round's CSV), then decide_round; returns the last decisions'
    path."""
    sizes, models, decisions = [0, *looks(CONFIRM["first"], CONFIRM["step"], CONFIRM["max"])], list(plans), None
    for round_number in range(1, len(sizes)):
        for model in models:
            runs = [tuple(run) for run in plans[model]["runs"][sizes[round_number - 1] : sizes[round_number]]]
            write_round(model, round_number, runs)
        files = sorted(Path("results/predictions").rglob("round*.csv"))
        decisions = paths.ROUND_DECISIONS.format(dataset=TASK, round=round_number)
        by_model = prediction_files_by_model([str(path) for path in files], list(TASK_MODELS))
        models = write_round_decisions(TASK, round_number, by_model, CONFIRM, decisions)["next"]
        if not models:
            break
    return decisions


def task_test_labels():
    """The test images' labels and digits of the task (a pairs dataset: the sum of two digits)."""
    labels = np.random.default_rng(0).integers(0, TASK_CLASSES, TEST_IMAGES)
    return labels, np.stack([labels // 2, labels - labels // 2], axis=1)


def predicted(labels, error, draw):
    """`labels` predicted wrong (the next class) on round(error x images) images that `draw` picks."""
    wrong = draw.permutation(len(labels))[: round(error * len(labels))]
    guesses = labels.copy()
    guesses[wrong] = (labels[wrong] + 1) % TASK_CLASSES
    return guesses


def write_round(model, round_number, runs):
    """A round's replicates of one model: their metrics.json and predict_round's CSV (a diverged
    replicate without predictions, as NO_PREDICTION)."""
    labels, _ = task_test_labels()
    frame = pd.DataFrame({"index": np.arange(TEST_IMAGES), "label": labels})
    for run in runs:
        record = read_json(write_run(model, run))
        draw = np.random.default_rng([list(TASK_MODELS).index(model), run[0]])
        diverged = record["status"] != "ok"
        frame[record["run"]] = (
            np.full(TEST_IMAGES, NO_PREDICTION) if diverged else predicted(labels, record["test"]["error"], draw)
        )
    path = paths.ROUND_PREDICTIONS.format(dataset=TASK, model=model, round=round_number)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def replicate_metric_paths(model):
    """The metrics.json of a model's replicates that trained, in replicate order."""
    plan = read_json(paths.REPLICATE_PLAN.format(**experiment(model)))
    found = [paths.run_path(f"{paths.RUN_DIR}/metrics.json", TASK, model, tuple(run)) for run in plan["runs"]]
    return [path for path in found if Path(path).exists()]


def replicate_tables(decisions):
    """tabulate_replicates of the task."""
    files = [str(path) for path in sorted(Path("results/predictions").rglob("round*.csv"))]
    outputs = named(
        {"decisions": paths.DECISIONS.format(dataset=TASK)},
        replicates=paths.REPLICATES_TABLE.format(dataset=TASK),
        variance=paths.VARIANCE_TABLE.format(dataset=TASK),
    )
    write_replicate_tables(
        dataset=TASK,
        metric_paths=[path for model in TASK_MODELS for path in replicate_metric_paths(model)],
        seed_metric_paths=[
            paths.run_path(f"{paths.RUN_DIR}/metrics.json", TASK, model, run)
            for model in TASK_MODELS
            for run in seed_runs()
        ],
        prediction_files=prediction_files_by_model(files, list(TASK_MODELS)),
        decisions_path=decisions,
        outputs=outputs,
    )


def error_tables(model):
    """predict_test's test.csv of the chosen run (written here), then analyse_errors and
    tabulate_digit_pairs of it."""
    labels, digits = task_test_labels()
    choice = read_json(paths.CHOICE.format(**experiment(model)))
    draw = np.random.default_rng([list(TASK_MODELS).index(model), 99])
    test = paths.PREDICTIONS.format(**experiment(model))
    Path(test).parent.mkdir(parents=True, exist_ok=True)
    predictions(labels, predicted(labels, choice["chosen"]["test_error"], draw), digits).to_csv(test, index=False)
    data = Path(paths.STUDY_DATASET_FILE.format(dataset=TASK))
    if not data.exists():
        data.parent.mkdir(parents=True, exist_ok=True)
        write_data_file(data, (40, 20, TEST_IMAGES), n_classes=TASK_CLASSES, height=16, width=16, pairs=True)
    table = paths.CLASS_ERRORS_TABLE.format(**experiment(model))
    outputs = SimpleNamespace(
        class_csv=f"{table}.csv",
        class_html=f"{table}.html",
        confusion_csv=paths.CONFUSION_TABLE.format(**experiment(model)),
    )
    write_error_tables(f"{TASK} / {model}", TASK, test, data, outputs)
    pairs = paths.DIGIT_PAIRS_TABLE.format(**experiment(model))
    write_digit_pairs_table(
        f"{TASK} / {model}", test, SimpleNamespace(csv=f"{pairs}.csv", md=f"{pairs}.md", html=f"{pairs}.html")
    )


def task_files(pattern):
    return [pattern.format(**experiment(model)) for model in TASK_MODELS]


def comparison_tables():
    """compare_models of the task."""
    outputs = named(
        {}, chosen=paths.CHOSEN_TABLE.format(dataset=TASK), pairwise=paths.PAIRWISE_TABLE.format(dataset=TASK)
    )
    write_comparison(
        dataset=TASK,
        choice_paths=task_files(paths.CHOICE),
        seed_paths=task_files(f"{paths.SEEDS_TABLE}.csv"),
        prediction_paths=task_files(paths.PREDICTIONS),
        replicates_path=f"{paths.REPLICATES_TABLE}.csv".format(dataset=TASK),
        decisions_path=paths.DECISIONS.format(dataset=TASK),
        outputs=outputs,
    )


def study_tables(experiments):
    """collect_runs and tabulate_costs of every run."""
    metrics = sorted(str(path) for path in Path(paths.RUNS_ROOT).rglob("metrics.json"))
    write_runs_table(metrics, f"{paths.RUNS_TABLE}.csv", f"{paths.RUNS_TABLE}.html")
    data_benchmarks = [
        paths.DATA_BENCHMARK.format(dataset=TASK, split=paths.split_suffix(seed)) for seed in (None, 1, 2, 3)
    ]
    for index, path in enumerate(data_benchmarks):
        write_benchmark(path, 20.0 + index)
    outputs = named({}, cost=paths.COST_TABLE, runs=paths.RUN_COSTS_TABLE, problems=paths.PROBLEM_RUNS_TABLE)
    write_cost_tables(
        f"{paths.RUNS_TABLE}.csv", [choice for choice, _ in experiments.values()], data_benchmarks, outputs
    )


def summary():
    """write_summary of the study, with the params its rule gives."""
    inputs = SimpleNamespace(
        choices=task_files(paths.CHOICE),
        grids=task_files(f"{paths.GRID_TABLE}.csv"),
        variance=[f"{paths.VARIANCE_TABLE}.csv".format(dataset=TASK)],
        pairwise=[f"{paths.PAIRWISE_TABLE}.csv".format(dataset=TASK)],
        runs=f"{paths.RUNS_TABLE}.csv",
        cost=f"{paths.COST_TABLE}.csv",
        problems=f"{paths.PROBLEM_RUNS_TABLE}.csv",
    )
    study = {
        "name": "pins",
        "seeds": list(SEED_STUDY["seeds"]),
        "lr": SEED_STUDY["lr"],
        "momentum": SEED_STUDY["momentum"],
        "grid_seed": GRID["seed"],
        "grid_lr": list(GRID["lr"]),
        "grid_momentum": list(GRID["momentum"]),
        "confirm": {key: CONFIRM[key] for key in ("first", "step", "max", "alpha")},
        "data": {"n_train": 40, "n_valid": VALID_IMAGES, "n_test": TEST_IMAGES, "split_seed": STUDY_SPLIT_SEED},
        "epochs": {f"{TASK} / {model}": EPOCHS for model in TASK_MODELS},
    }
    outputs = SimpleNamespace(markdown=paths.SUMMARY, html=paths.REPORT_SUMMARY, findings=paths.REPORT_FINDINGS)
    write_summary(inputs, study, [TASK], [TASK], outputs, report_href=None)


# --- figures: every plotting rule ----------------------------------------------------------------------

DPI = 40  # small pictures draw fast; every line and label is still drawn
FIGURE_SHAPE, FIGURE_CLASSES = (1, 16, 16), 4


def figures_numbers(folder):
    """Each plotting rule's figure from small inputs in the form the tables, predictions and data stages
    write them: the hash of each PNG's pixels."""
    with contextlib.chdir(folder):
        curves()
        grid()
        weights()
        errors()
        pair_samples()
        replicate_figures()
        return {str(path): png_sha256(path) for path in sorted(Path("results/plots").rglob("*.png"))}


FIGURE_EXPERIMENT = {"dataset": "digits", "model": "cnn"}


def history(epochs, scale, diverged_at=None):
    """A run's history.csv rows: losses and errors falling with the epochs; NaN losses from
    `diverged_at` on, as a run that diverged leaves them."""
    rows = []
    for epoch in range(1, epochs + 1):
        lost = diverged_at is not None and epoch >= diverged_at
        loss, error = scale / (epoch + 1), round(scale * 0.2 / epoch, 4)
        row = {"epoch": epoch, "train_loss": loss, "train_error": error, "valid_loss": 1.2 * loss}
        rows.append({**row, "valid_error": error + 0.01, "seconds": 2.5})
        if lost:
            rows[-1].update(train_loss=math.nan, valid_loss=math.nan)
    return pd.DataFrame(rows)


def curves():
    """plot_curves of three seeds, one of them diverged."""
    files = []
    for seed, (scale, diverged_at) in enumerate(((1.0, None), (1.1, None), (1.3, 3)), 1):
        path = Path(f"runs/seed{seed}/history.csv")
        path.parent.mkdir(parents=True, exist_ok=True)
        history(6, scale, diverged_at).to_csv(path, index=False)
        files.append(path)
    out = paths.CURVES_PLOT.format(**FIGURE_EXPERIMENT)
    plot_curves("digits / cnn", "cnn", [1, 2, 3], files, out, DPI)


def grid():
    """plot_grid of a grid with a chosen, a far worse, a chance-level and a non-finite run."""
    rows = []
    for index, (lr, momentum) in enumerate((lr, momentum) for lr in (0.01, 0.1, 0.5) for momentum in (0.0, 0.9)):
        error = 0.02 + 0.01 * index
        row = {"lr": lr, "momentum": momentum, "status": "ok", "reason": None, "diverged_epoch": None}
        row.update(valid_error=error, test_error=error + 0.002, valid_loss=3 * error, test_loss=3 * error + 0.01)
        rows.append({**row, "chosen": index == 0, "far_worse": index == 3})
    rows[4].update(status="diverged", reason="validation error at chance level (0.750) for 5 epochs", diverged_epoch=5)
    rows[5].update(status="diverged", reason="non-finite loss", diverged_epoch=2, valid_error=None, valid_loss=None)
    path = Path(f"{paths.GRID_TABLE}.csv".format(**FIGURE_EXPERIMENT))
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    plot_grid("digits / cnn", path, paths.GRID_PLOT.format(**FIGURE_EXPERIMENT), DPI)


def weights():
    """plot_weights of the chosen of two grid runs."""
    runs = ["seed1_lr0.01_mom0.9", "seed1_lr0.1_mom0.9"]
    models = [
        write_model(Path(f"runs/{run}/model.pt"), "cnn", FIGURE_SHAPE, FIGURE_CLASSES, phase)
        for phase, run in enumerate(runs)
    ]
    choice = Path(paths.CHOICE.format(**FIGURE_EXPERIMENT))
    write_json_atomic(choice, {**FIGURE_EXPERIMENT, "chosen": {"run": runs[1], "lr": 0.1, "momentum": 0.9}})
    data = figure_data()
    plot_weights(choice, models, runs, data, paths.WEIGHTS_PLOT.format(**FIGURE_EXPERIMENT), DPI)


def figure_data():
    """The experiment's data file (its test images and class count are what the figures read)."""
    path = Path(paths.STUDY_DATASET_FILE.format(dataset="digits"))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_data_file(path, (40, 20, 60), n_classes=FIGURE_CLASSES, height=16, width=16)
    return path


def errors():
    """plot_errors of predictions wrong on every fifth test image, with their class errors and
    confusion matrix as analyse_errors writes them."""
    splits, _ = read_splits(figure_data(), names=("test",))
    labels = splits["test"].labels
    guesses = np.where(np.arange(len(labels)) % 5 == 0, (labels + 1) % FIGURE_CLASSES, labels)
    test = Path(paths.PREDICTIONS.format(**FIGURE_EXPERIMENT))
    test.parent.mkdir(parents=True, exist_ok=True)
    predictions(labels, guesses).to_csv(test, index=False)
    matrix = np.zeros((FIGURE_CLASSES, FIGURE_CLASSES), dtype=np.int64)
    np.add.at(matrix, (labels, guesses), 1)
    classes = [str(label) for label in range(FIGURE_CLASSES)]
    confusion = Path(paths.CONFUSION_TABLE.format(**FIGURE_EXPERIMENT))
    pd.DataFrame(matrix, index=pd.Index(classes, name="true"), columns=classes).to_csv(confusion)
    counts, wrong = matrix.sum(axis=1), matrix.sum(axis=1) - np.diag(matrix)
    error = wrong / counts
    table = pd.DataFrame({"class": range(FIGURE_CLASSES), "n": counts, "errors": wrong, "error": error})
    class_errors = Path(f"{paths.CLASS_ERRORS_TABLE}.csv".format(**FIGURE_EXPERIMENT))
    table.assign(low=np.clip(error - 0.1, 0, 1), high=np.clip(error + 0.1, 0, 1)).to_csv(class_errors, index=False)
    inputs = SimpleNamespace(predictions=test, class_errors=class_errors, confusion=confusion, data=figure_data())
    outputs = SimpleNamespace(
        **{
            name: getattr(paths, f"{name.upper()}_PLOT").format(**FIGURE_EXPERIMENT)
            for name in ("class_errors", "confusion", "worst")
        }
    )
    plot_errors("digits", "cnn", inputs, outputs, DPI)


def pair_samples():
    """plot_pair_samples of a pairs dataset's training images."""
    path = write_data_file(
        Path("data/processed/pairs.h5"), (20, 4, 4), n_classes=FIGURE_CLASSES, height=16, width=32, pairs=True
    )
    plot_pair_samples("pairs", path, paths.SAMPLES_PLOT.format(dataset="pairs"), DPI)


# Each task's models: (lr, test error, replicates); twodigit's lenet5 lost a replicate to divergence.
FIGURE_TASKS = {
    "mnist": {"ann": (0.1, 0.021, 5), "cnn": (0.01, 0.013, 7)},
    "twodigit": {"cnn": (0.01, 0.034, 5), "lenet5": (0.1, 0.037, 5)},
}


def replicates_frame(dataset):
    """A task's replicates.csv as tabulate_replicates writes it."""
    rows = []
    for model, (lr, error, count) in FIGURE_TASKS[dataset].items():
        for replicate in range(1, count + 1):
            test_error = error + 0.001 * ((replicate * 7) % 5 - 2)
            row = {"dataset": dataset, "model": model, "replicate": replicate, "round": 1 + (replicate - 1) // 5}
            row.update(seed=1 + replicate, split_seed=replicate, lr=lr, momentum=0.9, status="ok", train_error=0.001)
            rows.append({**row, "valid_error": test_error, "test_error": test_error, "learned": True})
    runs = pd.DataFrame(rows)
    diverged = (runs["model"] == "lenet5") & (runs["replicate"] == 3)
    runs.loc[diverged, ["status", "valid_error", "test_error", "learned"]] = ["diverged", 0.9, 0.5, False]
    return runs


def variance_frame(runs, images=2000):
    """variance.csv of `runs`, as tabulate_replicates writes it: the mean with an interval whose
    standard error holds the replicates' spread and the sampling of `images` test images."""
    rows = []
    for model, group in runs.groupby("model", sort=False):
        errors = group["test_error"].astype(float)
        n, mean, sd = len(errors), errors.mean(), errors.std(ddof=1)
        se_images = math.sqrt(mean * (1 - mean) / images)
        se = math.sqrt(sd**2 / n + se_images**2)
        row = {"dataset": group["dataset"].iloc[0], "model": model, "lr": group["lr"].iloc[0], "momentum": 0.9, "n": n}
        row.update(test_error_mean=mean, test_error_sd=sd, test_error_se=se, test_error_se_images=se_images)
        row.update(test_error_low=max(mean - 2 * se, 0), test_error_high=min(mean + 2 * se, 1))
        row.update(valid_error_mean=group["valid_error"].mean(), learned=int(group["learned"].sum()))
        rows.append(
            {
                **row,
                "seed_n": 3,
                "seed_test_error_sd": 0.001,
                "sd_ratio": sd / 0.001,
                "sd_ratio_low": sd / 0.002,
                "sd_ratio_high": sd / 0.0005,
            }
        )
    return pd.DataFrame(rows)


def replicate_figures():
    """plot_replicates of each task, and plot_comparison of both."""
    tables = {}
    for dataset in FIGURE_TASKS:
        runs = replicates_frame(dataset)
        replicates_path, variance_path = (
            f"{pattern}.csv".format(dataset=dataset) for pattern in (paths.REPLICATES_TABLE, paths.VARIANCE_TABLE)
        )
        Path(replicates_path).parent.mkdir(parents=True, exist_ok=True)
        runs.to_csv(replicates_path, index=False)
        variance_frame(runs).to_csv(variance_path, index=False)
        plot_replicates(dataset, replicates_path, variance_path, paths.REPLICATES_PLOT.format(dataset=dataset), DPI)
        tables[dataset] = (replicates_path, variance_path)
    replicates_paths, variance_paths = zip(*tables.values())
    plot_comparison(list(replicates_paths), list(variance_paths), paths.COMPARISON_PLOT, DPI)


# --- the pins and the guard --------------------------------------------------------------------------

STAGE_NUMBERS = {
    "data": data_numbers,
    "training": training_numbers,
    "predictions": predictions_numbers,
    "tables": tables_numbers,
    "figures": figures_numbers,
}
MISSING = "(none)"


def plain(value):
    """A number as JSON holds it: numpy's scalars as Python's."""
    return value.item() if isinstance(value, np.generic) else value


def stage_numbers(stage):
    """The numbers of `stage`'s pinned work, done in a temporary folder that is removed after it."""
    with tempfile.TemporaryDirectory(prefix=f"pins-{stage}-") as folder:
        return {name: plain(value) for name, value in STAGE_NUMBERS[stage](Path(folder)).items()}


def read_pins(path=PINS_FILE):
    """{stage: {"version", "numbers"}} as pinned; {} before the first pins."""
    return json.loads(Path(path).read_text()) if Path(path).exists() else {}


def write_pins(pins, path=PINS_FILE):
    Path(path).write_text(json.dumps(pins, indent=2, sort_keys=True, allow_nan=False) + "\n")


def same_number(old, new, tolerance):
    """Floats equal within the tolerance (training's and numpy's last bits differ between CPUs);
    everything else exactly."""
    numbers = all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in (old, new))
    if numbers and (isinstance(old, float) or isinstance(new, float)):
        return math.isclose(old, new, rel_tol=tolerance["relative"], abs_tol=tolerance["absolute"])
    return old == new


def changed_numbers(pinned, numbers, tolerance):
    """[(name, pinned value, value now)] of every number that differs, a number gone or new included."""
    names = sorted(set(pinned) | set(numbers))
    compared = [(name, pinned.get(name, MISSING), numbers.get(name, MISSING)) for name in names]
    return [(name, old, new) for name, old, new in compared if not same_number(old, new, tolerance)]


def shown(value):
    """A value in a message, a digest cut to its first characters."""
    text = value if value is MISSING else json.dumps(value)
    return text if len(text) <= 24 else text[:20] + "..."


def change_words(changes):
    words = [f"{name}: {shown(old)} -> {shown(new)}" for name, old, new in changes[:SHOWN_CHANGES]]
    more = len(changes) - SHOWN_CHANGES
    return "; ".join(words) + (f"; and {more} more" if more > 0 else "")


def pin_problem(stage, pins, numbers, versions=RESULTS_VERSIONS):
    """Why `stage`'s numbers now and its pins (read_pins) disagree with its version, in one message that
    says what to do; None when they agree."""
    version, pinned = versions[stage], pins.get(stage)
    if pinned is None or pinned["version"] != version:
        what = "pins no version" if pinned is None else f"pins version {pinned['version']}"
        return (
            f"RESULTS_VERSIONS['{stage}'] is {version} but tests/pinned_results.json {what}: run "
            f"`python tests/results_pins.py {stage}` to pin the numbers of version {version}"
        )
    changes = changed_numbers(pinned["numbers"], numbers, TOLERANCES[stage])
    if not changes:
        return None
    return (
        f"the {stage} stage's results changed ({change_words(changes)}) while RESULTS_VERSIONS['{stage}'] is "
        f"still {version}: raise it to {version + 1} in src/digitstudy/versions.py (it reruns the stage's jobs "
        f"in every study), then run `python tests/results_pins.py {stage}`; a change that should not change "
        "results must not change these numbers"
    )


def main(stages):
    """Pin the numbers of `stages` (every stage when none is named) at their current versions."""
    unknown = [stage for stage in stages if stage not in STAGE_NUMBERS]
    if unknown:
        raise SystemExit(f"no stage {', '.join(unknown)}: the stages are {', '.join(STAGE_NUMBERS)}")
    pins = read_pins()
    for stage in stages or STAGE_NUMBERS:
        started = time.perf_counter()
        numbers = stage_numbers(stage)
        pins[stage] = {"version": RESULTS_VERSIONS[stage], "numbers": numbers}
        seconds = time.perf_counter() - started
        print(f"{stage}: {len(numbers)} numbers pinned at version {RESULTS_VERSIONS[stage]} ({seconds:.1f} s)")
    write_pins({stage: pins[stage] for stage in STAGE_NUMBERS if stage in pins})


if __name__ == "__main__":
    main(sys.argv[1:])
