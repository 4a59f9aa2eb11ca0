"""results/summary.md: the findings a reader should take away, each with its number and uncertainty,
then the best model per task, each experiment's choice, and links to every table and figure."""

import pandas as pd

from . import paths
from .aggregate import FAR_WORSE_MARGIN, NOT_LEARNED_MARGIN, learned
from .files import read_json, write_text_atomic
from .links import STUDY_LINKS, TASK_LINKS, experiment_links, filled, sample_plot
from .reportpage import landing_html, report_item_html
from .tables import markdown_table, percent_text, two_digits_text


def ranked_models(variance):
    """A task's models with replicates, first on validation first: by mean validation error over the
    replicates (the test set never ranks)."""
    return variance[variance["n"] > 0].sort_values("valid_error_mean", kind="stable").reset_index(drop=True)


def replicate_text(row):
    """'1.20% over 10 replicates (95% interval 1.01 to 1.41%, replicates and test images)' of a variance
    row."""
    n, mean = int(row["n"]), percent_text(row["test_error_mean"])
    if n < 2:
        return f"{mean}% ({n} replicate: no interval)"
    return (
        f"{mean}% over {n} replicates (95% interval {percent_text(row['test_error_low'])} "
        f"to {percent_text(row['test_error_high'])}%, for the replicates' spread and the test images' sampling)"
    )


def better_of(row):
    """The model a pairwise row decides better, or None."""
    return {"a": row["model_a"], "b": row["model_b"]}.get(row["decision"])


def undominated(pairwise, models):
    """The models that no other is decided better than, in the order of `models`."""
    worse = {
        row["model_b"] if better_of(row) == row["model_a"] else row["model_a"]
        for _, row in pairwise.iterrows()
        if better_of(row)
    }
    return [model for model in models if model not in worse]


def best_model(pairwise, models):
    """The model decided better than every other of its task, or None: a best model is named only where
    all its intervals against the others exclude 0 in its favour."""
    top = undominated(pairwise, models)
    return top[0] if len(top) == 1 and len(models) > 1 else None


def pair_rows(pairwise, model):
    """The pairwise rows that involve `model`."""
    return pairwise[(pairwise["model_a"] == model) | (pairwise["model_b"] == model)]


def configuration(row):
    return f"lr {row['lr']:g}, momentum {row['momentum']:g}"


def spread_text(seeds, column):
    """'2.27 ± 0.13 (2.10 to 2.41)' of a choice's seed study, in percent."""
    mean, sd, low, high = (percent_text(seeds.get(f"{column}_{name}")) for name in ("mean", "sd", "min", "max"))
    return f"{mean} \u00b1 {sd} ({low} to {high})"


# --- the findings ------------------------------------------------------------------------------------


def task_finding(dataset, variance, pairwise):
    """A task's answer over its fresh replicates: its best model with its test error and every decision
    that makes it best; or the models that cannot be told apart, and which ranks first on validation;
    or that it is the only model."""
    ranked = ranked_models(variance)
    if ranked.empty:
        return f"**{dataset}**: every model diverged on every grid point; there is no finding to state."
    rows = {row["model"]: row for _, row in ranked.iterrows()}
    if len(variance) == 1:
        only = ranked.iloc[0]
        return (
            f"**{dataset}**: the only model, **{only['model']}** ({configuration(only)}), has test error "
            f"{replicate_text(only)}.{not_learned_note(only)}"
        )
    best = best_model(pairwise, list(ranked["model"]))
    if best:
        head = (
            f"**{dataset}**: the best model is **{best}** ({configuration(rows[best])}), better than every "
            f"other over the fresh replicates, with test error {replicate_text(rows[best])}."
            f"{not_learned_note(rows[best])}"
        )
    else:
        top = undominated(pairwise, list(ranked["model"]))
        first = rows[top[0]]
        head = (
            f"**{dataset}**: no single best model: none of {', '.join(f'**{model}**' for model in top)} is decided "
            f"better than the other{'s' if len(top) > 2 else ''}; of them {first['model']} ({configuration(first)}) "
            f"ranks first by mean validation error over its replicates ({percent_text(first['valid_error_mean'])}%), "
            f"with test error {replicate_text(first)}.{not_learned_note(first)}"
        )
    shown = pair_rows(pairwise, best) if best else pairwise
    return head + "".join(f" {row['model_a']} vs {row['model_b']}: {row['verdict']}." for _, row in shown.iterrows())


