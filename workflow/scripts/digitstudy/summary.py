"""results/summary.md: the best model per task, each experiment's choice, links to tables and plots."""

from .aggregate import percent


def best_of_task(choices):
    """The chosen run with the lowest validation error (ties: validation loss) among a task's experiments."""
    candidates = [choice for choice in choices if choice["chosen"]]
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c["chosen"]["valid_error"], c["chosen"]["valid_loss"]))


def spread(choice, split):
    seeds = choice["seed_study"]
    return f"{percent(seeds[f'{split}_error_mean'])} \u00b1 {percent(seeds[f'{split}_error_sd'])}"


def experiment_row(choice, diverged, total):
    chosen = choice["chosen"]
    if chosen is None:
        configuration, valid, test = "every grid run diverged", "-", "-"
    else:
        configuration = f"lr {chosen['lr']:g}, momentum {chosen['momentum']:g}"
        valid, test = percent(chosen["valid_error"]), percent(chosen["test_error"])
    return (f"| {choice['model']} | {configuration} | {valid} | {test} | {spread(choice, 'valid')} "
            f"| {spread(choice, 'test')} | {choice['seed_study']['n_ok']} | {diverged}/{total} |")


def experiment_links(choice):
    folder = f"{choice['dataset']}/{choice['model']}"
    tables = f"[seed study](tables/{folder}/seeds.md), [grid](tables/{folder}/grid.md)"
    plots = (f"[learning curves](plots/{folder}/curves.png), [grid heatmap](plots/{folder}/grid.png), "
             f"[first-layer weights](plots/{folder}/weights.png)")
    return f"- {choice['model']}: {tables}; {plots}"


def task_section(dataset, choices, grids):
    best = best_of_task(choices)
    lines = [f"## {dataset}", ""]
    if best:
        chosen = best["chosen"]
        lines += [f"**Best model: {best['model']}** (lr {chosen['lr']:g}, momentum {chosen['momentum']:g}, "
                  f"seed {chosen['seed']}): validation error {percent(chosen['valid_error'])}%, "
                  f"test error {percent(chosen['test_error'])}%.", ""]
    else:
        lines += ["**No model trained without diverging.**", ""]
    lines += ["| model | chosen configuration | valid error (%) | test error (%) | seed study valid (%) "
              "| seed study test (%) | seeds ok | grid diverged |",
              "|---|---|---|---|---|---|---|---|"]
    for choice in choices:
        grid = grids[(choice["dataset"], choice["model"])]
        lines.append(experiment_row(choice, int((grid["status"] != "ok").sum()), len(grid)))
    lines += ["", *[experiment_links(choice) for choice in choices], ""]
    return lines


def summary_markdown(choices, grids, seed_study):
    """The whole summary.md. `choices` in config order; `grids` keyed by (dataset, model)."""
    lines = ["# digitstudy results", "",
             "Each experiment's configuration is chosen on its learning-rate x momentum grid "
             f"(seed {seed_study['grid_seed']}) by the lowest final validation error (ties: validation loss); "
             "diverged runs are never chosen. The test error of the chosen run is reported, never used "
             "to choose. The seed-study columns give mean \u00b1 sd over seeds "
             f"{', '.join(str(s) for s in seed_study['seeds'])} at lr {seed_study['lr']:g}, momentum "
             f"{seed_study['momentum']:g}: differences smaller than that spread are noise.", ""]
    for dataset in dict.fromkeys(choice["dataset"] for choice in choices):
        lines += task_section(dataset, [c for c in choices if c["dataset"] == dataset], grids)
    lines += ["## The tasks compared", "", "![comparison of the chosen models](plots/comparison.png)", ""]
    if any(choice["dataset"] == "twodigit" for choice in choices):
        lines += ["Two-digit images as the models see them: [samples](plots/twodigit_samples.png).", ""]
    lines += ["Every run, one row each: [runs.csv](runs.csv).", ""]
    return "\n".join(lines)
