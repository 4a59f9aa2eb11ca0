"""The study's plan, read from the validated config: experiments and the runs of each."""

import os
import re
from pathlib import Path

from . import DigitstudyError
from .files import read_json, write_json_atomic
from .idx import IDX_FILES, image_pixels
from .paths import RAW_DIR, run_name


def without_dropped(experiments):
    """The experiments less those set to null, and datasets left with none: how a config file merged
    over another (Snakemake merges nested mappings) drops what the other declares."""
    kept = {}
    for dataset, models in experiments.items():
        models = {model: settings for model, settings in (models or {}).items() if settings is not None}
        if models:
            kept[dataset] = models
    return kept


def experiments(config):
    """[(dataset, model), ...] in config order."""
    return [(dataset, model) for dataset, models in config["experiments"].items() for model in models]


def datasets(config):
    """The datasets of the experiments, in config order."""
    return list(config["experiments"])


def is_pairs(config, dataset):
    return "pairs" in config["datasets"][dataset]


def pairs_datasets(config):
    """The experiments' datasets made of pairs of images (their HDF5 files hold each image's classes)."""
    return [dataset for dataset in datasets(config) if is_pairs(config, dataset)]


def base_of(config, dataset):
    """The base dataset whose IDX files `dataset` is built from: itself, or the one it pairs."""
    return config["datasets"][dataset]["pairs"] if is_pairs(config, dataset) else dataset


def class_names(config, dataset):
    """The declared name of each class of `dataset` (its `classes`), or None: the labels themselves
    (digits; for a pairs dataset, the sums of its base's labels)."""
    return None if is_pairs(config, dataset) else config["datasets"][dataset].get("classes")


def declared_names(config, pairs):
    """The declared datasets of one kind (pairs or base)."""
    return [name for name in config["datasets"] if is_pairs(config, name) == pairs]


def one_of(names):
    """A regular expression matching exactly these names (none: a pattern that matches nothing)."""
    return "|".join(re.escape(name) for name in names) or "(?!)"


def dataset_pixels(config, dataset, folder=".", environ=os.environ, default=28 * 28):
    """Pixels of one image of `dataset`, for the cluster estimates, read from the header of its base's
    train images (fetched into the study `folder`, else in its local folder); `default` before any
    file is there."""
    base = base_of(config, dataset)
    name = IDX_FILES[0]
    source = dataset_source(config, base, environ)
    fetched = Path(folder) / RAW_DIR.format(dataset=base) / name
    candidates = [fetched] + ([Path(source) / name, Path(source) / f"{name}.gz"] if source else [])
    found = next((path for path in candidates if path.is_file()), None)
    try:
        pixels = image_pixels(found) if found else default
    except DigitstudyError:
        pixels = default  # fetch_idx reports a damaged file with its cause
    return 2 * pixels if is_pairs(config, dataset) else pixels


def seed_runs(config):
    """(seed, lr, momentum) of the seed study."""
    study = config["seed_study"]
    return [(seed, study["lr"], study["momentum"]) for seed in study["seeds"]]


def grid_runs(config):
    """(seed, lr, momentum) of the learning-rate x momentum grid."""
    grid = config["grid"]
    return [(grid["seed"], lr, momentum) for lr in grid["lr"] for momentum in grid["momentum"]]


def replicates_of_choice(chosen, seed, split_seed, count):
    """Replicate 0 is the chosen grid run itself, (seed, lr, momentum) on the study's split; replicate
    i >= 1 trains with seed `seed` + i on the split of split seed `split_seed` + i: (seed, lr, momentum,
    split seed). None chosen (every grid run diverged): no replicates."""
    if chosen is None:
        return []
    lr, momentum = chosen["lr"], chosen["momentum"]
    others = [(seed + index, lr, momentum, split_seed + index) for index in range(1, count)]
    return [(chosen["seed"], lr, momentum), *others]


def replicate_plan(choice, seed, split_seed, count):
    """replicates.json: an experiment's replicates, each [seed, lr, momentum, split seed (None: the
    study's split)] with its run name."""
    runs = replicates_of_choice(choice["chosen"], seed, split_seed, count)
    return {
        "dataset": choice["dataset"],
        "model": choice["model"],
        "runs": [[*run, None][:4] for run in runs],
        "names": [run_name(*run) for run in runs],
    }


def plan_runs(plan_path):
    """The runs of a replicates.json: (seed, lr, momentum), or (seed, lr, momentum, split seed) for a
    replicate on another split."""
    return [tuple(run[:3]) if run[3] is None else tuple(run) for run in read_json(plan_path)["runs"]]


def write_replicate_plan(choice_path, seed, split_seed, count, out_path):
    """An experiment's replicates.json from its choice.json; returns it."""
    plan = replicate_plan(read_json(choice_path), seed, split_seed, count)
    write_json_atomic(out_path, plan)
    return plan


def replicate_count(config):
    """Replicates of each chosen configuration, the chosen grid run included (confirm.replicates)."""
    return config["confirm"]["replicates"]


def unique_runs(runs):
    """Runs with the same directory name are one job, not two."""
    by_name = {}
    for run in runs:
        by_name.setdefault(run_name(*run), run)
    return list(by_name.values())


def all_runs(config):
    return unique_runs(seed_runs(config) + grid_runs(config))


def experiment_setting(config, dataset, model, key):
    """A training setting of one experiment: its own value if it has one, else the global one."""
    return config["experiments"][dataset][model].get(key, config["training"].get(key))


def source_setting(config, dataset, environ=os.environ):
    """(the key that names the folder of base dataset `dataset`'s local IDX files, the folder; ''
    means download): its `folder`; for mnist, then mnist_dir, then MNIST_DIR."""
    key = f"datasets.{dataset}.idx.folder"
    folder = config.get("datasets", {}).get(dataset, {}).get("idx", {}).get("folder", "")
    if folder or dataset != "mnist":
        return key, os.path.expanduser(folder)
    if config.get("mnist_dir"):
        return "mnist_dir", config["mnist_dir"]
    return "MNIST_DIR", environ.get("MNIST_DIR", "")


def dataset_source(config, dataset, environ=os.environ):
    """Folder of base dataset `dataset`'s local IDX files ('' means download)."""
    return source_setting(config, dataset, environ)[1]
