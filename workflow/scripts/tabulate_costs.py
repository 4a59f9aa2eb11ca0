"""Rule tabulate_costs: the study's compute per run, experiment and in all, and its problem runs."""

import pandas as pd

from digitstudy.aggregate import FAR_WORSE_MARGIN
from digitstudy.costs import cost_table, problem_runs_table, run_costs
from digitstudy.files import read_json
from digitstudy.scripting import logged
from digitstudy.tables import write_table


def tabulate_costs(runs_path, choice_paths, run_benchmarks, data_benchmarks, outputs, log):
    costs = run_costs(pd.read_csv(runs_path), run_benchmarks)
    choices = [read_json(path) for path in choice_paths]
    chosen = {(c["dataset"], c["model"]): c["chosen"]["valid_error"] for c in choices if c["chosen"]}
    table = cost_table(costs, data_benchmarks)
    write_table(
        table,
        outputs.cost_csv,
        outputs.cost_md,
        outputs.cost_html,
        "What the study cost",
        "Wall-clock and CPU hours from Snakemake's benchmark file of every job (a GPU's time shows in the "
        "wall hours only); saved: the epochs that diverged runs did not train, at their own epoch time.",
    )
    per_run = costs[
        ["dataset", "model", "run", "status", "epochs_completed", "seconds", "cpu_seconds", "saved_seconds"]
    ]
    write_table(
        per_run,
        outputs.runs_csv,
        outputs.runs_md,
        outputs.runs_html,
        "What each training run cost",
        "Wall-clock and CPU seconds of each training job (Snakemake's benchmark file); saved: the "
        "seconds a diverged run did not train.",
    )
    problems = problem_runs_table(costs, chosen)
    write_table(
        problems,
        outputs.problems_csv,
        outputs.problems_md,
        outputs.problems_html,
        "Runs that diverged or ended far worse",
        "Diverged: the loss became non-finite, or the validation error stayed at chance level for "
        "chance_patience epochs; the run stopped at epochs_completed. Far worse: did not diverge, but its "
        f"final validation error is more than {100 * FAR_WORSE_MARGIN:g} points above its experiment's "
        "chosen run.",
    )
    log(f"{len(problems)} problem runs; study {table.iloc[-1]['cpu_hours']:.2f} CPU hours")


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    tabulate_costs(
        runs_path=snakemake.input.runs,
        choice_paths=list(snakemake.input.choices),
        run_benchmarks=list(snakemake.input.run_benchmarks),
        data_benchmarks=list(snakemake.input.data_benchmarks),
        outputs=snakemake.output,
        log=log,
    )
