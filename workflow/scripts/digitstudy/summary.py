"""results/summary.md: the findings a reader should take away, each with its number and uncertainty,
then the best model per task, each experiment's choice, and links to every table and figure."""

import re

import pandas as pd

from . import paths
from .aggregate import FAR_WORSE_MARGIN, percent
from .files import read_json, write_text_atomic
from .tables import markdown_fragment, markdown_html


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
    "chosen configurations and test errors with 95% intervals": f"{paths.CHOSEN_TABLE}.md",
    "pairwise tests": f"{paths.PAIRWISE_TABLE}.md",
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


def best_of_task(choices):
    """The chosen run with the lowest validation error (ties: validation loss) among a task's experiments."""
    candidates = [choice for choice in choices if choice["chosen"]]
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c["chosen"]["valid_error"], c["chosen"]["valid_loss"]))


def interval(row):
    """'1.20% (95% interval 1.00 to 1.42%)' of a chosen-models row."""
    return f"{percent(row['test_error'])}% (95% interval {percent(row['low'])} to {percent(row['high'])}%)"


def spread_text(seeds, column):
    """'2.27 ± 0.13 (2.10 to 2.41)' of a choice's seed study, in percent."""
    get = lambda name: seeds.get(f"{column}_{name}")  # noqa: E731
    return f"{percent(get('mean'))} \u00b1 {percent(get('sd'))} ({percent(get('min'))} to {percent(get('max'))})"


# --- the findings ------------------------------------------------------------------------------------


def task_finding(dataset, choices, chosen, pairwise):
    """The best model of a task with its test interval, and how it compares with the runner-up."""
    ranked = sorted(
        [c for c in choices if c["chosen"]], key=lambda c: (c["chosen"]["valid_error"], c["chosen"]["valid_loss"])
    )
    if not ranked:
        return f"**{dataset}**: every model diverged on every grid point; there is no finding to state."
    best = chosen.set_index("model").loc[ranked[0]["model"]]
    text = (
        f"**{dataset}**: the best model (chosen on validation) is **{ranked[0]['model']}**, with test error "
        f"{interval(best)} over {int(best['n_test']):,} test images."
    )
    if len(ranked) > 1:
        pair = pairwise_row(pairwise, ranked[0]["model"], ranked[1]["model"])
        text += f" Against the runner-up {ranked[1]['model']}: {pair['verdict']}."
    return text


def pairwise_row(pairwise, model_a, model_b):
    match = pairwise[
        ((pairwise["model_a"] == model_a) & (pairwise["model_b"] == model_b))
        | ((pairwise["model_a"] == model_b) & (pairwise["model_b"] == model_a))
    ]
    return match.iloc[0]


def tasks_finding(chosen_by_task, best_by_task):
    """The tasks side by side: their best models' test errors with intervals."""
    parts = [
        f"{dataset} {best['model']} {interval(chosen_by_task[dataset].set_index('model').loc[best['model']])}"
        for dataset, best in best_by_task.items()
        if best
    ]
    return "**The tasks compared** (best model of each, test error): " + "; ".join(parts) + "."


def overfitting_finding(choices):
    """The experiment whose seed study shows the largest generalisation gap, in numbers."""
    measured = [c for c in choices if c["seed_study"].get("gap_mean") is not None]
    if not measured:
        return "**Over-fitting**: no seed study finished without diverging."
    widest = max(measured, key=lambda c: c["seed_study"]["gap_mean"])
    seeds = widest["seed_study"]
    others = ", ".join(
        f"{c['dataset']} / {c['model']} {percent(c['seed_study']['gap_mean'])}" for c in measured if c is not widest
    )
    return (
        f"**Over-fitting**: the largest generalisation gap (final validation minus final train error, seed "
        f"study) is {widest['dataset']} / {widest['model']}'s, {spread_text(seeds, 'gap')} points "
        f"(mean \u00b1 sd (min to max) over {seeds['n_ok']} seeds); its best validation epoch is "
        f"{seeds['best_epoch_mean']:.1f} on average, its last {seeds['epochs_completed_mean']:.0f}, and its final "
        f"validation error {percent(seeds['valid_error_mean'])}% against {percent(seeds['best_valid_error_mean'])}% "
        f"at the best epoch. Other gaps (points): {others or 'none'}."
    )


