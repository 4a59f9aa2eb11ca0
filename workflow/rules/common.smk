import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

# The digitstudy package these rules were written with; the one installed where snakemake runs must be
# it (tests/test_rules.py checks that the two agree).
WORKFLOW_VERSION = "5.2.0"
INSTALL_HINT = "pip install -r requirements.txt in a clone of this workflow, docs/usage.md"

try:
    import digitstudy
except ImportError:
    raise WorkflowError(f"digitstudy error: {sys.executable} lacks the digitstudy package ({INSTALL_HINT})") from None
if digitstudy.__version__ != WORKFLOW_VERSION:
    raise WorkflowError(
        f"digitstudy error: the installed digitstudy is {digitstudy.__version__}, this workflow is {WORKFLOW_VERSION} "
        f"({INSTALL_HINT})"
    )

from digitstudy import paths
from digitstudy.config import declared_models_error, resolve_config, source_error
from digitstudy.errors import DigitstudyError
from digitstudy.files import read_json
from digitstudy.idx import IDX_FILES
from digitstudy.paths import run_path
from digitstudy.record import (
    RECORD,
    layout_error,
    layout_of,
    other_study_error,
    read_record,
    relative_configfiles,
    write_record,
)
from digitstudy.study import (
    all_runs,
    base_of,
    class_names,
    confirm_settings,
    confirmation_plan_line,
    datasets,
    declared_names,
    experiment_setting,
    experiments,
    grid_runs,
    one_of,
    pairs_datasets,
    plan_runs,
    round_replicates,
    seed_runs,
    unique_runs,
)
from digitstudy.snakemake_internals import after_checkpoint, command_line_configfiles, dry_run, replaces_workflow_config
from digitstudy.links import linked_files
from digitstudy.models import declared_model_param, register_declared
from digitstudy.versions import results_version


def stop_if(problem, kind):
    """Stop before any job, with Snakemake's own error and the problem in one line (a host workflow that
    uses this one as a module sees an exception, not an exit)."""
    if problem:
        raise WorkflowError(f"{kind} error: {problem}")


def resolved(config):
    """The config as every part of digitstudy uses it (digitstudy.config.resolve_config), or one line."""
    try:
        return resolve_config(config)
    except DigitstudyError as error:
        stop_if(str(error), "config")


def stop_on_other_study(config, configfiles, replace):
    """When this folder holds results of a study of an older layout, or of another study (quick vs
    full); a record whose study made nothing yet stops nothing (onstart replaces it)."""
    try:
        record = read_record(RECORD)
    except ValueError as error:
        stop_if(str(error), "study")
    problem = layout_error(layout_of(record), configfiles, replace)
    stop_if(problem or other_study_error(record, config["study"], configfiles, replace), "study")


def record_study():
    """onstart: record this folder's study, its layout and the resolved config (results/study.yaml)."""
    write_record(RECORD, config["study"], CONFIGFILES, REPLACE, config)


RESOLVED = resolved(config)
config.clear()
config.update(RESOLVED)
stop_if(source_error(config, os.environ), "config")
stop_if(declared_models_error(config, os.environ), "config")
register_declared(config["models"])
CONFIGFILES = relative_configfiles(command_line_configfiles(workflow), Path.cwd())
REPLACE = replaces_workflow_config(workflow)
stop_on_other_study(config, CONFIGFILES, REPLACE)
if dry_run(workflow):
    print(confirmation_plan_line(config), file=sys.stderr)


wildcard_constraints:
    dataset="[a-z0-9]+",
    model="[a-z0-9_]+",
    seed="[0-9]+",
    lr="[0-9.e+-]+",
    momentum="[0-9.e+-]+",
    split=paths.SPLIT_WILDCARD,
    round="[1-9][0-9]*",


SPLIT_SIZES = {split: config["data"][f"n_{split}"] for split in ("train", "valid", "test")}
# The data rules' wildcards: the declared base datasets (fetch_idx, prepare_idx) and pairs datasets
# (make_pairs, plot_pair_samples).
BASE_DATASETS = one_of(declared_names(config, pairs=False))
PAIRS_DATASETS = one_of(declared_names(config, pairs=True))


def run_files(dataset, model, runs, pattern):
    """`pattern` (of train_run's wildcards) filled in for the given (seed, lr, momentum) runs."""
    return [run_path(pattern, dataset, model, run) for run in runs]


def experiment_files(pattern):
    """`pattern` filled in for every experiment."""
    return [pattern.format(dataset=dataset, model=model) for dataset, model in experiments(config)]


def replicates_of(dataset, model):
    """Every replicate the confirmation may train of an experiment (index 1 to confirm.max), once the
    checkpoint plan_replicates has listed them from its choice."""
    return plan_runs(checkpoints.plan_replicates.get(dataset=dataset, model=model).output[0])


