"""The study's plan, read from the validated config: experiments and the runs of each."""

import os

from .paths import run_name


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


# Datasets whose images are two digits side by side (their HDF5 files hold each image's digits).
DIGIT_PAIR_DATASETS = ("twodigit",)


def datasets(config):
    """The datasets of the experiments, in config order."""
    return list(config["experiments"])


def seed_runs(config):
    """(seed, lr, momentum) of the seed study."""
    study = config["seed_study"]
    return [(seed, study["lr"], study["momentum"]) for seed in study["seeds"]]


def grid_runs(config):
    """(seed, lr, momentum) of the learning-rate x momentum grid."""
    grid = config["grid"]
    return [(grid["seed"], lr, momentum) for lr in grid["lr"] for momentum in grid["momentum"]]


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


def mnist_source_setting(config, environ=os.environ):
    """(the key that names the folder of local MNIST files, the folder; '' means download):
    config first, then MNIST_DIR."""
    if config.get("mnist_dir"):
        return "mnist_dir", config["mnist_dir"]
    return "MNIST_DIR", environ.get("MNIST_DIR", "")


def mnist_source(config, environ=os.environ):
    """Folder of local MNIST files ('' means download)."""
    return mnist_source_setting(config, environ)[1]