def tasks_finding(variance_by_task, pairwise_by_task):
    """The tasks side by side: the test error of each task's best model, or of its first on validation
    where none is best, over the replicates."""
    parts = []
    for dataset, variance in variance_by_task.items():
        ranked = ranked_models(variance)
        if ranked.empty:
            continue
        best = best_model(pairwise_by_task[dataset], list(ranked["model"])) if len(ranked) > 1 else None
        row = ranked[ranked["model"] == best].iloc[0] if best else ranked.iloc[0]
        role = "best" if best or len(ranked) == 1 else "first on validation, not shown best"
        parts.append(f"{dataset} {row['model']} ({role}) {replicate_text(row)}")
    return "**The tasks compared** (test error): " + "; ".join(parts) + "."


def split_finding(variance_by_task):
    """What varying the train/validation split adds to the spread of the test error: each experiment's
    sd over its replicates divided by its sd over the seed study, with the ratio's 95% interval, and
    whether any interval excludes 1."""
    rows = pd.concat(variance_by_task.values(), ignore_index=True).dropna(subset=["sd_ratio_low"])
    if rows.empty:
        return None
    parts = [
        f"{row.dataset} / {row.model} {two_digits_text(row.sd_ratio)} ({two_digits_text(row.sd_ratio_low)} to "
        f"{two_digits_text(row.sd_ratio_high)})"
        for row in rows.itertuples()
    ]
    named = [
        f"{word} for {', '.join(f'{row.dataset} / {row.model}' for row in found.itertuples())}"
        for word, found in (("larger", rows[rows["sd_ratio_low"] > 1]), ("smaller", rows[rows["sd_ratio_high"] < 1]))
        if len(found)
    ]
    verdict = (
        "the spread over the replicates is " + " and ".join(named) + "; the other intervals hold 1"
        if named
        else "every interval holds 1, so these runs cannot tell whether varying the split changes the spread"
    )
    return (
        "**What the split adds** (test-error sd over the replicates, which vary seed and split, divided by the "
        "sd over the seed study's seeds, one split at the seed study's lr and momentum; 95% interval, errors "
        "assumed normal): " + "; ".join(parts) + f": {verdict}."
    )


def not_learned_finding(runs):
    """Every run that did not learn (its final validation error within a margin of chance), by
    experiment: all of them, or the ones by name."""
    stuck = runs[~learned(runs)]
    margin = f"final validation error within {100 * NOT_LEARNED_MARGIN:g} points of chance, or diverged"
    if stuck.empty:
        return f"**Runs that did not learn** ({margin}): none; every one of the {len(runs)} runs learned."
    parts = []
    for (dataset, model), group in runs.groupby(["dataset", "model"], sort=False):
        failed = group[~learned(group)]
        if len(failed) == len(group):
            parts.append(f"{dataset} / {model}: all {len(group)} runs")
        elif len(failed):
            parts.append(f"{dataset} / {model}: {len(failed)} of {len(group)} ({', '.join(failed['run'])})")
    return f"**Runs that did not learn** ({margin}): {len(stuck)} of {len(runs)} runs; " + "; ".join(parts) + "."


def overfitting_finding(choices):
    """The experiment whose seed study shows the largest positive generalisation gap, in numbers; only
    where a gap is positive (validation error above train error)."""
    measured = [c for c in choices if (c["seed_study"].get("gap_mean") or 0) > 0]
    if not measured:
        return None
    widest = max(measured, key=lambda c: c["seed_study"]["gap_mean"])
    seeds = widest["seed_study"]
    others = ", ".join(
        f"{c['dataset']} / {c['model']} {percent_text(c['seed_study']['gap_mean'])}"
        for c in measured
        if c is not widest
    )
    return (
        f"**Over-fitting**: the largest generalisation gap (final validation minus final train error, seed "
        f"study) is {widest['dataset']} / {widest['model']}'s, {spread_text(seeds, 'gap')} points "
        f"(mean \u00b1 sd (min to max) over {seeds['n_ok']} seeds); its best validation epoch is "
        f"{seeds['best_epoch_mean']:.1f} on average, its last {seeds['epochs_completed_mean']:.0f}, and its final "
        f"validation error {percent_text(seeds['valid_error_mean'])}% against "
        f"{percent_text(seeds['best_valid_error_mean'])}% at the best epoch. Other positive gaps (points): "
        f"{others or 'none'}."
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
            f"{worst['momentum']:g}: {percent_text(worst['valid_error'])}% validation error"
        )
    study = cost.iloc[-1]
    cpu, wall, saved = (two_digits_text(study[f"{kind}_hours"]) for kind in ("cpu", "wall", "saved"))
    return (
        text + f". The study used {cpu} CPU hours ({wall} hours of job wall time); stopping diverged runs early "
        f"saved an estimated {saved} hours."
    )


