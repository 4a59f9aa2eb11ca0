"""What reruns when the config or a result changes, on copies of a finished quick study: first the
plan (a dry run), then the real rerun, which must run every planned job, and after each choice (a
checkpoint) only the replicates and tables that depend on it, and rewrite exactly those jobs' files.
The confirmation's rounds (checkpoints too) are decided again wherever a replicate changed: their
predictions and decisions are checked to stay within the tasks that changed, and any replicate a new
decision asks for is trained."""

import json
import re
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd
import pytest

from digitstudy.files import sha256_file
from digitstudy.record import RECORD
from helpers import copy_study, quick_config, snakemake, write_config


pytestmark = pytest.mark.workflow
QUICK_EXPERIMENTS = [(dataset, model) for dataset, models in quick_config()["experiments"].items() for model in models]
AGGREGATES = {"collect_runs": 1, "tabulate_costs": 1, "plot_comparison": 1, "write_summary": 1, "all": 1}
EXPERIMENT_AGGREGATES = (
    "choose",
    "plan_replicates",
    "make_tables",
    "plot_curves",
    "plot_grid",
    "plot_weights",
    "predict_test",
    "analyse_errors",
    "plot_errors",
)
TASK_AGGREGATES = ("tabulate_replicates", "plot_replicates", "compare_models")
ROUND_RULES = ("predict_round", "decide_round")
PAIRS_DATASETS = [name for name, declared in quick_config()["datasets"].items() if "pairs" in declared]


@dataclass
class Job:
    rule: str
    wildcards: dict = field(default_factory=dict)
    outputs: list = field(default_factory=list)


def planned_jobs(run):
    """The jobs a `snakemake --dry-run` lists, or a real run ran, with their wildcards and output files."""
    jobs = []
    for line in (run.stdout + run.stderr).splitlines():
        if match := re.fullmatch(r"(?:local)?(?:rule|checkpoint) (\w+):", line):
            jobs.append(Job(match.group(1)))
        elif jobs and (match := re.fullmatch(r"    (output|wildcards): (.*)", line)):
            items = match.group(2).split(", ")
            if match.group(1) == "output":
                jobs[-1].outputs = items
            else:
                jobs[-1].wildcards = dict(item.split("=", 1) for item in items)
    return jobs


def file_times(study):
    """{path: modification time} of every data and result file (the study record aside: it records the
    command that ran, not a result)."""
    return {
        str(path.relative_to(study)): path.stat().st_mtime_ns
        for folder in ("data", "results")
        for path in (study / folder).rglob("*")
        if path.is_file() and path != study / RECORD
    }


def plan(quick_study, tmp_path, mnist_dir, change):
    """(the copy of the finished study, its changed config file, the jobs a dry run plans)."""
    study = copy_study(quick_study, tmp_path / "study")
    configfile = write_config(study, change)
    dry_run = snakemake(study, "--dry-run", mnist_dir=mnist_dir, configfile=configfile)
    assert dry_run.returncode == 0, dry_run.stderr[-3000:]
    return study, configfile, planned_jobs(dry_run)


def rerun(quick_study, tmp_path, mnist_dir, change, change_results=None):
    """Plan and then run the workflow after `change` to quick.yaml (and `change_results` to the study
    folder), in a copy of the finished study. Returns the jobs that ran and the files the real run
    wrote, after checking that every planned job ran and that the files written are exactly the
    outputs of the jobs that ran."""
    study, configfile, jobs = plan(quick_study, tmp_path, mnist_dir, change)
    if change_results:
        change_results(study)
        jobs = planned_jobs(snakemake(study, "--dry-run", mnist_dir=mnist_dir, configfile=configfile))
    before = file_times(study)
    finished = snakemake(study, mnist_dir=mnist_dir, configfile=configfile)
    assert finished.returncode == 0, finished.stderr[-3000:]
    after = file_times(study)
    written = {path for path, time in after.items() if before.get(path) != time}
    ran = planned_jobs(finished)
    # Planned while a choice was still to be made, and found up to date once it was made (the same
    # replicates as before): the jobs that read every replicate, and what follows them.
    assert {job.rule for job in jobs if job not in ran} <= {"tabulate_replicates", "plot_replicates"}
    assert written == {path for job in ran for path in job.outputs}
    return ran, written


def rules(jobs):
    return Counter(job.rule for job in jobs)


def trained(jobs):
    """(dataset, model, run) of every planned training job."""
    return {
        (
            job.wildcards["dataset"],
            job.wildcards["model"],
            f"seed{job.wildcards['seed']}_lr{job.wildcards['lr']}_mom{job.wildcards['momentum']}"
            + job.wildcards["split"],
        )
        for job in jobs
        if job.rule == "train_run"
    }


