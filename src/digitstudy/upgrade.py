"""Bring a study made by an earlier layout of the workflow over to this one without training again.

Snakemake decides what to rerun from file times, each job's recorded params, and the times of rule
scripts: a study made by another layout (other rules for its data, edited scripts, new params such as
each stage's results version) would otherwise rebuild its data and so retrain every run. The upgrade
moves files the new layout names otherwise, then checks each data file and each run (the replicates
its plans list included) against the config, from what digitstudy itself recorded in them, and marks
exactly the unchanged ones done with Snakemake's own `--touch` (which records the new rules' params
and brings the file times in order). A run whose settings differ from the config is left alone, so it
retrains as it would have anyway; so is everything after training (predictions, tables, figures),
which reruns and costs seconds to minutes."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from .datasets import SPLITS, open_h5, read_attributes
from .files import read_json, sha256_file, write_json_atomic
from .idx import IDX_FILES
from .paths import (
    DATA_BENCHMARK,
    DATA_LOG,
    RAW_DIR,
    REPLICATE_PLAN,
    RUN_DIR,
    RUN_FILES,
    dataset_file,
    run_name,
    run_path,
)
from .study import all_runs, base_of, experiment_setting, experiments, is_pairs, plan_runs


# Files that a layout named otherwise: (its name, this layout's name).
RENAMED = {
    1: [
        ("benchmarks/data/prepare_mnist.tsv", DATA_BENCHMARK.format(dataset="mnist", split="")),
        ("benchmarks/data/make_two_digit.tsv", DATA_BENCHMARK.format(dataset="twodigit", split="")),
        ("logs/data/prepare_mnist.log", DATA_LOG.format(dataset="mnist", split="")),
        ("logs/data/make_two_digit.log", DATA_LOG.format(dataset="twodigit", split="")),
    ],
}
# Outputs of a layout that this one no longer writes (a task's pairwise tests were paired.*).
OBSOLETE = {1: [f"results/tables/{{dataset}}/paired.{suffix}" for suffix in ("csv", "md", "html")]}
# The rules whose jobs the upgrade marks done: those that make the data and train the runs.
TOUCHED_RULES = ("fetch_idx", "prepare_idx", "make_pairs", "train_run")
# What a run's record (metrics.json) holds of its settings, and where the config holds each.
RUN_SETTINGS = ("batch_size", "epochs", "chance_patience", "device")


@dataclass
class Plan:
    """What the upgrade does: files to move and remove, runs to mark done, and what it leaves to rerun."""

    moves: list = field(default_factory=list)  # (old, new) paths
    removals: list = field(default_factory=list)
    targets: list = field(default_factory=list)  # the unchanged runs' outputs, for `snakemake --touch`
    unchanged_runs: int = 0
    changed: list = field(default_factory=list)  # 'what: why' of each data file or run left to rerun
    records: list = field(default_factory=list)  # (metrics.json, what layout 3 adds to it) of unchanged runs


def file_moves(layout, folder):
    """(old, new) of every file that `layout` named otherwise and that is there under its old name."""
    moves = []
    for version in range(layout, max(RENAMED, default=0) + 1):
        moves += [(old, new) for old, new in RENAMED.get(version, []) if (Path(folder) / old).is_file()]
    return moves


def obsolete_files(layout, config, folder):
    versions = range(layout, max(OBSOLETE, default=0) + 1)
    patterns = [pattern for version in versions for pattern in OBSOLETE.get(version, [])]
    paths = {pattern.format(dataset=dataset) for pattern in patterns for dataset, _ in experiments(config)}
    return sorted(path for path in paths if (Path(folder) / path).is_file())


def raw_change(config, base, folder):
    """Why base dataset `base`'s fetched IDX files are not the ones the config declares, or None."""
    declared = config["datasets"][base]["idx"]["sha256"]
    for name in IDX_FILES:
        path = Path(folder) / RAW_DIR.format(dataset=base) / name
        if not path.is_file():
            return f"{path.relative_to(folder)} is missing"
        if sha256_file(path) != declared[name]:
            return f"{path.relative_to(folder)} is not the file datasets.{base}.idx.sha256 declares"
    return None


def expected_attributes(config, dataset, split_seed=None):
    """What the data rules record in a dataset's HDF5 file, as the config makes it now (split_seed: a
    replicate's split, None for the study's own)."""
    base = base_of(config, dataset)
    expected = {
        "dataset": dataset,
        "source_sha256": config["datasets"][base]["idx"]["sha256"],
        "split_seed": config["data"]["split_seed"] if split_seed is None else split_seed,
    }
    if is_pairs(config, dataset):
        expected["pair_seed"] = config["datasets"][dataset]["seed"]
    return expected


def data_change(config, dataset, folder, split_seed=None):
    """Why `dataset`'s HDF5 file (of a replicate's split `split_seed`) is not the one the config makes, or
    None."""
    path = Path(folder) / dataset_file(dataset, split_seed)
    if not path.is_file():
        return f"{path.relative_to(folder)} is missing"
    with open_h5(path) as handle:
        attributes = read_attributes(handle, path)
        sizes = {split: handle[split]["labels"].shape[0] for split in SPLITS if split in handle}
    attributes["source_sha256"] = json.loads(attributes.get("source_sha256") or "null")
    for key, value in expected_attributes(config, dataset, split_seed).items():
        if attributes.get(key) != value:
            return f"{path.relative_to(folder)} was made with another {key}"
    if sizes != {split: config["data"][f"n_{split}"] for split in SPLITS}:
        return f"{path.relative_to(folder)} has other split sizes ({sizes})"
    return None


