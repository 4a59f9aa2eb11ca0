"""From per-run metrics to tables: every run, each experiment's seed study and grid, the chosen run."""

import json
import math

import pandas as pd

from .paths import run_name

RUN_COLUMNS = ("dataset", "model", "run", "seed", "lr", "momentum", "batch_size", "epochs", "status",
               "reason", "diverged_epoch", "epochs_completed", "train_loss", "train_error",
               "valid_loss", "valid_error", "best_epoch", "best_valid_error", "test_loss", "test_error",
               "wall_seconds")
METRIC_COLUMNS = ("valid_error", "test_error", "valid_loss", "test_loss")


def flatten_record(record):
    """One tidy row of a metrics.json record."""
    number = lambda value: math.nan if value is None else value  # noqa: E731 (JSON null = diverged)
    return {
        **{key: record[key] for key in ("dataset", "model", "seed", "lr", "momentum", "batch_size",
                                         "epochs", "status", "reason", "diverged_epoch",
                                         "epochs_completed", "wall_seconds")},
        "run": run_name(record["seed"], record["lr"], record["momentum"]),
        **{key: number(value) for key, value in record["final"].items()},
        "best_epoch": record["best_valid"]["epoch"],
        "best_valid_error": number(record["best_valid"]["valid_error"]),
        "test_loss": number(record["test"]["loss"]), "test_error": number(record["test"]["error"]),
    }


def runs_table(metric_paths):
    """Every run as one row, in the order of the paths."""
    rows = [flatten_record(json.loads(open(path).read())) for path in metric_paths]
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def choose(runs):
    """The run with the lowest final validation misclassification (ties: validation loss), among
    runs that did not diverge. Never looks at the test set. None when every run diverged."""
    healthy = runs[(runs["status"] == "ok") & runs["valid_error"].notna()]
    if healthy.empty:
        return None
    ranked = healthy.sort_values(["valid_error", "valid_loss", "lr", "momentum"], kind="stable")
    return ranked.iloc[0]


def seed_table(runs):
    """Each seed's final errors and losses, then mean and sd (ddof=1) over the non-diverged seeds."""
    table = runs[["seed", "status", *METRIC_COLUMNS]].sort_values("seed").reset_index(drop=True)
    healthy = table[table["status"] == "ok"]
    summary = pd.DataFrame([
        {"seed": "mean", "status": f"{len(healthy)}/{len(table)} ok", **healthy[list(METRIC_COLUMNS)].mean()},
        {"seed": "sd", "status": "", **healthy[list(METRIC_COLUMNS)].std(ddof=1)},
    ])
    table["seed"] = table["seed"].astype(str)
    return pd.concat([table, summary], ignore_index=True)


def grid_table(runs, chosen):
    """One row per (lr, momentum): status, errors, losses, and whether it is the chosen run."""
    table = runs[["lr", "momentum", "status", "reason", "diverged_epoch", *METRIC_COLUMNS]].copy()
    table["chosen"] = runs["run"] == (chosen["run"] if chosen is not None else None)
    return table.sort_values(["lr", "momentum"]).reset_index(drop=True)


def percent(value):
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.2f}"


def grid_cell(row):
    if row["status"] != "ok":
        return f"diverged (epoch {int(row['diverged_epoch'])})"
    return percent(row["valid_error"]) + (" **chosen**" if row["chosen"] else "")


def grid_markdown(grid):
    """Validation error (%) with lr as rows and momentum as columns; diverged cells named."""
    cells = grid.assign(cell=grid.apply(grid_cell, axis=1))
    pivot = cells.pivot(index="lr", columns="momentum", values="cell")
    pivot.columns = [f"momentum {column:g}" for column in pivot.columns]
    pivot.index = [f"lr {index:g}" for index in pivot.index]
    return "Validation error (%) after the last epoch\n\n" + pivot.to_markdown() + "\n"


def seed_markdown(seeds):
    shown = seeds.copy()
    for column in METRIC_COLUMNS:
        shown[column] = [percent(value) if "error" in column else f"{value:.4f}" for value in shown[column]]
    shown.columns = [column.replace("_error", " error (%)").replace("_", " ") for column in shown.columns]
    return shown.to_markdown(index=False) + "\n"


def choice_record(dataset, model, chosen, seeds):
    """choice.json: the chosen configuration, its errors, and the seed study's spread beside it."""
    mean = seeds[seeds["seed"] == "mean"].iloc[0]
    sd = seeds[seeds["seed"] == "sd"].iloc[0]
    spread = {"seed_study": {"n_ok": mean["status"],
                             **{f"{key}_mean": mean[key] for key in METRIC_COLUMNS},
                             **{f"{key}_sd": sd[key] for key in METRIC_COLUMNS}}}
    if chosen is None:
        return {"dataset": dataset, "model": model, "chosen": None, **spread}
    keys = ("run", "seed", "lr", "momentum", "valid_error", "valid_loss", "test_error", "test_loss",
            "best_epoch", "epochs_completed")
    return {"dataset": dataset, "model": model,
            "chosen": {key: chosen[key].item() if hasattr(chosen[key], "item") else chosen[key]
                       for key in keys}, **spread}