def problems_finding(problems, cost, total_runs):
    """Diverged and far-worse runs, and what the study cost."""
    diverged = problems[problems["problem"].str.startswith("diverged")]
    worse = problems[problems["problem"] == "far worse"]
    reasons = diverged["problem"].str.replace("diverged: ", "").value_counts()
    text = (
        f"**Runs that went wrong**: {len(diverged)} of {total_runs} runs diverged ("
        + (", ".join(f"{count} {reason}" for reason, count in reasons.items()) or "none")
        + f") and {len(worse)} more trained but ended more than {100 * FAR_WORSE_MARGIN:g} points above "
        "their experiment's chosen run"
    )
    if len(worse):
        worst = worse.sort_values("valid_error").iloc[-1]
        text += (
            f", the worst {worst['dataset']} / {worst['model']} at lr {worst['lr']:g}, momentum "
            f"{worst['momentum']:g}: {percent(worst['valid_error'])}% validation error"
        )
    study = cost.iloc[-1]
    return (
        text + f". The study used {study['cpu_hours']:.2f} CPU hours ({study['wall_hours']:.2f} hours of job "
        f"wall time); stopping diverged runs early saved an estimated {study['saved_hours']:.2f} hours."
    )


def findings(choices, chosen_by_task, pairwise_by_task, problems, cost, total_runs):
    """Three to five findings, each with its number and its uncertainty."""
    tasks = list(dict.fromkeys(choice["dataset"] for choice in choices))
    of_task = {dataset: [c for c in choices if c["dataset"] == dataset] for dataset in tasks}
    items = [
        task_finding(dataset, of_task[dataset], chosen_by_task[dataset], pairwise_by_task[dataset]) for dataset in tasks
    ]
    if len(tasks) > 1:
        items.append(tasks_finding(chosen_by_task, {d: best_of_task(of_task[d]) for d in tasks}))
    items += [overfitting_finding(choices), problems_finding(problems, cost, total_runs)]
    return items[:5]


# --- the document -------------------------------------------------------------------------------------


def study_block(study):
    data = study["data"]
    epochs = sorted(set(study["epochs"].values()))
    return (
        f"Study '{study['name']}': {data['n_train']:,} train / {data['n_valid']:,} validation / "
        f"{data['n_test']:,} test images per dataset; {' or '.join(str(e) for e in epochs)} epochs; "
        f"seed study over seeds "
        f"{', '.join(str(s) for s in study['seeds'])} at lr {study['lr']:g}, momentum {study['momentum']:g}; "
        f"grid lr {{{', '.join(f'{v:g}' for v in study['grid_lr'])}}} x momentum "
        f"{{{', '.join(f'{v:g}' for v in study['grid_momentum'])}}} at seed {study['grid_seed']}."
    )


METHOD = (
    "How to read the numbers: each experiment's configuration is chosen on its learning-rate x momentum "
    "grid by the lowest final **validation** error (ties: validation loss); diverged runs are never chosen; "
    "the **test** error of the chosen run is reported, never used to choose. Intervals of test errors are "
    "exact (Clopper-Pearson) 95% intervals over the test images. Two models of a task are compared on the "
    "same test images (McNemar's exact test; the difference with a seeded paired-bootstrap 95% interval) "
    "and over the seed study's seeds (Welch's t-test): a difference within the seed-to-seed spread is "
    "not a finding. Train errors are the mean over each epoch's batches in training mode (dropout "
    "active): early in training, or with dropout, the gap can be negative (validation below train)."
)


def experiment_row(choice, grid):
    chosen, seeds = choice["chosen"], choice["seed_study"]
    configuration = f"lr {chosen['lr']:g}, momentum {chosen['momentum']:g}" if chosen else "every grid run diverged"
    valid = percent(chosen["valid_error"]) if chosen else "-"
    return (
        f"| {choice['dataset']} / {choice['model']} | {configuration} | {valid} | {spread_text(seeds, 'valid_error')} "
        f"| {spread_text(seeds, 'test_error')} | {spread_text(seeds, 'gap')} | {seeds['n_ok']} "
        f"| {int((grid['status'] != 'ok').sum())} / {int(grid['far_worse'].sum())} of {len(grid)} |"
    )


