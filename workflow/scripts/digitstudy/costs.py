"""What the study cost (from Snakemake's benchmark files) and which runs went wrong (diverged, or
trained but ended far worse than their experiment's chosen run)."""

from pathlib import Path

import pandas as pd

from .aggregate import far_worse


HOUR = 3600.0


def read_benchmark(path):
    """{"seconds", "cpu_seconds"} of a Snakemake benchmark file (its last row: the last repeat).
    CPU seconds count the job's processes on the CPU; a GPU's time shows only in the wall seconds."""
    row = pd.read_csv(path, sep="\t").iloc[-1]
    return {"seconds": float(row["s"]), "cpu_seconds": float(row["cpu_time"])}


def benchmark_key(path):
    """(dataset, model, run) of benchmarks/train/{dataset}/{model}/{run}.tsv."""
    path = Path(path)
    return path.parent.parent.name, path.parent.name, path.stem


def run_costs(runs, benchmark_paths):
    """runs.csv with each run's wall and CPU seconds, and the seconds a diverged run saved by stopping
    early: its remaining epochs at its own mean epoch time."""
    costs = pd.DataFrame(
        [
            {"dataset": key[0], "model": key[1], "run": key[2], **read_benchmark(path)}
            for path, key in ((path, benchmark_key(path)) for path in benchmark_paths)
        ],
        columns=["dataset", "model", "run", "seconds", "cpu_seconds"],
    )
    table = runs.merge(costs, on=["dataset", "model", "run"], how="left")
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
    return pd.concat([table, pd.DataFrame([{"part": "whole study", **total}])], ignore_index=True)


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
    table = table.assign(problem=table.apply(problem, axis=1) if len(table) else [])
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
