"""The confirmation stage: each experiment's chosen configuration trained again as replicates, each
with its own seed and train/validation split (study.replicates_of_choice), tabulated per task: every
replicate, and each model's spread over replicates beside its spread over the seed study's seeds."""

import pandas as pd

from .aggregate import NOT_LEARNED_MARGIN, learned, runs_table
from .stats import mean_interval, sd_ratio, spread
from .tables import write_table


REPLICATE_COLUMNS = [
    "dataset",
    "model",
    "replicate",
    "seed",
    "split_seed",
    "lr",
    "momentum",
    "status",
    "train_error",
    "valid_error",
    "test_error",
    "learned",
]
VARIANCE_COLUMNS = [
    "dataset",
    "model",
    "lr",
    "momentum",
    "n",
    "test_error_mean",
    "test_error_sd",
    "test_error_low",
    "test_error_high",
    "valid_error_mean",
    "learned",
    "seed_n",
    "seed_test_error_sd",
    "sd_ratio",
    "sd_ratio_low",
    "sd_ratio_high",
]


def replicates_table(metric_paths):
    """One row per replicate, model after model as the paths come (each model's replicate 0, the chosen
    grid run, first): its seed, split seed, final errors, and whether it learned (aggregate.learned)."""
    runs = runs_table(metric_paths)
    runs = runs.assign(
        replicate=runs.groupby("model", sort=False).cumcount(),
        learned=learned(runs),
    )
    return runs[REPLICATE_COLUMNS].reset_index(drop=True)


def replicate_errors(replicates, model):
    """A model's test errors by replicate index (NaN where the replicate diverged)."""
    rows = replicates[replicates["model"] == model]
    return rows.set_index("replicate")["test_error"].astype(float)


def variance_row(dataset, model, rows, seed_errors):
    """A model's test error over its replicates (mean, sd, 95% t-interval of the mean) beside the sd of
    the seed study's test errors (seeds only, one split), and their ratio with its 95% interval: how
    much the split adds to the spread, and whether the runs can tell."""
    healthy = rows[rows["status"] == "ok"]
    replicates = mean_interval(healthy["test_error"].astype(float))
    seeds = spread(seed_errors)
    ratio = sd_ratio(replicates["sd"], replicates["n"], seeds["sd"], seeds["n"])
    return {
        "dataset": dataset,
        "model": model,
        "lr": rows["lr"].iloc[0],
        "momentum": rows["momentum"].iloc[0],
        "n": replicates["n"],
        **{f"test_error_{key}": replicates[key] for key in ("mean", "sd", "low", "high")},
        "valid_error_mean": healthy["valid_error"].astype(float).mean() if len(healthy) else None,
        "learned": f"{int(rows['learned'].sum())} of {len(rows)}",
        "seed_n": seeds["n"],
        "seed_test_error_sd": seeds["sd"],
        "sd_ratio": ratio["ratio"],
        "sd_ratio_low": ratio["low"],
        "sd_ratio_high": ratio["high"],
    }


def variance_table(dataset, replicates, seed_errors):
    """A row per model with replicates, in their order; seed_errors: each model's seed-study test errors."""
    rows = [
        variance_row(dataset, model, group, seed_errors[model])
        for model, group in replicates.groupby("model", sort=False)
    ]
    return pd.DataFrame(rows, columns=VARIANCE_COLUMNS)


REPLICATES_NOTE = (
    "Each chosen configuration trained again: replicate 0 is the chosen grid run (grid seed, the study's "
    "split); replicate i trains with seed grid.seed + i on the train/validation split of split seed "
    "data.split_seed + i. Every replicate is tested on the same test images. Learned: the final "
    f"validation error ended more than {100 * NOT_LEARNED_MARGIN:g} points below chance."
)
VARIANCE_NOTE = (
    "Test error over the replicates (seed and train/validation split varied): mean, sd and the 95% "
    "t-interval of the mean; valid error mean: the mean validation error, which ranks the models. Seed sd: "
    "the seed study's test-error sd (seeds only, one split, at the seed study's lr and momentum); "
    "sd ratio: replicate sd / seed sd, what varying the split adds, with its 95% interval (low, high; from "
    "the F distribution, errors assumed normal): where the interval holds 1, these runs cannot tell whether "
    "the split adds spread."
)


def write_replicate_tables(dataset, metric_paths, seed_metric_paths, outputs):
    """A task's replicates and variance tables, each as CSV, Markdown and HTML (`outputs`: the
    tabulate_replicates rule's named outputs; seed_metric_paths: the seed-study runs of its models).
    Returns the variance table."""
    replicates = replicates_table(metric_paths)
    seeds = runs_table(seed_metric_paths)
    healthy = seeds[seeds["status"] == "ok"]
    seed_errors = {model: healthy[healthy["model"] == model]["test_error"].tolist() for model in seeds["model"]}
    variance = variance_table(dataset, replicates, seed_errors)
    title = f"{dataset}: every replicate of each chosen configuration"
    write_table(
        replicates,
        outputs.replicates_csv,
        outputs.replicates_md,
        outputs.replicates_html,
        title,
        REPLICATES_NOTE,
    )
    title = f"{dataset}: spread of the test error over replicates and over seeds"
    write_table(variance, outputs.variance_csv, outputs.variance_md, outputs.variance_html, title, VARIANCE_NOTE)
    return variance