def round_decisions(dataset, round_number):
    """A task's decisions after round `round_number` (the checkpoint decide_round), once made. Every
    model's plan is asked for first: a job that waits on a round while a plan is still to be made again
    must wait on that plan, whose run makes Snakemake plan the job anew (a round waited on and then found
    up to date would not, and the job would run with the checkpoint's placeholder for its inputs)."""
    for model in config["experiments"][dataset]:
        replicates_of(dataset, model)
    return read_json(checkpoints.decide_round.get(dataset=dataset, round=round_number).output[0])


def trains_in_round(dataset, model, round_number):
    """Whether an experiment trains replicates in round `round_number`: in round 1 if it has a choice,
    later if the previous round's decisions name it (an undecided comparison left)."""
    if round_number == 1:
        return bool(replicates_of(dataset, model))
    return model in round_decisions(dataset, round_number - 1)["next"]


def round_runs(dataset, model, round_number):
    """The replicates that round `round_number` adds to an experiment."""
    plan = replicates_of(dataset, model)
    return [plan[index - 1] for index in round_replicates(config, round_number)]


def confirmation_runs(dataset, model):
    """Every replicate the rounds give an experiment, once its last round is decided."""
    runs, round_number = [], 1
    while trains_in_round(dataset, model, round_number):
        runs += round_runs(dataset, model, round_number)
        round_number += 1
    return runs


def final_round(dataset):
    """A task's last round: the first after which no model trains more."""
    round_number = 1
    while round_decisions(dataset, round_number)["next"]:
        round_number += 1
    return round_number


def experiment_run_files(dataset, model, pattern):
    """`pattern` filled in for every run of an experiment (its seed study, its grid and the replicates of
    its choice); until its rounds are decided, for the runs known so far and the next checkpoint's
    output (snakemake_internals.after_checkpoint)."""
    known = all_runs(config)
    return after_checkpoint(
        lambda: run_files(dataset, model, unique_runs(known + confirmation_runs(dataset, model)), pattern),
        lambda: run_files(dataset, model, known, pattern),
    )


def get_study_run_files(pattern):
    """Input function: `pattern` filled in for every run of every experiment, replicates included."""
    return lambda wildcards: [
        path for dataset, model in experiments(config) for path in experiment_run_files(dataset, model, pattern)
    ]


def get_replicate_files(name):
    """Input function: file `name` of the replicates of every model of the wildcards' task (dataset),
    model after model in config order, replicate 1 first."""
    return lambda wildcards: [
        path
        for model in config["experiments"][wildcards.dataset]
        for path in run_files(
            wildcards.dataset, model, confirmation_runs(wildcards.dataset, model), f"{paths.RUN_DIR}/{name}"
        )
    ]


def get_round_files(name):
    """Input function: file `name` of the replicates that the wildcards' round adds to the wildcards'
    experiment."""
    return lambda wildcards: run_files(
        wildcards.dataset,
        wildcards.model,
        round_runs(wildcards.dataset, wildcards.model, int(wildcards.round)),
        f"{paths.RUN_DIR}/{name}",
    )


def get_round_data(wildcards):
    """Input function: the data file of each replicate that the wildcards' round adds to its experiment
    (its own train/validation split: the model standardises its input by that split's pixels)."""
    runs = round_runs(wildcards.dataset, wildcards.model, int(wildcards.round))
    return [paths.dataset_file(wildcards.dataset, run[3]) for run in runs]


def get_round_run_names(wildcards):
    """Params function: the run names of the wildcards' round of its experiment, in replicate order."""
    return [paths.run_name(*run) for run in round_runs(wildcards.dataset, wildcards.model, int(wildcards.round))]


def model_prediction_files(dataset, model, last_round):
    """An experiment's prediction files of the rounds up to `last_round` in which it trained."""
    return [
        paths.ROUND_PREDICTIONS.format(dataset=dataset, model=model, round=round_number)
        for round_number in range(1, last_round + 1)
        if trains_in_round(dataset, model, round_number)
    ]


def task_prediction_files(dataset, last_round):
    """Every prediction file of a task's rounds up to `last_round`, model after model; while a model's
    replicates are not yet planned, its checkpoint's output instead (after_checkpoint), so that every
    model's plan is made at once."""
    return [
        path
        for model in config["experiments"][dataset]
        for path in after_checkpoint(lambda: model_prediction_files(dataset, model, last_round), list)
    ]


def get_round_predictions(wildcards):
    """Input function: every prediction file that the wildcards' round's decisions read."""
    return task_prediction_files(wildcards.dataset, int(wildcards.round))


