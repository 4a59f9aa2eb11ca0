"""What results/summary.md links to: every table and figure of the study, by the name a reader sees.
Snakemake plans with it (the summary's inputs), so it imports nothing heavier than the paths."""

from . import paths


# What the summary links to, by the name a reader sees: an experiment's, a task's, the study's.
EXPERIMENT_LINKS = {
    "seed study": f"{paths.SEEDS_TABLE}.md",
    "grid": f"{paths.GRID_TABLE}.md",
    "learning curves": paths.CURVES_PLOT,
    "grid heatmap": paths.GRID_PLOT,
    "first-layer weights": paths.WEIGHTS_PLOT,
    "test error per class": paths.CLASS_ERRORS_PLOT,
    "confusion matrix": paths.CONFUSION_PLOT,
    "worst-predicted test images": paths.WORST_PLOT,
}
PAIRS_LINKS = {"digit pairs most often wrong": f"{paths.DIGIT_PAIRS_TABLE}.md"}
TASK_LINKS = {
    "replicates of the chosen configurations": f"{paths.REPLICATES_TABLE}.md",
    "spread over replicates and seeds": f"{paths.VARIANCE_TABLE}.md",
    "replicates figure": paths.REPLICATES_PLOT,
    "pairwise tests": f"{paths.PAIRWISE_TABLE}.md",
    "chosen runs' test errors with exact 95% intervals": f"{paths.CHOSEN_TABLE}.md",
}
STUDY_LINKS = {
    "every run": f"{paths.RUNS_TABLE}.csv",
    "cost": f"{paths.COST_TABLE}.md",
    "cost per run": f"{paths.RUN_COSTS_TABLE}.md",
    "diverged and far-worse runs": f"{paths.PROBLEM_RUNS_TABLE}.md",
    "the tasks compared": paths.COMPARISON_PLOT,
}


def filled(links, **wildcards):
    """{name: path relative to results/} of `links` with the wildcards filled in."""
    return {name: paths.under_results(pattern.format(**wildcards)) for name, pattern in links.items()}


def experiment_links(dataset, model, of_pairs):
    """{name: path relative to results/} of one experiment's tables and figures."""
    links = {**EXPERIMENT_LINKS, **(PAIRS_LINKS if of_pairs else {})}
    return filled(links, dataset=dataset, model=model)


def linked_files(experiments, pairs_datasets):
    """Every file the summary links to, as the workflow writes it (the workflow makes each one)."""
    found = [
        path
        for dataset, model in experiments
        for path in experiment_links(dataset, model, dataset in pairs_datasets).values()
    ]
    tasks = dict.fromkeys(dataset for dataset, _ in experiments)
    found += [path for dataset in tasks for path in filled(TASK_LINKS, dataset=dataset).values()]
    found += list(filled(STUDY_LINKS).values())
    found += [sample_plot(dataset) for dataset in tasks if dataset in pairs_datasets]
    return [f"results/{path}" for path in found]


def sample_plot(dataset):
    """The training images of a pairs dataset (rule plot_pair_samples), relative to results/."""
    return paths.under_results(paths.SAMPLES_PLOT.format(dataset=dataset))
