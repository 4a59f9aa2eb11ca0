"""From per-run metrics to tables: every run, each experiment's seed study and grid, the chosen run."""

import math

import pandas as pd

from .errors import DigitstudyError
from .files import read_json, write_json_atomic
from .tables import Units, percent_text, write_table


RUN_COLUMNS = (
    "dataset",
    "model",
    "run",
    "seed",
    "split_seed",
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
    "chance_error",
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
# A run whose final validation error ends within this margin (10 points) of chance (always answering
# the most frequent training class) did not learn, whether or not it counts as diverged.
NOT_LEARNED_MARGIN = 0.10


def flatten_record(record):
    """One tidy row of a metrics.json record, in RUN_COLUMNS order: the run's name and its final,
    best and test numbers computed here, every other column as metrics.json has it."""
    number = lambda value: math.nan if value is None else value  # noqa: E731 (JSON null = diverged)
    computed = {
        "run": record["run"],
        **{key: number(value) for key, value in record["final"].items()},
        "best_epoch": record["best_valid"]["epoch"],
        "best_valid_error": number(record["best_valid"]["valid_error"]),
        "test_loss": number(record["test"]["loss"]),
        "test_error": number(record["test"]["error"]),
    }
    return {key: computed[key] if key in computed else record[key] for key in RUN_COLUMNS}


def read_record(metrics_path):
    """A run's metrics.json; one line naming it where it is damaged (cut short by hand, or by a full disk)."""
    try:
        return read_json(metrics_path)
    except ValueError as error:  # not JSON text, or not text at all
        raise DigitstudyError(
            f"{metrics_path}: damaged, not a run's record ({error}); train its run again with "
            f"`snakemake --forcerun {metrics_path}` (and your usual options)"
        ) from None


def runs_table(metric_paths):
    """Every run as one row, in the order of the paths (an epoch that is not there, as a diverged run's
    diverged_epoch, stays empty in an integer column)."""
    rows = [flatten_record(read_record(path)) for path in metric_paths]
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS)).astype({"diverged_epoch": "Int64"})


def choose(runs):
    """The run with the lowest final validation misclassification (ties: validation loss), among
    runs that did not diverge. Never looks at the test set. None when every run diverged."""
    healthy = runs[(runs["status"] == "ok") & runs["valid_error"].notna()]
    if healthy.empty:
        return None
    ranked = healthy.sort_values(["valid_error", "valid_loss", "lr", "momentum"], kind="stable")
    return ranked.iloc[0]


def seed_table(runs):
    """One row per seed: its final errors, gap and best epoch (a tidy table: the summary over seeds is
    seed_summary_rows)."""
    table = runs.assign(gap=runs["valid_error"] - runs["train_error"])
    return table[["seed", "status", *SEED_COLUMNS]].sort_values("seed").reset_index(drop=True)


def seed_summary_rows(seeds):
    """Mean, sd (ddof=1), min and max over the seeds that did not diverge, a row each, for the
    Markdown and HTML views of the seed study."""
    healthy = seeds[seeds["status"] == "ok"][list(SEED_COLUMNS)].astype(float)
    values = {"mean": healthy.mean(), "sd": healthy.std(ddof=1), "min": healthy.min(), "max": healthy.max()}
    return pd.DataFrame(
        [
            {"seed": name, "status": f"{len(healthy)}/{len(seeds)} ok" if name == "mean" else "", **values[name]}
            for name in SEED_SUMMARIES
        ]
    )


def seed_test_errors(seeds):
    """The test errors of a seed table's seeds that did not diverge."""
    runs = seeds[seeds["status"] == "ok"]
    return runs["test_error"].astype(float).tolist()


def seed_view(seeds):
    """The seed table as a reader sees it: a row per seed, then the summary rows."""
    return pd.concat([seeds.astype({"seed": str}), seed_summary_rows(seeds)], ignore_index=True)


