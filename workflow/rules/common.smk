import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))

from digitstudy.cluster import (
    training_gpus,
    training_mem_mb,
    training_runtime_minutes,
)
from digitstudy.config import config_error, load_schema, source_error, with_default_datasets
from digitstudy.idx import IDX_FILES
from digitstudy.paths import RUN, RUN_DIR, RUN_LOG, run_wildcards
from digitstudy.record import RECORD, other_study_error, read_record, relative_configfiles, write_record
from digitstudy.study import (
    all_runs,
    base_of,
    dataset_pixels,
    datasets,
    declared_names,
    experiment_setting,
    experiments,
    grid_runs,
    one_of,
    pairs_datasets,
    seed_runs,
    without_dropped,
)
from digitstudy.summary import linked_files


def stop_if(problem, kind):
    """One line and exit status 1, before any job: Snakemake's own errors would print a traceback."""
    if problem:
        print(f"{kind} error: {problem}", file=sys.stderr)
        sys.exit(1)


def stop_on_bad_config(config):
    """The key and the cause (Snakemake's validate() would print a page of schema)."""
    schema = load_schema(Path(workflow.basedir) / "schemas" / "config.schema.yaml")
    config.update(with_default_datasets(config, schema))
    stop_if(config_error(config, schema) or source_error(config, os.environ, "data/raw"), "config")


def stop_on_other_study(config):
    """When this folder's results belong to another study (quick vs full); returns the config files."""
    configfiles = relative_configfiles(workflow.overwrite_configfiles or [], Path.cwd())
    try:
        problem = other_study_error(read_record(RECORD), config["study"], configfiles)
    except ValueError as error:
        problem = str(error)
    stop_if(problem, "study")
    return configfiles


stop_on_bad_config(config)
validate(config, "../schemas/config.schema.yaml")  # fills in the schema's defaults
config["experiments"] = without_dropped(config["experiments"])
CONFIGFILES = stop_on_other_study(config)


wildcard_constraints:
    dataset="[a-z0-9]+",
    model="[a-z0-9_]+",
    seed="[0-9]+",
    lr="[0-9.e+-]+",
    momentum="[0-9.e+-]+",


SPLIT_SIZES = {split: config["data"][f"n_{split}"] for split in ("train", "valid", "test")}

# A dataset's splits, written by prepare_idx or make_pairs, read by every rule of a run or experiment.
DATASET_FILE = "data/processed/{dataset}.h5"
DATA_BENCHMARK = "benchmarks/data/{dataset}.tsv"
# The data rules' wildcards: the declared base datasets (fetch_idx, prepare_idx) and pairs datasets
# (make_pairs, plot_pair_samples).
BASE_DATASETS = one_of(declared_names(config, pairs=False))
PAIRS_DATASETS = one_of(declared_names(config, pairs=True))
TRAIN_BENCHMARK = f"benchmarks/train/{RUN}.tsv"
TABLES = "results/tables/{dataset}/{model}"
PLOTS = "results/plots/{dataset}/{model}"


def run_paths(pattern, dataset, model, runs):
    """`pattern` (of train_run's wildcards) filled in for the given (seed, lr, momentum) runs of one
    experiment."""
    return [pattern.format(dataset=dataset, model=model, **run_wildcards(*run)) for run in runs]


def run_files(dataset, model, runs, name):
    """Paths of file `name` of the given runs of one experiment."""
    return run_paths(f"{RUN_DIR}/{name}", dataset, model, runs)


def experiment_files(pattern):
    """`pattern` filled in for every experiment."""
    return [pattern.format(dataset=dataset, model=model) for dataset, model in experiments(config)]


def all_run_files(name):
    return [
        path for dataset, model in experiments(config) for path in run_files(dataset, model, all_runs(config), name)
    ]


def training_benchmarks():
    """The benchmark file of every training run."""
    return [
        path
        for dataset, model in experiments(config)
        for path in run_paths(TRAIN_BENCHMARK, dataset, model, all_runs(config))
    ]


def get_task_files(pattern):
    """Input function: `pattern` filled in for every model of the wildcards' dataset (task)."""
    return lambda wildcards: [
        pattern.format(dataset=wildcards.dataset, model=model) for model in config["experiments"][wildcards.dataset]
    ]


def experiment_labels(kind, name):
    """Labels of an experiment's item in `snakemake --report`: its task, its model, what it is."""
    return {"task": "{dataset}", "model": "{model}", kind: name}


def data_benchmarks():
    """The benchmark files of the jobs that built the experiments' datasets."""
    return [DATA_BENCHMARK.format(dataset=dataset) for dataset in datasets(config)]


def get_raw_files(wildcards):
    """Input function: the fetched IDX files that the wildcards' dataset is built from."""
    return expand(rules.fetch_idx.output, dataset=base_of(config, wildcards.dataset))


def get_pair_seed(wildcards):
    """Params function: the seed of the wildcards' pairs dataset."""
    return config["datasets"][wildcards.dataset]["seed"]


def get_summary_linked_files(wildcards):
    """Input function: every table and figure that results/summary.md links to, and each table's HTML
    form (the item of `snakemake --report`)."""
    linked = [f"results/{path}" for path in linked_files(experiments(config), pairs_datasets(config))]
    tables = [path for path in linked if path.endswith((".md", ".csv"))]
    return linked + [path.rsplit(".", 1)[0] + ".html" for path in tables]


def get_setting(key):
    """Input function: an experiment's training setting (batch_size, epochs)."""
    return lambda wildcards: experiment_setting(config, wildcards.dataset, wildcards.model, key)


def get_seed_study_files(name):
    """Input function: file `name` of the seed-study runs of the wildcards' experiment."""
    return lambda wildcards: run_files(wildcards.dataset, wildcards.model, seed_runs(config), name)


def get_grid_files(name):
    """Input function: file `name` of the grid runs of the wildcards' experiment."""
    return lambda wildcards: run_files(wildcards.dataset, wildcards.model, grid_runs(config), name)


# --- what a job asks a cluster scheduler for (used by the slurm executor; see slurm/config.yaml) ---


def get_train_mem_mb(wildcards):
    data = config["data"]
    return training_mem_mb(dataset_pixels(config, wildcards.dataset), data["n_train"], data["n_valid"], data["n_test"])


def get_train_runtime(wildcards, threads):
    return training_runtime_minutes(
        wildcards.model,
        dataset_pixels(config, wildcards.dataset),
        experiment_setting(config, wildcards.dataset, wildcards.model, "epochs"),
        config["data"]["n_train"],
        config["data"]["n_valid"],
        threads=threads,
    )


TRAIN_GPUS = training_gpus(config["training"]["device"])


PENDING_WATCH = None


def start_study():
    """onstart: under Slurm, check the site and what every job asks (slurm.smk), watch pending jobs;
    then record this folder's study."""
    global PENDING_WATCH
    PENDING_WATCH = prepare_slurm()
    write_record(RECORD, config["study"], CONFIGFILES)


def report_cancelled_jobs():
    """onerror: the Slurm jobs the pending watch cancelled, again at the end, where a user looks."""
    if PENDING_WATCH is not None and PENDING_WATCH.cancelled:
        print("\n".join(PENDING_WATCH.cancelled), file=sys.stderr)


onstart:
    start_study()


onerror:
    report_cancelled_jobs()