def get_task_plans(wildcards):
    """Input function: the replicate plan (replicates.json) of every model of the wildcards' task."""
    return [
        paths.REPLICATE_PLAN.format(dataset=wildcards.dataset, model=model)
        for model in config["experiments"][wildcards.dataset]
    ]


def get_previous_decisions(wildcards):
    """Input function: the decisions of the round before the wildcards' round (none before round 1)."""
    previous = int(wildcards.round) - 1
    return [paths.ROUND_DECISIONS.format(dataset=wildcards.dataset, round=previous)] if previous else []


def get_final_predictions(wildcards):
    """Input function: every prediction file of the wildcards' task, over all its rounds."""
    return task_prediction_files(wildcards.dataset, final_round(wildcards.dataset))


def get_final_decisions(wildcards):
    """Input function: the wildcards' task's decisions after its last round."""
    return paths.ROUND_DECISIONS.format(dataset=wildcards.dataset, round=final_round(wildcards.dataset))


def get_data_benchmarks(wildcards):
    """Input function: the benchmark file of every data file that runs train on: each dataset's, and
    its replicates' splits (a dataset whose every grid run diverged has no replicates)."""
    return [
        path
        for dataset in datasets(config)
        for path in dict.fromkeys(
            path
            for model in config["experiments"][dataset]
            for path in experiment_run_files(dataset, model, paths.DATA_BENCHMARK)
        )
    ]


def task_files(pattern):
    """`pattern` filled in for every task (dataset)."""
    return [pattern.format(dataset=dataset) for dataset in datasets(config)]


def experiment_labels(kind, name):
    """Labels of an experiment's item in `snakemake --report`: its task, its model, what it is."""
    return {"task": "{dataset}", "model": "{model}", kind: name}


def get_task_files(pattern):
    """Input function: `pattern` filled in for every model of the wildcards' dataset (task)."""
    return lambda wildcards: [
        pattern.format(dataset=wildcards.dataset, model=model) for model in config["experiments"][wildcards.dataset]
    ]


def get_raw_files(wildcards):
    """Input function: the fetched IDX files that the wildcards' dataset is built from."""
    return expand(rules.fetch_idx.output, dataset=base_of(config, wildcards.dataset))


def get_base(wildcards):
    """Params function: the base dataset that the wildcards' pairs dataset pairs."""
    return base_of(config, wildcards.dataset)


def get_split_seed(wildcards):
    """Params function: the train/validation split seed of the wildcards' data file ({split})."""
    return paths.split_seed_of(wildcards.split, config["data"]["split_seed"])


def get_pair_seed(wildcards):
    """Params function: the seed of the wildcards' pairs dataset."""
    return config["datasets"][wildcards.dataset]["seed"]


def get_class_names(wildcards):
    """Params function: the name of each class of the wildcards' dataset, in label order (class_names)."""
    return class_names(config, wildcards.dataset)


def get_summary_linked_files(wildcards):
    """Input function: every table and figure that results/summary.md links to, and each table's HTML
    form (the item of `snakemake --report`)."""
    linked = linked_files(experiments(config), pairs_datasets(config))
    tables = [path for path in linked if path.endswith((".md", ".csv"))]
    return linked + [path.rsplit(".", 1)[0] + ".html" for path in tables]


def get_declared_model(wildcards):
    """Params function: what a job needs to build the wildcards' model when it is one of the user's own
    (its file, function and the file's SHA-256: an edit of the file reruns its jobs); None otherwise."""
    return declared_model_param(config["models"], wildcards.model)


def get_setting(key):
    """Params function: an experiment's training setting (batch_size, epochs)."""
    return lambda wildcards: experiment_setting(config, wildcards.dataset, wildcards.model, key)


def get_seed_study_files(name):
    """Input function: file `name` of the seed-study runs of the wildcards' experiment."""
    return lambda wildcards: run_files(wildcards.dataset, wildcards.model, seed_runs(config), f"{paths.RUN_DIR}/{name}")


def get_task_seed_study_files(name):
    """Input function: file `name` of the seed-study runs of every model of the wildcards' task."""
    return lambda wildcards: [
        path
        for model in config["experiments"][wildcards.dataset]
        for path in run_files(wildcards.dataset, model, seed_runs(config), f"{paths.RUN_DIR}/{name}")
    ]


def get_grid_files(name):
    """Input function: file `name` of the grid runs of the wildcards' experiment."""
    return lambda wildcards: run_files(wildcards.dataset, wildcards.model, grid_runs(config), f"{paths.RUN_DIR}/{name}")


def get_grid_runs(wildcards):
    """Params function: the grid's run names, in the order of get_grid_files."""
    return [paths.run_name(*run) for run in grid_runs(config)]