def findings(choices, variance_by_task, pairwise_by_task, runs, problems, cost):
    """A finding per task (on its replicates), the tasks side by side, what the split adds to the spread,
    the runs that did not learn, over-fitting where there is any, and what went wrong and what it cost."""
    items = [
        task_finding(dataset, variance_by_task[dataset], pairwise_by_task[dataset]) for dataset in variance_by_task
    ]
    if len(variance_by_task) > 1:
        items.append(tasks_finding(variance_by_task, pairwise_by_task))
    items += [
        split_finding(variance_by_task),
        not_learned_finding(runs),
        overfitting_finding(choices),
        problems_finding(problems, cost, len(runs)),
    ]
    return [item for item in items if item]


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
        f"{{{', '.join(f'{v:g}' for v in study['grid_momentum'])}}} at seed {study['grid_seed']}; "
        f"{confirm_text(study['confirm'])}."
    )


def confirm_text(confirm):
    """The confirmation's rounds and budget in words."""
    return (
        f"the chosen configurations trained again as fresh replicates in rounds ({confirm['first']} each, "
        f"then {confirm['step']} more while a comparison is undecided, at most {confirm['max']}), each pair "
        f"of a task's models decided at familywise error {confirm['alpha']:g} per task"
    )


METHOD = (
    "How to read the numbers: each experiment's configuration is chosen on its learning-rate x momentum "
    "grid by the lowest final **validation** error (ties: validation loss); diverged runs are never chosen. "
    "The chosen configuration is then trained again as fresh **replicates** (never the grid run it was "
    "chosen on), each with its own seed and its own train/validation split, the same seed index and split "
    "for every model of a task, all tested on the same test images. Two models are compared replicate for "
    "replicate, in rounds: after each round every undecided pair gets an interval of the mean difference "
    "of test errors (in percentage points) whose standard error holds both the spread over replicates and "
    "the sampling of the test images, and which holds at 1 - alpha jointly over all rounds and all pairs "
    "of the task (O'Brien-Fleming repeated confidence intervals, alpha split over the pairs). A pair ends "
    'as "better" (the interval excludes 0), "equal within delta" (it lies inside -delta to delta), or "not '
    'decided within the budget" (with the precision the test images alone allow); a model trains another '
    "round only while one of its pairs is open. A task's best model is named only where it is decided "
    "better than every other; the **test** error is reported, never used to choose, and where no model is "
    "best the one ranked first by mean validation error over its replicates is named. How often a model "
    "won over the same replicates, and the two chosen grid runs on the same test images (McNemar's exact "
    "test), describe a pair beside its verdict. A diverged replicate stays in its pairs, every image it "
    "gave no finite output for counted wrong. The seed study (seeds only, one split, one configuration) "
    "shows how much of the spread comes from the seed alone. Train errors are the mean over each epoch's "
    "batches in training mode (dropout active): early in training, or with dropout, the gap can be "
    "negative (validation below train). docs/methods.md has the details and the simulations that prove "
    "the error rates."
)


def experiment_row(choice, grid, variance):
    """An experiment's row of its task's table, in words: the chosen run, its replicates, its seed study,
    its grid."""
    chosen, seeds = choice["chosen"], choice["seed_study"]
    rows = variance[variance["model"] == choice["model"]]
    replicated = len(rows) and rows.iloc[0]["n"] > 0
    return {
        "experiment": f"{choice['dataset']} / {choice['model']}",
        "chosen configuration": configuration(chosen) if chosen else "every grid run diverged",
        "replicates valid error (%), ranks": percent_text(rows.iloc[0]["valid_error_mean"]) if replicated else "-",
        "replicates test error (%)": replicate_text(rows.iloc[0]) if replicated else "-",
        "seed study test error (%)": spread_text(seeds, "test_error"),
        "gap valid - train (points)": spread_text(seeds, "gap"),
        "seeds ok": seeds["n_ok"],
        "grid diverged / far worse": (
            f"{int((grid['status'] != 'ok').sum())} / {int(grid['far_worse'].sum())} of {len(grid)}"
        ),
    }


def experiments_table(choices, grids, variance):
    """A task's experiments side by side, a row each in config order, every cell in words."""
    return pd.DataFrame(
        [experiment_row(choice, grids[(choice["dataset"], choice["model"])], variance) for choice in choices]
    )