def learned(runs):
    """True for each run (a runs table's rows) that did not diverge and ended more than
    NOT_LEARNED_MARGIN below chance in final validation error."""
    return (runs["status"] == "ok") & (runs["valid_error"] < runs["chance_error"] - NOT_LEARNED_MARGIN)


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


def grid_cell(row):
    if row["status"] != "ok":
        return f"diverged (epoch {int(row['diverged_epoch'])})"
    return (
        percent_text(row["valid_error"])
        + (" **chosen**" if row["chosen"] else "")
        + (" (far worse)" if row["far_worse"] else "")
    )


def grid_view(grid):
    """The grid as a reader scans it: validation error (%) with lr as rows and momentum as columns,
    diverged, chosen and far-worse cells named."""
    cells = grid.assign(cell=grid.apply(grid_cell, axis=1))
    pivot = cells.pivot(index="lr", columns="momentum", values="cell")
    pivot.columns = [f"momentum {column:g}" for column in pivot.columns]
    return pivot.reset_index()


def seed_summary(seeds):
    """{"n_ok": "k/n ok", "<column>_<mean|sd|min|max>": value} of a seed table."""
    rows = seed_summary_rows(seeds).set_index("seed")
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


# --- the rules' files ---------------------------------------------------------------------------------

RUNS_NOTE = (
    "One row per run: hyperparameters, status, final train and validation values, best validation "
    "epoch, test values, wall seconds."
)
RUN_UNITS = Units(percent=("train_error", "valid_error", "best_valid_error", "test_error", "chance_error"))
SEED_NOTE = (
    "Final train, validation and test error of each seed, the generalisation gap (final validation "
    "minus final train error), and the epoch of the best validation error beside the last epoch; "
    "mean, sd, min and max over the seeds that did not diverge."
)
SEED_UNITS = Units(percent=("train_error", "valid_error", "test_error", "best_valid_error"), points=("gap",))
GRID_NOTE = (
    "Final validation error over learning rate x momentum (one seed); chosen: the lowest validation "
    f"error; far worse: did not diverge, yet ended more than {100 * FAR_WORSE_MARGIN:g} points above the "
    "chosen run. The Markdown form shows the validation error (%) with lr as rows and momentum as columns."
)
GRID_UNITS = Units(percent=("valid_error", "test_error"))


def write_runs_table(metric_paths, csv_path, html_path):
    """results/runs.csv (one tidy row per run) and its HTML view; returns the table."""
    runs = runs_table(metric_paths)
    write_table(runs, csv_path, None, html_path, "Every training run", RUNS_NOTE, units=RUN_UNITS)
    return runs


def write_choice(dataset, model, grid_metrics, seed_metrics, out_path):
    """An experiment's choice.json: its chosen grid run and the seed study's spread; returns it."""
    record = choice_record(dataset, model, choose(runs_table(grid_metrics)), seed_table(runs_table(seed_metrics)))
    write_json_atomic(out_path, record)
    return record


def write_experiment_tables(dataset, model, seed_metrics, grid_metrics, choice_path, outputs):
    """An experiment's seed-study and grid tables, each as CSV, Markdown and HTML (`outputs`: the
    make_tables rule's named outputs)."""
    seeds = seed_table(runs_table(seed_metrics))
    grid = grid_table(runs_table(grid_metrics), read_json(choice_path)["chosen"])
    title = f"{dataset} / {model}"
    write_table(
        seeds,
        outputs.seeds_csv,
        outputs.seeds_md,
        outputs.seeds_html,
        f"{title}: seed study",
        SEED_NOTE,
        units=SEED_UNITS,
        view=seed_view(seeds),
    )
    write_table(
        grid,
        outputs.grid_csv,
        outputs.grid_md,
        outputs.grid_html,
        f"{title}: grid",
        GRID_NOTE,
        units=GRID_UNITS,
        markdown_view=grid_view(grid),
    )