def task_section(dataset, choices, grids, chosen, pairwise, of_pairs):
    best = best_of_task(choices)
    lines = [f"## {dataset}", ""]
    if best:
        row = chosen.set_index("model").loc[best["model"]]
        lines += [
            f"**Best model: {best['model']}** (lr {best['chosen']['lr']:g}, momentum "
            f"{best['chosen']['momentum']:g}, seed {best['chosen']['seed']}): validation error "
            f"{percent(best['chosen']['valid_error'])}%, test error {interval(row)}.",
            "",
        ]
    else:
        lines += ["**No model trained without diverging.**", ""]
    lines += [
        "Models compared: "
        + "; ".join(f"[{name}]({path})" for name, path in filled(TASK_LINKS, dataset=dataset).items())
        + ".",
        "",
        "| experiment | chosen configuration | valid error (%) | seed study valid (%) | seed study test (%) "
        "| gap valid - train (points) | seeds ok | grid diverged / far worse |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [experiment_row(choice, grids[(dataset, choice["model"])]) for choice in choices]
    lines += ["", "Seed-study columns: mean \u00b1 sd (min to max) over the seeds that did not diverge.", ""]
    lines += [f"- {row['model_a']} vs {row['model_b']}: {row['verdict']}." for _, row in pairwise.iterrows()]
    lines += ["", *[link_line(c["dataset"], c["model"], of_pairs) for c in choices], ""]
    return lines


def link_line(dataset, model, of_pairs):
    links = experiment_links(dataset, model, of_pairs)
    return f"- {dataset} / {model}: " + ", ".join(f"[{name}]({path})" for name, path in links.items())


def summary_markdown(choices, grids, chosen_by_task, pairwise_by_task, problems, cost, study, pairs_datasets):
    """The whole summary.md. `choices` in config order; `grids` keyed by (dataset, model); the rest keyed
    by task (dataset)."""
    total_runs = int(cost["runs"].iloc[-1])
    lines = ["# digitstudy results", "", study_block(study), "", "## Findings", ""]
    lines += [
        f"{index}. {item}"
        for index, item in enumerate(findings(choices, chosen_by_task, pairwise_by_task, problems, cost, total_runs), 1)
    ]
    lines += ["", METHOD, ""]
    for dataset in chosen_by_task:
        lines += task_section(
            dataset,
            [c for c in choices if c["dataset"] == dataset],
            grids,
            chosen_by_task[dataset],
            pairwise_by_task[dataset],
            dataset in pairs_datasets,
        )
    comparison = paths.under_results(paths.COMPARISON_PLOT)
    lines += ["## The tasks compared", "", f"![the chosen models of every task]({comparison})", ""]
    lines += [
        f"Images of {dataset} as the models see them: [samples]({sample_plot(dataset)}).\n"
        for dataset in chosen_by_task
        if dataset in pairs_datasets
    ]
    lines += [
        "## Runs that went wrong, and cost",
        "",
        "- " + ", ".join(f"[{name}]({path})" for name, path in filled(STUDY_LINKS).items()),
        "",
    ]
    return "\n".join(lines)


def without_links(text):
    """The summary for the report, where every table and figure is an item of its own: link texts stay,
    link targets and embedded pictures go."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "(figure: see the report's study section)", text)
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)


def write_summary(inputs, study, tasks, pairs_datasets, outputs):
    """results/summary.md, its HTML form for the report, and the findings the report opens on
    (`inputs`, `outputs`: the write_summary rule's named files; inputs.chosen, inputs.pairwise: a
    file per task, in the order of `tasks`)."""
    choices = [read_json(path) for path in inputs.choices]
    grids = {(c["dataset"], c["model"]): pd.read_csv(path) for c, path in zip(choices, inputs.grids)}
    by_task = lambda files: {task: pd.read_csv(path) for task, path in zip(tasks, files, strict=True)}  # noqa: E731
    text = summary_markdown(
        choices,
        grids,
        by_task(inputs.chosen),
        by_task(inputs.pairwise),
        pd.read_csv(inputs.problems),
        pd.read_csv(inputs.cost),
        study,
        pairs_datasets,
    )
    write_text_atomic(outputs.markdown, text)
    write_text_atomic(outputs.html, markdown_html(without_links(text), "digitstudy results"))
    write_text_atomic(outputs.findings, markdown_fragment(without_links(text)))