def experiment_aggregates(experiments, rules=EXPERIMENT_AGGREGATES):
    """{rule: job count} of the per-experiment and per-task tables and plots of `experiments`."""
    pairs = sum(dataset in PAIRS_DATASETS for dataset, _ in experiments)
    return {
        **{rule: len(experiments) for rule in rules},
        **({"tabulate_digit_pairs": pairs} if pairs else {}),
        **{rule: len({dataset for dataset, _ in experiments}) for rule in TASK_AGGREGATES},
    }


def choice(study, dataset, model):
    path = study / "results" / "tables" / dataset / model / "choice.json"
    return json.loads(path.read_text())["chosen"]


def replicates(study, dataset, model):
    """The run names of an experiment's replicates over all its rounds (its task's decisions.json)."""
    path = study / "results" / "tables" / dataset / "decisions.json"
    return json.loads(path.read_text())["runs"][model]


def new_replicates(quick_study, study):
    """(dataset, model, run) of each replicate the changed study's rounds gave that the finished one
    lacks: every replicate of a choice that changed, and any that a changed decision asked for."""
    return {
        (dataset, model, run)
        for dataset, model in QUICK_EXPERIMENTS
        for run in replicates(study, dataset, model)
        if run not in replicates(quick_study, dataset, model)
    }


def without_rounds(jobs):
    """The jobs' rule counts less the rounds' (how many rounds a changed replicate reopens varies)."""
    return {rule: count for rule, count in rules(jobs).items() if rule not in ROUND_RULES}


def round_tasks(jobs):
    return {job.wildcards["dataset"] for job in jobs if job.rule in ROUND_RULES}


def experiments_of(jobs):
    return {
        (job.wildcards["dataset"], job.wildcards["model"])
        for job in jobs
        if job.rule in EXPERIMENT_AGGREGATES + ("train_run",)
    }


def test_nothing_changed_reruns_nothing(quick_study, tmp_path, mnist_dir):
    jobs, written = rerun(quick_study, tmp_path, mnist_dir, lambda config: None)
    assert jobs == [] and written == set()


@pytest.mark.slow
def test_added_learning_rate_trains_only_its_runs(quick_study, tmp_path, mnist_dir):
    """Its grid runs, and the replicates of each choice it changes (and of any round that reopens)."""
    jobs, _ = rerun(quick_study, tmp_path, mnist_dir, lambda config: config["grid"]["lr"].append(0.2))
    fresh = new_replicates(quick_study, tmp_path / "study")
    new_runs = {(dataset, model, "seed1_lr0.2_mom0.9") for dataset, model in QUICK_EXPERIMENTS}
    assert trained(jobs) == new_runs | fresh
    # The seed study is untouched, so are its learning curves.
    unchanged = ("plot_curves",)
    expected = {
        "train_run": 5 + len(fresh),
        **experiment_aggregates(QUICK_EXPERIMENTS, [rule for rule in EXPERIMENT_AGGREGATES if rule not in unchanged]),
        **AGGREGATES,
    }
    # The replicates of a task are tabulated again only where a replicate changed; their figure may be
    # redrawn anyway (planned before the choices were made).
    # The rounds of every task whose plans were made again are decided again (each a local job of
    # seconds), and its replicates tabulated again.
    tasks = round_tasks(jobs)
    assert {dataset for dataset, _, _ in fresh} <= tasks
    expected["tabulate_replicates"] = len(tasks)
    drawn = rules(jobs).pop("plot_replicates", 0)
    assert len(tasks) <= drawn <= len({dataset for dataset, _ in QUICK_EXPERIMENTS})
    assert {rule: count for rule, count in without_rounds(jobs).items() if rule != "plot_replicates"} == {
        rule: count for rule, count in expected.items() if count and rule != "plot_replicates"
    }


def retrains_only_mnist_ann(jobs, replicate_runs=()):
    """mnist / ann's seed study and grid, and `replicate_runs` (a dry run cannot show the replicates of a
    choice to be made: Snakemake plans them once the choice is there)."""
    runs = ("seed1_lr0.01_mom0.9", "seed66_lr0.01_mom0.9", "seed1_lr0.1_mom0.9", *replicate_runs)
    assert trained(jobs) <= {("mnist", "ann", run) for run in runs} | {
        ("mnist", model, run) for model in ("cnn", "cnn_dropout") for run in replicate_runs
    }
    assert {("mnist", "ann", run) for run in runs} <= trained(jobs)
    assert experiments_of(jobs) == {("mnist", "ann")} and round_tasks(jobs) <= {"mnist"}
    expected = {"train_run": len(trained(jobs)), **experiment_aggregates({("mnist", "ann")}), **AGGREGATES}
    assert without_rounds(jobs) == expected


@pytest.mark.slow
def test_one_experiments_batch_size_retrains_only_that_experiment(quick_study, tmp_path, mnist_dir):
    jobs, _ = rerun(
        quick_study, tmp_path, mnist_dir, lambda config: config["experiments"]["mnist"]["ann"].update(batch_size=64)
    )
    # Every replicate of mnist / ann, and a reopened round's replicate of another mnist model at most.
    retrains_only_mnist_ann(jobs, replicates(tmp_path / "study", "mnist", "ann"))


