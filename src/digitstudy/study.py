"""The study's plan, read from the validated config: experiments and the runs of each."""

import os
import re
from pathlib import Path

from .errors import DigitstudyError
from .files import read_json, write_json_atomic
from .idx import IDX_FILES, LABELS_DIMS, image_pixels, image_size, parse_idx, read_bytes
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


def base_file(config, dataset, name, folder=".", environ=os.environ):
    """IDX file `name` of `dataset`'s base: fetched into the study `folder`, else in the base's local
    folder (.gz or not); None before either is there."""
    base = base_of(config, dataset)
    source = dataset_source(config, base, environ)
    fetched = Path(folder) / RAW_DIR.format(dataset=base) / name
    candidates = [fetched] + ([Path(source) / name, Path(source) / f"{name}.gz"] if source else [])
    return next((path for path in candidates if path.is_file()), None)


def dataset_pixels(config, dataset, folder=".", environ=os.environ, default=28 * 28):
    """Pixels of one image of `dataset`, for the cluster estimates, read from the header of its base's
    train images (fetched into the study `folder`, else in its local folder); `default` before any
    file is there."""
    found = base_file(config, dataset, IDX_FILES[0], folder, environ)
    try:
        pixels = image_pixels(found) if found else default
    except DigitstudyError:
        pixels = default  # fetch_idx reports a damaged file with its cause
    return 2 * pixels if is_pairs(config, dataset) else pixels


def dataset_fit(config, dataset, folder=".", environ=os.environ):
    """(image shape (1, height, width), classes) of `dataset`'s images, for checking a declared model
    before any job: from its base's IDX files where they are there (MNIST's 28 x 28 and 10 before), a
    pairs dataset's images side by side and their sums."""
    images, labels = (base_file(config, dataset, name, folder, environ) for name in IDX_FILES[:2])
    try:
        height, width = image_size(images) if images else (28, 28)
        classes = len(class_names(config, base_of(config, dataset)) or []) or (
            int(parse_idx(read_bytes(labels), labels, LABELS_DIMS).max()) + 1 if labels else 10
        )
    except DigitstudyError:
        height, width, classes = 28, 28, 10  # fetch_idx reports a damaged file with its cause
    if is_pairs(config, dataset):
        return (1, height, 2 * width), 2 * classes - 1
    return (1, height, width), classes


def seed_runs(config):
    """(seed, lr, momentum) of the seed study."""
    study = config["seed_study"]
    return [(seed, study["lr"], study["momentum"]) for seed in study["seeds"]]


def grid_runs(config):
    """(seed, lr, momentum) of the learning-rate x momentum grid."""
    grid = config["grid"]
    return [(grid["seed"], lr, momentum) for lr in grid["lr"] for momentum in grid["momentum"]]


def replicate_run(chosen, seed, split_seed, index):
    """Replicate `index` (1, 2, ...) of a chosen configuration: (seed, lr, momentum, split seed), trained
    with seed `seed` + index on the train/validation split of split seed `split_seed` + index. Never the
    grid run (index 0 would be): a fresh replicate is not the one its configuration was chosen on."""
    return (seed + index, chosen["lr"], chosen["momentum"], split_seed + index)


def replicate_plan(choice, seed, split_seed, maximum):
    """replicates.json: every replicate the confirmation may train of an experiment, index 1 to
    `maximum` in order ([seed, lr, momentum, split seed] and its run name); the rounds train a prefix of
    it. None chosen (every grid run diverged): no replicates."""
    chosen = choice["chosen"]
    runs = [replicate_run(chosen, seed, split_seed, index) for index in range(1, maximum + 1)] if chosen else []
    return {
        "dataset": choice["dataset"],
        "model": choice["model"],
        "runs": [list(run) for run in runs],
        "names": [run_name(*run) for run in runs],
    }


def plan_runs(plan_path):
    """The runs of a replicates.json: (seed, lr, momentum), or (seed, lr, momentum, split seed) for a
    replicate on another split."""
    return [tuple(run[:3]) if run[3] is None else tuple(run) for run in read_json(plan_path)["runs"]]


def write_replicate_plan(choice_path, seed, split_seed, maximum, out_path):
    """An experiment's replicates.json from its choice.json; returns it."""
    plan = replicate_plan(read_json(choice_path), seed, split_seed, maximum)
    write_json_atomic(out_path, plan)
    return plan


def looks(first, step, maximum):
    """Replicates per model after each round of the confirmation: `first`, then `step` more a round, the
    last round ending at `maximum`: (5, 5, 20) -> [5, 10, 15, 20]; (3, 5, 20) -> [3, 8, 13, 18, 20]."""
    if first < 2:
        raise ValueError(f"looks: first must be >= 2 (a spread needs two replicates), got {first}")
    if step < 1:
        raise ValueError(f"looks: step must be >= 1, got {step}")
    if maximum < first:
        raise ValueError(f"looks: maximum must be >= first, got maximum={maximum}, first={first}")
    return [*range(first, maximum, step), maximum]


def confirm_looks(config):
    """looks() of the config's confirm.first, step and max."""
    confirm = config["confirm"]
    return looks(confirm["first"], confirm["step"], confirm["max"])


def round_replicates(config, round_number):
    """The replicate indices (1-based, as in replicates.json) that round `round_number` (1-based) adds."""
    sizes = [0, *confirm_looks(config)]
    return range(sizes[round_number - 1] + 1, sizes[round_number] + 1)


def replicates_so_far(looks, decisions, model):
    """How many replicates `model` has been given so far: the first round's, then a later round's for
    each round after which it still had an undecided comparison. `decisions`: each decided round's
    decisions (rounds/round<r>.json), in order."""
    count = looks[0]
    for round_number, decided in enumerate(decisions, 1):
        if model not in decided["next"]:
            break
        count = looks[round_number]
    return count


def confirmation_plan_line(config):
    """What a dry run cannot list of the confirmation, in one line."""
    confirm = config["confirm"]
    return (
        f"confirmation: its size is decided in rounds, between {confirm['first']} and {confirm['max']} fresh "
        f"replicates per chosen model ({confirm['first']}, then {confirm['step']} more a round while one of the "
        "model's comparisons is undecided); its jobs appear once the choices and each round are made"
    )


def confirm_settings(config, dataset):
    """What the decisions of task `dataset` are made with, in one fixed order (Snakemake compares params
    as text: key order must not depend on the order of the config files)."""
    confirm = config["confirm"]
    return {**{key: confirm[key] for key in ("first", "step", "max", "alpha")}, "delta": task_delta(config, dataset)}


def task_delta(config, dataset):
    """The margin of task `dataset` in points of test error: its dataset's own `delta`, else confirm.delta."""
    return config["datasets"][dataset].get("delta", config["confirm"]["delta"])


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
