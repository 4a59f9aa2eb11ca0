"""From per-run metrics to tables: every run, each experiment's seed study and grid, the chosen run."""

import math

import pandas as pd

from .files import read_json
from .paths import run_name


RUN_COLUMNS = (
    "dataset",
    "model",
    "run",
    "seed",
    "lr",
    "momentum",
    "batch_size",
    "epochs",
    "status",
    "reason",
    "diverged_epoch",
    "epochs_completed",
    "train_loss",
    "train_error",
    "valid_loss",
    "valid_error",
    "best_epoch",
    "best_valid_error",
    "test_loss",
    "test_error",
    "wall_seconds",
)
METRIC_COLUMNS = ("valid_error", "test_error", "valid_loss", "test_loss")
# The seed study's columns: final errors of every split, the generalisation gap (final validation
# minus final train error) and the epoch of the best validation error beside the last epoch.
SEED_COLUMNS = ("train_error", *METRIC_COLUMNS, "gap", "best_epoch", "best_valid_error", "epochs_completed")
SEED_SUMMARIES = ("mean", "sd", "min", "max")
# A run that trained (did not diverge) yet ended this far (in error, 0.10 = 10 percentage points)
# above the final validation error of its experiment's chosen run is flagged "far worse".
FAR_WORSE_MARGIN = 0.10


def flatten_record(record):
    """One tidy row of a metrics.json record, in RUN_COLUMNS order: the run's name and its final,
    best and test numbers computed here, every other column as metrics.json has it."""
    number = lambda value: math.nan if value is None else value  # noqa: E731 (JSON null = diverged)
    computed = {
        "run": run_name(record["seed"], record["lr"], record["momentum"]),
        **{key: number(value) for key, value in record["final"].items()},
        "best_epoch": record["best_valid"]["epoch"],
        "best_valid_error": number(record["best_valid"]["valid_error"]),
        "test_loss": number(record["test"]["loss"]),
        "test_error": number(record["test"]["error"]),
    }
    return {key: computed[key] if key in computed else record[key] for key in RUN_COLUMNS}


def runs_table(metric_paths):
    """Every run as one row, in the order of the paths."""
    rows = [flatten_record(read_json(path)) for path in metric_paths]
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
    """Each seed's final errors, gap and best epoch, then mean, sd (ddof=1), min and max over the
    seeds that did not diverge."""
    table = runs.assign(gap=runs["valid_error"] - runs["train_error"])
    table = table[["seed", "status", *SEED_COLUMNS]].sort_values("seed").reset_index(drop=True)
    healthy = table[table["status"] == "ok"][list(SEED_COLUMNS)].astype(float)
    values = {"mean": healthy.mean(), "sd": healthy.std(ddof=1), "min": healthy.min(), "max": healthy.max()}
    summary = pd.DataFrame(
        [
            {"seed": name, "status": f"{len(healthy)}/{len(table)} ok" if name == "mean" else "", **values[name]}
            for name in SEED_SUMMARIES
        ]
    )
    table["seed"] = table["seed"].astype(str)
    return pd.concat([table, summary], ignore_index=True)


def far_worse(runs, chosen_valid_error):
    """True for each run that did not diverge but ended more than FAR_WORSE_MARGIN above its
    experiment's chosen run's final validation error (all False when nothing was chosen)."""
    if chosen_valid_error is None:
        return pd.Series(False, index=runs.index)
    return (runs["status"] == "ok") & (runs["valid_error"] > chosen_valid_error + FAR_WORSE_MARGIN)


def grid_table(runs, chosen):
    """One row per (lr, momentum): status, errors, losses, and whether it is the chosen run."""
    table = runs[["lr", "momentum", "status", "reason", "diverged_epoch", *METRIC_COLUMNS]].copy()
    table["chosen"] = runs["run"] == (chosen["run"] if chosen is not None else None)
    table["far_worse"] = far_worse(runs, None if chosen is None else chosen["valid_error"])
    return table.sort_values(["lr", "momentum"]).reset_index(drop=True)


def percent(value):
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.2f}"


def grid_cell(row):
    if row["status"] != "ok":
        return f"diverged (epoch {int(row['diverged_epoch'])})"
    return (
        percent(row["valid_error"])
        + (" **chosen**" if row["chosen"] else "")
        + (" (far worse)" if row["far_worse"] else "")
    )


def grid_markdown(grid):
    """Validation error (%) with lr as rows and momentum as columns; diverged cells named."""
    cells = grid.assign(cell=grid.apply(grid_cell, axis=1))
    pivot = cells.pivot(index="lr", columns="momentum", values="cell")
    pivot.columns = [f"momentum {column:g}" for column in pivot.columns]
    pivot.index = [f"lr {index:g}" for index in pivot.index]
    return (
        "Validation error (%) after the last epoch. Far worse: did not diverge, yet ended more than "
        f"{100 * FAR_WORSE_MARGIN:g} points above the chosen run.\n\n" + pivot.to_markdown() + "\n"
    )


def seed_markdown(seeds):
    """The seed table with errors in percent and the columns named for a reader."""
    shown = seeds.copy()
    for column in SEED_COLUMNS:
        if column in ("best_epoch", "epochs_completed"):
            shown[column] = [
                f"{value:.1f}" if row in ("mean", "sd") else f"{value:.0f}"
                for row, value in zip(shown["seed"], shown[column])
            ]
        elif "loss" in column:
            shown[column] = [f"{value:.4f}" for value in shown[column]]
        else:
            shown[column] = [percent(value) for value in shown[column]]
    shown = shown.rename(
        columns={
            "gap": "gap: valid - train (points)",
            "best_epoch": "best valid epoch",
            "best_valid_error": "best valid error (%)",
            "epochs_completed": "last epoch",
        }
    )
    shown.columns = [column.replace("_error", " error (%)").replace("_", " ") for column in shown.columns]
    return shown.to_markdown(index=False, disable_numparse=True) + "\n"


def seed_summary(seeds):
    """{"n_ok": "k/n ok", "<column>_<mean|sd|min|max>": value} of a seed table."""
    rows = seeds.set_index("seed")
    return {
        "n_ok": rows.loc["mean", "status"],
        **{
            f"{column}_{name}": number_or_none(rows.loc[name, column])
            for column in SEED_COLUMNS
            for name in SEED_SUMMARIES
        },
    }


def number_or_none(value):
    value = float(value)
    return None if math.isnan(value) else value


def choice_record(dataset, model, chosen, seeds):
    """choice.json: the chosen configuration, its errors, and the seed study's spread beside it."""
    spread = {"seed_study": seed_summary(seeds)}
    if chosen is None:
        return {"dataset": dataset, "model": model, "chosen": None, **spread}
    keys = (
        "run",
        "seed",
        "lr",
        "momentum",
        "train_error",
        "valid_error",
        "valid_loss",
        "test_error",
        "test_loss",
        "best_epoch",
        "epochs_completed",
    )
    return {
        "dataset": dataset,
        "model": model,
        "chosen": {key: chosen[key].item() if hasattr(chosen[key], "item") else chosen[key] for key in keys},
        **spread,
    }