def test_one_experiments_epochs_plan_only_that_experiment(quick_study, tmp_path, mnist_dir):
    # The plan only: the real rerun is the batch-size case's, through the same params mechanism.
    _, _, jobs = plan(
        quick_study, tmp_path, mnist_dir, lambda config: config["experiments"]["mnist"]["ann"].update(epochs=3)
    )
    retrains_only_mnist_ann(jobs)


@pytest.mark.slow
def test_a_grid_result_that_changes_the_choice_trains_only_the_new_replicates(quick_study, tmp_path, mnist_dir):
    """A grid run that did better than recorded (its metrics.json rewritten): the choice moves to it,
    its replicate trains, and nothing else does; the old choice's replicate stays on disk, unused."""
    old = choice(quick_study, "mnist", "cnn")
    other = "seed1_lr0.1_mom0.9" if old["run"] == "seed1_lr0.01_mom0.9" else "seed1_lr0.01_mom0.9"

    def improve(study):
        path = study / "results" / "runs" / "mnist" / "cnn" / other / "metrics.json"
        record = json.loads(path.read_text())
        record["final"]["valid_error"] = 0.0
        path.write_text(json.dumps(record))

    jobs, _ = rerun(quick_study, tmp_path, mnist_dir, lambda config: None, improve)
    new = choice(tmp_path / "study", "mnist", "cnn")
    assert new["run"] == other
    fresh = new_replicates(quick_study, tmp_path / "study")
    assert {("mnist", "cnn", run) for run in replicates(tmp_path / "study", "mnist", "cnn")} <= fresh
    assert trained(jobs) == fresh and {dataset for dataset, _, _ in fresh} == {"mnist"}
    old_replicate = f"seed2_lr{old['lr']:g}_mom{old['momentum']:g}_split1"
    assert (tmp_path / "study" / "results" / "runs" / "mnist" / "cnn" / old_replicate / "metrics.json").exists()
    table = pd.read_csv(tmp_path / "study" / "results" / "tables" / "mnist" / "replicates.csv")
    cnn = table[table["model"] == "cnn"]
    assert list(cnn["lr"]) == [new["lr"]] * len(cnn) and len(cnn) >= quick_config()["confirm"]["first"]


def test_plot_resolution_redraws_only_plots(quick_study, tmp_path, mnist_dir):
    """The plan alone (the other rerun tests run theirs, and check that it writes exactly the planned
    files): redrawing 22 figures takes a minute and shows nothing more."""
    _, _, jobs = plan(quick_study, tmp_path, mnist_dir, lambda config: config["plots"].update(dpi=60))
    assert rules(jobs) == {
        "plot_curves": 5,
        "plot_grid": 5,
        "plot_weights": 5,
        "plot_errors": 5,
        "plot_replicates": 2,
        "plot_comparison": 1,
        "plot_pair_samples": 1,
        "write_summary": 1,
        "all": 1,
    }
    drawn = [path for job in jobs if job.rule.startswith("plot_") for path in job.outputs]
    assert len(drawn) == 5 + 5 + 5 + 5 * 3 + 2 + 1 + 1 and all(path.endswith(".png") for path in drawn)


def test_pair_seed_rebuilds_only_the_two_digit_dataset_and_plans_only_its_runs(quick_study, tmp_path, mnist_dir):
    """The plan, and the data it rebuilds for real (`--until make_pairs`): a seed study and grid trained
    again go through the same params and checkpoints as the batch-size and choice cases, which run
    theirs, so training twelve two-digit runs again here would show nothing more."""
    study, configfile, jobs = plan(
        quick_study, tmp_path, mnist_dir, lambda config: config["datasets"]["twodigit"].update(seed=7)
    )
    assert {job.rule for job in jobs} >= {"make_pairs", "plot_pair_samples"}
    assert "prepare_idx" not in rules(jobs) and "fetch_idx" not in rules(jobs)
    assert experiments_of(jobs) == {("twodigit", "cnn_dropout"), ("twodigit", "lenet5")}
    seed_and_grid = {run for dataset, model, run in trained(jobs) if "_split" not in run}
    assert (
        trained(jobs) == {("twodigit", model, run) for model in ("cnn_dropout", "lenet5") for run in seed_and_grid}
        and len(seed_and_grid) == 3
    )
    before = file_times(study)
    data = snakemake(study, "--until", "make_pairs", mnist_dir=mnist_dir, configfile=configfile)
    assert data.returncode == 0, data.stderr[-3000:]
    written = {path for path, time in file_times(study).items() if before.get(path) != time}
    assert "data/processed/twodigit.h5" in written
    assert all(re.fullmatch(r"data/processed/twodigit(_split\d+)?\.h5", path) for path in written), written
    assert sha256_file(study / "data/processed/twodigit.h5") != sha256_file(quick_study / "data/processed/twodigit.h5")
