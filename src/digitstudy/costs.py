"""What the study cost (from Snakemake's benchmark files) and which runs went wrong (diverged, or
trained but ended far worse than their experiment's chosen run)."""

import pandas as pd

from .aggregate import FAR_WORSE_MARGIN, far_worse
from .files import read_json
from .paths import TRAIN_BENCHMARK, named_run_path
from .tables import Units, write_table


HOUR = 3600.0


def read_benchmark(path):
    """{"seconds", "cpu_seconds"} of a Snakemake benchmark file (its last row: the last repeat).
    CPU seconds count the job's processes on the CPU; a GPU's time shows only in the wall seconds."""
    row = pd.read_csv(path, sep="\t").iloc[-1]
    return {"seconds": float(row["s"]), "cpu_seconds": float(row["cpu_time"])}


def run_costs(runs):
    """runs.csv with each run's wall and CPU seconds (its benchmark file, paths.TRAIN_BENCHMARK), and the
    seconds a diverged run saved by stopping early: its remaining epochs at its own mean epoch time."""
    costs = pd.DataFrame(
        [read_benchmark(named_run_path(TRAIN_BENCHMARK, row.dataset, row.model, row.run)) for row in runs.itertuples()],
        columns=["seconds", "cpu_seconds"],
        index=runs.index,
    )
    table = pd.concat([runs, costs], axis=1)
    per_epoch = table["wall_seconds"] / table["epochs_completed"]
    remaining = (table["epochs"] - table["epochs_completed"]).where(table["status"] != "ok", 0)
    return table.assign(saved_seconds=remaining * per_epoch)


def cost_table(costs, data_benchmarks):
    """Hours per experiment and for the whole study (data preparation included)."""
    rows = [
        {
            "part": f"{dataset} / {model}",
            "runs": len(group),
            "diverged": int((group["status"] != "ok").sum()),
            **hours(group),
        }
        for (dataset, model), group in costs.groupby(["dataset", "model"], sort=False)
    ]
    data = pd.DataFrame([read_benchmark(path) for path in data_benchmarks], columns=["seconds", "cpu_seconds"])
    rows.append({"part": "data preparation", "runs": 0, "diverged": 0, **hours(data)})
    table = pd.DataFrame(rows)
    total = table.drop(columns="part").sum()
    whole = pd.concat([table, pd.DataFrame([{"part": "whole study", **total}])], ignore_index=True)
    return whole.astype({"runs": int, "diverged": int})


def hours(frame):
    saved = frame["saved_seconds"].sum() if "saved_seconds" in frame else 0.0
    return {
        "wall_hours": frame["seconds"].sum() / HOUR,
        "cpu_hours": frame["cpu_seconds"].sum() / HOUR,
        "saved_hours": saved / HOUR,
    }


def problem(row):
    if row["status"] == "ok":
        return "far worse"
    return "diverged: non-finite loss" if str(row["reason"]).startswith("non-finite") else "diverged: chance level"


def problem_runs_table(costs, chosen_valid_errors):
    """Every diverged run and every run that ended far worse than its experiment's chosen run, with
    the epoch it stopped at and the compute it used. chosen_valid_errors: {(dataset, model): error}."""
    flagged = []
    for (dataset, model), group in costs.groupby(["dataset", "model"], sort=False):
        chosen = chosen_valid_errors.get((dataset, model))
        worse = far_worse(group, chosen)
        flagged.append(group[(group["status"] != "ok") | worse].assign(chosen_valid_error=chosen))
    table = pd.concat(flagged, ignore_index=True) if flagged else costs.iloc[:0]
    # A column of text even when empty, as pandas reads it back from the CSV
    table = table.assign(
        problem=pd.Series([problem(row) for _, row in table.iterrows()], index=table.index, dtype=object)
    )
    return table[
        [
            "dataset",
            "model",
            "run",
            "lr",
            "momentum",
            "problem",
            "epochs_completed",
            "epochs",
            "valid_error",
            "chosen_valid_error",
            "seconds",
            "cpu_seconds",
            "saved_seconds",
        ]
    ]


COST_NOTE = (
    "Wall-clock and CPU hours from Snakemake's benchmark file of every job (a GPU's time shows in the "
    "wall hours only); saved: the epochs that diverged runs did not train, at their own epoch time. Hours "
    "to two significant digits (the CSV form holds them exactly)."
)
COST_UNITS = Units(two_digits=("wall_hours", "cpu_hours", "saved_hours"))
RUN_COSTS_NOTE = (
    "Wall-clock and CPU seconds of each training job (Snakemake's benchmark file); saved: the seconds "
    "a diverged run did not train."
)
PROBLEMS_NOTE = (
    "Diverged: the loss became non-finite, or the validation error stayed at chance level for "
    "chance_patience epochs; the run stopped at epochs_completed. Far worse: did not diverge, but its "
    f"final validation error is more than {100 * FAR_WORSE_MARGIN:g} points above its experiment's "
    "chosen run."
)
PROBLEMS_UNITS = Units(percent=("valid_error", "chosen_valid_error"))
RUN_COST_COLUMNS = ["dataset", "model", "run", "status", "epochs_completed", "seconds", "cpu_seconds", "saved_seconds"]


def write_cost_tables(runs_path, choice_paths, data_benchmarks, outputs):
    """The study's cost per experiment and in all, per run, and its problem runs, each as CSV, Markdown
    and HTML (`outputs`: the tabulate_costs rule's named outputs). Returns (cost, problems)."""
    costs = run_costs(pd.read_csv(runs_path))
    choices = [read_json(path) for path in choice_paths]
    chosen = {(c["dataset"], c["model"]): c["chosen"]["valid_error"] for c in choices if c["chosen"]}
    table = cost_table(costs, data_benchmarks)
    title = "What the study cost"
    write_table(table, outputs.cost_csv, outputs.cost_md, outputs.cost_html, title, COST_NOTE, units=COST_UNITS)
    title = "What each training run cost"
    write_table(costs[RUN_COST_COLUMNS], outputs.runs_csv, outputs.runs_md, outputs.runs_html, title, RUN_COSTS_NOTE)
    problems = problem_runs_table(costs, chosen)
    title = "Runs that diverged or ended far worse"
    write_table(
        problems,
        outputs.problems_csv,
        outputs.problems_md,
        outputs.problems_html,
        title,
        PROBLEMS_NOTE,
        units=PROBLEMS_UNITS,
    )
    return table, problems
