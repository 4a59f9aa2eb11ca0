"""What reruns when the config or a result changes, on copies of a finished quick study: first the
plan (a dry run), then the real rerun, which must run every planned job, and after each choice (a
checkpoint) only the replicates and tables that depend on it, and rewrite exactly those jobs' files."""

import json
import re
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd
import pytest

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


def replicate(chosen):
    """The run name of replicate 1 of a choice (quick: 2 replicates, the chosen grid run and this)."""
    return f"seed2_lr{chosen['lr']:g}_mom{chosen['momentum']:g}_split1"


def changed_choices(quick_study, study):
    """(dataset, model, the new choice's replicate) of each experiment whose choice changed."""
    return {
        (dataset, model, replicate(choice(study, dataset, model)))
        for dataset, model in QUICK_EXPERIMENTS
        if choice(study, dataset, model)["run"] != choice(quick_study, dataset, model)["run"]
    }


def experiments_of(jobs):
    return {
        (job.wildcards["dataset"], job.wildcards["model"])
        for job in jobs
        if job.rule in EXPERIMENT_AGGREGATES + ("train_run",)
    }


def test_nothing_changed_reruns_nothing(quick_study, tmp_path, mnist_dir):
    jobs, written = rerun(quick_study, tmp_path, mnist_dir, lambda config: None)
    assert jobs == [] and written == set()


def test_added_learning_rate_trains_only_its_runs(quick_study, tmp_path, mnist_dir):
    """Its grid runs, and the replicates of each choice it changes."""
    jobs, _ = rerun(quick_study, tmp_path, mnist_dir, lambda config: config["grid"]["lr"].append(0.2))
    changed = changed_choices(quick_study, tmp_path / "study")
    new_runs = {(dataset, model, "seed1_lr0.2_mom0.9") for dataset, model in QUICK_EXPERIMENTS}
    assert trained(jobs) == new_runs | changed
    # The seed study is untouched, so are its learning curves.
    unchanged = ("plot_curves",)
    expected = {
        "train_run": 5 + len(changed),
        **experiment_aggregates(QUICK_EXPERIMENTS, [rule for rule in EXPERIMENT_AGGREGATES if rule not in unchanged]),
        **AGGREGATES,
    }
    # The replicates of a task are tabulated again only where a choice, so a replicate, changed; their
    # figure may be redrawn anyway (planned before the choices were made).
    tasks = {dataset for dataset, _, _ in changed}
    expected["tabulate_replicates"] = len(tasks)
    drawn = rules(jobs).pop("plot_replicates", 0)
    assert len(tasks) <= drawn <= len({dataset for dataset, _ in QUICK_EXPERIMENTS})
    assert {rule: count for rule, count in rules(jobs).items() if rule != "plot_replicates"} == {
        rule: count for rule, count in expected.items() if count and rule != "plot_replicates"
    }


def retrains_only_mnist_ann(jobs, replicates=()):
    """mnist / ann's seed study and grid, and `replicates` (a dry run cannot show the replicates of a
    choice to be made: Snakemake plans them once the choice is there)."""
    runs = ("seed1_lr0.01_mom0.9", "seed66_lr0.01_mom0.9", "seed1_lr0.1_mom0.9", *replicates)
    assert trained(jobs) == {("mnist", "ann", run) for run in runs}
    assert experiments_of(jobs) == {("mnist", "ann")}
    assert rules(jobs) == {"train_run": len(runs), **experiment_aggregates({("mnist", "ann")}), **AGGREGATES}


def test_one_experiments_batch_size_retrains_only_that_experiment(quick_study, tmp_path, mnist_dir):
    jobs, _ = rerun(
        quick_study, tmp_path, mnist_dir, lambda config: config["experiments"]["mnist"]["ann"].update(batch_size=64)
    )
    retrains_only_mnist_ann(jobs, [replicate(choice(tmp_path / "study", "mnist", "ann"))])


def test_one_experiments_epochs_plan_only_that_experiment(quick_study, tmp_path, mnist_dir):
    # The plan only: the real rerun is the batch-size case's, through the same params mechanism.
    _, _, jobs = plan(
        quick_study, tmp_path, mnist_dir, lambda config: config["experiments"]["mnist"]["ann"].update(epochs=3)
    )
    retrains_only_mnist_ann(jobs)


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
    assert trained(jobs) == {("mnist", "cnn", replicate(new))}
    assert (tmp_path / "study" / "results" / "runs" / "mnist" / "cnn" / replicate(old) / "metrics.json").exists()
    replicates = pd.read_csv(tmp_path / "study" / "results" / "tables" / "mnist" / "replicates.csv")
    assert list(replicates[replicates["model"] == "cnn"]["lr"]) == [new["lr"]] * 2


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


def test_pair_seed_rebuilds_only_the_two_digit_dataset_and_its_runs(quick_study, tmp_path, mnist_dir):
    jobs, written = rerun(
        quick_study, tmp_path, mnist_dir, lambda config: config["datasets"]["twodigit"].update(seed=7)
    )
    assert {job.rule for job in jobs} >= {"make_pairs", "plot_pair_samples"}
    assert "prepare_idx" not in rules(jobs) and "fetch_idx" not in rules(jobs)
    assert experiments_of(jobs) == {("twodigit", "cnn_dropout"), ("twodigit", "lenet5")}
    assert len(trained(jobs)) == 8  # three runs and a replicate each
    assert not any("mnist" in path.split("/") or "mnist" in path.split("/")[-1] for path in written)
    assert rules(jobs) == {
        "make_pairs": 2,  # the study's split and the replicate's
        "plot_pair_samples": 1,
        "train_run": 8,
        **experiment_aggregates(experiments_of(jobs)),
        **AGGREGATES,
    }