def best_line(variance, pairwise):
    """The task's best model (decided better than every other), or the only one, or the models that
    cannot be told apart."""
    ranked = ranked_models(variance)
    if ranked.empty:
        return "**No model trained without diverging.**"
    models = list(ranked["model"])
    best = models[0] if len(variance) == 1 else best_model(pairwise, models)
    if best is None:
        top = undominated(pairwise, models)
        return (
            f"**No single best model:** none of {', '.join(top)} is decided better than the "
            f"other{'s' if len(top) > 2 else ''}; {top[0]} ranks first by mean validation error over its replicates."
        )
    row = ranked[ranked["model"] == best].iloc[0]
    title = "The only model" if len(variance) == 1 else "Best model"
    return f"**{title}: {best}** ({configuration(row)}): test error {replicate_text(row)}.{not_learned_note(row)}"


def not_learned_note(row):
    """' None of its 5 replicates learned ...' of a variance row whose replicates all failed to learn."""
    if row["learned"]:
        return ""
    return (
        f" None of its {int(row['n'])} replicates learned (final validation error within {100 * NOT_LEARNED_MARGIN:g} "
        "points of chance): there is no model of this task to trust."
    )


def task_section(dataset, choices, grids, variance, pairwise, of_pairs):
    links = filled(TASK_LINKS, dataset=dataset)
    if len(choices) == 1:  # nothing to compare: no pairwise table
        links.pop("pairwise tests")
    lines = [f"## {dataset}", "", best_line(variance, pairwise), ""]
    lines += [
        "Models: " + "; ".join(f"[{name}]({path})" for name, path in links.items()) + ".",
        "",
        markdown_table(experiments_table(choices, grids, variance)),
        "Chosen configuration: the grid run with the lowest final validation error. Replicates: their mean "
        "validation error, which ranks the models where none is decided best, and their mean test error "
        "with its 95% interval. Seed-study columns: mean \u00b1 sd (min to max) over the seeds that did not "
        "diverge.",
        "",
    ]
    lines += [
        f"- {row['model_a']} vs {row['model_b']}: {row['verdict']}; {row['description']}."
        for _, row in pairwise.iterrows()
    ]
    lines += ["", *[link_line(c["dataset"], c["model"], of_pairs) for c in choices], ""]
    return lines


def link_line(dataset, model, of_pairs):
    links = experiment_links(dataset, model, of_pairs)
    return f"- {dataset} / {model}: " + ", ".join(f"[{name}]({path})" for name, path in links.items())


def summary_markdown(choices, grids, variance_by_task, pairwise_by_task, runs, problems, cost, study, pairs_datasets):
    """The whole summary.md. `choices` in config order; `grids` keyed by (dataset, model); the variance
    and pairwise tables keyed by task (dataset); `runs`: runs.csv."""
    lines = ["# digitstudy results", "", study_block(study), "", "## Findings", ""]
    items = findings(choices, variance_by_task, pairwise_by_task, runs, problems, cost)
    lines += [f"{index}. {item}" for index, item in enumerate(items, 1)]
    lines += ["", METHOD, ""]
    for dataset in variance_by_task:
        lines += task_section(
            dataset,
            [c for c in choices if c["dataset"] == dataset],
            grids,
            variance_by_task[dataset],
            pairwise_by_task[dataset],
            dataset in pairs_datasets,
        )
    comparison = paths.under_results(paths.COMPARISON_PLOT)
    lines += ["## The tasks compared", "", f"![the chosen models of every task]({comparison})", ""]
    lines += [
        f"Images of {dataset} as the models see them: [samples]({sample_plot(dataset)}).\n"
        for dataset in variance_by_task
        if dataset in pairs_datasets
    ]
    lines += [
        "## Runs that went wrong, and cost",
        "",
        "- " + ", ".join(f"[{name}]({path})" for name, path in filled(STUDY_LINKS).items()),
        "",
    ]
    return "\n".join(lines)


def write_summary(inputs, study, tasks, pairs_datasets, outputs, report_href=None):
    """results/summary.md, its HTML form for the report, and the findings the report opens on
    (`inputs`, `outputs`: the write_summary rule's named files; inputs.variance, inputs.pairwise: a
    file per task, in the order of `tasks`; `report_href`: the rule script's snakemake.report_href)."""
    choices = [read_json(path) for path in inputs.choices]
    grids = {(c["dataset"], c["model"]): pd.read_csv(path) for c, path in zip(choices, inputs.grids)}
    by_task = lambda files: {task: pd.read_csv(path) for task, path in zip(tasks, files, strict=True)}  # noqa: E731
    text = summary_markdown(
        choices,
        grids,
        by_task(inputs.variance),
        by_task(inputs.pairwise),
        pd.read_csv(inputs.runs),
        pd.read_csv(inputs.problems),
        pd.read_csv(inputs.cost),
        study,
        pairs_datasets,
    )
    write_text_atomic(outputs.markdown, text)
    write_text_atomic(outputs.html, report_item_html(text, report_href))
    write_text_atomic(outputs.findings, landing_html(text, report_href))