def run_change(config, dataset, model, run, data_sha256, folder):
    """Why a run's outputs are not what the config would train now, or None."""
    run_dir = Path(folder) / run_path(RUN_DIR, dataset, model, run)
    if not all((run_dir / name).is_file() for name in RUN_FILES):
        return "not trained"
    record = read_json(run_dir / "metrics.json")
    expected = {"dataset": dataset, "model": model, "seed": run[0], "lr": run[1], "momentum": run[2]}
    expected.update({key: experiment_setting(config, dataset, model, key) for key in RUN_SETTINGS})
    different = [key for key, value in expected.items() if record.get(key) != value]
    if different:
        return f"trained with another {', '.join(different)}"
    if record["data"]["sha256"] != data_sha256:
        return "trained on other data"
    return None


def data_checksums(config, folder, changed):
    """{dataset: SHA-256 of its HDF5 file} of the datasets whose files are unchanged; the others go
    to `changed` with the reason."""
    checksums, raw = {}, {}
    for dataset in dict.fromkeys(dataset for dataset, _ in experiments(config)):
        base = base_of(config, dataset)
        if base not in raw:
            raw[base] = raw_change(config, base, folder)
        problem = raw[base] or data_change(config, dataset, folder)
        if problem:
            changed.append(f"{dataset}: {problem}")
        else:
            checksums[dataset] = sha256_file(Path(folder) / dataset_file(dataset))
    return checksums


def replicate_runs(dataset, model, folder):
    """The replicates an experiment's plan lists (replicates.json, layout 3 on), trained or not."""
    path = Path(folder) / REPLICATE_PLAN.format(dataset=dataset, model=model)
    return [run for run in plan_runs(path) if len(run) == 4] if path.is_file() else []


def split_data(config, dataset, split_seed, folder, checked):
    """(the SHA-256 of a replicate's data file, None) or (None, why it is not the config's), memoised in
    `checked` (several models' replicates share a split)."""
    key = (dataset, split_seed)
    if key not in checked:
        problem = data_change(config, dataset, folder, split_seed)
        checked[key] = (
            (None, problem) if problem else (sha256_file(Path(folder) / dataset_file(dataset, split_seed)), None)
        )
    return checked[key]


def experiment_runs(config, dataset, model, folder, checksums, checked):
    """(run, the SHA-256 of the data it must have trained on, why that data is not the config's or None)
    of every run of an experiment that the upgrade checks: its seed study and grid, and its replicates."""
    runs = [(run, checksums[dataset], None) for run in all_runs(config)]
    for run in replicate_runs(dataset, model, folder):
        if (Path(folder) / run_path(RUN_DIR, dataset, model, run) / "metrics.json").is_file():
            runs.append((run, *split_data(config, dataset, run[3], folder, checked)))
    return runs


def upgrade_plan(layout, config, folder="."):
    """The Plan that brings the study in `folder`, of layout `layout`, over to this layout."""
    plan = Plan(moves=file_moves(layout, folder), removals=obsolete_files(layout, config, folder))
    checksums, checked = data_checksums(config, folder, plan.changed), {}
    for dataset, model in experiments(config):
        if dataset not in checksums:
            continue
        for run, data_sha256, data_problem in experiment_runs(config, dataset, model, folder, checksums, checked):
            problem = data_problem or run_change(config, dataset, model, run, data_sha256, folder)
            if problem:
                plan.changed.append(f"{dataset}/{model}/{run_name(*run)}: {problem}")
            else:
                metrics = f"{run_path(RUN_DIR, dataset, model, run)}/metrics.json"
                plan.targets.append(metrics)
                plan.unchanged_runs += 1
                plan.records += record_additions(config, metrics, run, folder)
    return plan


def record_additions(config, metrics, run, folder):
    """[(metrics.json, keys to add)] for a run recorded before layout 3, whose records name their run
    (its folder) and split seed (runs.py: run_record); [] for a run that has them."""
    record = read_json(Path(folder) / metrics)
    additions = {"run": run_name(*run), "split_seed": run[3] if len(run) == 4 else config["data"]["split_seed"]}
    missing = {key: value for key, value in additions.items() if key not in record}
    return [(metrics, missing)] if missing else []


def complete_records(plan, folder="."):
    """Add what layout 3 records to the unchanged runs' metrics.json (data_change checked the split)."""
    for metrics, additions in plan.records:
        path = Path(folder) / metrics
        write_json_atomic(path, {**read_json(path), **additions})


def apply_moves(plan, folder="."):
    """Move and remove files as the plan says (before Snakemake sees the study)."""
    for old, new in plan.moves:
        target = Path(folder) / new
        target.parent.mkdir(parents=True, exist_ok=True)
        (Path(folder) / old).replace(target)
    for path in plan.removals:
        (Path(folder) / path).unlink()


def touch_command(plan, options):
    """The snakemake command that marks the plan's unchanged runs and their data done (`options`:
    what selects the study's config, as the user typed it)."""
    return [
        "snakemake",
        *plan.targets,
        "--touch",
        "--cores",
        "1",
        "--allowed-rules",
        *TOUCHED_RULES,
        *options,
    ]


def plan_lines(plan):
    """What the upgrade did, for the terminal."""
    lines = [f"moved {old} to {new}" for old, new in plan.moves]
    lines += [f"removed {path} (no longer written)" for path in plan.removals]
    lines.append(f"{plan.unchanged_runs} trained runs unchanged: marked done with their data, nothing retrains")
    if plan.records:
        lines.append(f"{len(plan.records)} run records completed with their run name and split seed")
    if plan.changed:
        lines.append(f"{len(plan.changed)} left to rerun, as they would have anyway:")
        lines += [f"  {item}" for item in plan.changed]
    return lines
