"""The confirmation stage: each experiment's chosen configuration trained again as fresh replicates,
each with its own seed and train/validation split (study.replicate_run), in rounds: after each round
the task's pairs of models are judged on every replicate so far (sequential.task_decisions), and the
models with an undecided pair train another round. Tabulated per task: every replicate, each model's
test error with its interval and spread beside the seed study's, and the final decisions."""

import re

import numpy as np
import pandas as pd

from .aggregate import NOT_LEARNED_MARGIN, learned, runs_table
from .files import read_json, write_json_atomic
from .paths import ROUND_PREDICTIONS
from .study import looks
from .tables import Units, write_table


REPLICATE_COLUMNS = [
    "dataset",
    "model",
    "replicate",
    "round",
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
    "test_error_se",
    "test_error_se_images",
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


def replicates_table(metric_paths, wrong, round_sizes):
    """One row per replicate, model after model as the paths come (replicate 1 first): the round that
    trained it, its seed, split seed, final errors, and whether it learned (aggregate.learned). Its test
    error is counted from its predictions (`wrong`: {model: {run: bool per test image}}), as the decisions count
    it: a diverged replicate's images without a prediction are wrong."""
    runs = runs_table(metric_paths)
    replicate = runs.groupby("model", sort=False).cumcount() + 1
    runs = runs.assign(
        replicate=replicate,
        round=[next(k for k, size in enumerate(round_sizes, 1) if index <= size) for index in replicate],
        test_error=[float(wrong[model][run].mean()) for model, run in zip(runs["model"], runs["run"])],
        learned=learned(runs),
    )
    return runs[REPLICATE_COLUMNS].reset_index(drop=True)


def variance_row(dataset, model, rows, wrong, seed_errors):
    """A model's test error over its replicates: mean, sd, and the 95% interval of the mean whose
    standard error holds the replicates' spread and the test images' sampling (sequential.
    mean_error_interval, within 0-100%), beside the sd of the seed study's test errors (seeds only, one
    split), and their ratio with its 95% interval: how much the split adds to the spread."""
    from .sequential import mean_error_interval  # scipy: only the jobs that tabulate load it
    from .stats import sd_ratio, spread

    interval = mean_error_interval(wrong)
    errors = spread(rows["test_error"].astype(float))
    seeds = spread(seed_errors)
    ratio = sd_ratio(errors["sd"], errors["n"], seeds["sd"], seeds["n"])
    return {
        "dataset": dataset,
        "model": model,
        "lr": rows["lr"].iloc[0],
        "momentum": rows["momentum"].iloc[0],
        "n": errors["n"],
        "test_error_mean": errors["mean"],
        "test_error_sd": errors["sd"],
        "test_error_se": interval["se"],
        "test_error_se_images": interval["se_images"],
        "test_error_low": interval["low"],
        "test_error_high": interval["high"],
        "valid_error_mean": rows["valid_error"].astype(float).mean(),
        "learned": int(rows["learned"].sum()),
        "seed_n": seeds["n"],
        "seed_test_error_sd": seeds["sd"],
        "sd_ratio": ratio["ratio"],
        "sd_ratio_low": ratio["low"],
        "sd_ratio_high": ratio["high"],
    }


def variance_table(dataset, replicates, wrong, seed_errors):
    """A row per model with replicates, in their order. wrong: {model: bool array replicates x test
    images}; seed_errors: each model's seed-study test errors."""
    rows = [
        variance_row(dataset, model, group, wrong[model], seed_errors[model])
        for model, group in replicates.groupby("model", sort=False)
    ]
    return pd.DataFrame(rows, columns=VARIANCE_COLUMNS)


REPLICATES_NOTE = (
    "Each chosen configuration trained again as fresh replicates, in rounds: replicate i trains with seed "
    "grid.seed + i on the train/validation split of split seed data.split_seed + i, the same i for every "
    "model; the grid run it was chosen on is not one of them. Every replicate is tested on the same test "
    "images. Test error: counted from the replicate's predictions, as the decisions count it (a diverged "
    "replicate's images without a finite output count as wrong). Learned: the final validation error "
    f"ended more than {100 * NOT_LEARNED_MARGIN:g} points below chance."
)
REPLICATES_UNITS = Units(percent=("train_error", "valid_error", "test_error"))
VARIANCE_NOTE = (
    "Test error over the replicates (seed and train/validation split varied): mean, sd, and the 95% "
    "interval of the mean, whose standard error (se) holds both the spread over the replicates and the "
    "sampling of the test images (se images: that part alone, which no number of replicates removes); "
    "within 0-100%. Valid error mean: the mean validation error over the replicates. Learned: how many of "
    "the n replicates learned (as in the replicates table). Seed sd: the seed "
    "study's test-error sd (seeds only, one split, at the seed study's lr and momentum); sd ratio: "
    "replicate sd / seed sd, what varying the split adds, with its 95% interval (low, high; from the F "
    "distribution, errors assumed normal): where the interval holds 1, these runs cannot tell whether the "
    "split adds spread."
)
VARIANCE_UNITS = Units(
    percent=(
        "test_error_mean",
        "test_error_sd",
        "test_error_se",
        "test_error_se_images",
        "test_error_low",
        "test_error_high",
        "valid_error_mean",
        "seed_test_error_sd",
    ),
    two_digits=("sd_ratio", "sd_ratio_low", "sd_ratio_high"),
)


def variance_view(variance):
    """The variance table as a reader sees it: how many of its replicates learned, as 'k of n'."""
    return variance.assign(learned=[f"{k} of {n}" for k, n in zip(variance["learned"], variance["n"])])


def write_replicate_tables(dataset, metric_paths, seed_metric_paths, prediction_files, decisions_path, outputs):
    """A task's replicates and variance tables, each as CSV, Markdown and HTML, and its final decisions
    (`outputs`: the tabulate_replicates rule's named outputs; seed_metric_paths: the seed-study runs of
    its models; prediction_files: {model: its round prediction files}; decisions_path: the last round's
    decisions). Returns the variance table."""
    decisions = read_json(decisions_path)
    wrong = {model: model_wrong(files) for model, files in prediction_files.items()}
    by_run = {model: dict(zip(runs, matrix)) for model, (runs, matrix) in wrong.items()}
    replicates = replicates_table(metric_paths, by_run, decisions["looks"])
    seeds = runs_table(seed_metric_paths)
    healthy = seeds[seeds["status"] == "ok"]
    seed_errors = {model: healthy[healthy["model"] == model]["test_error"].tolist() for model in seeds["model"]}
    variance = variance_table(dataset, replicates, {model: matrix for model, (_, matrix) in wrong.items()}, seed_errors)
    title = f"{dataset}: every replicate of each chosen configuration"
    write_table(
        replicates,
        outputs.replicates_csv,
        outputs.replicates_md,
        outputs.replicates_html,
        title,
        REPLICATES_NOTE,
        units=REPLICATES_UNITS,
    )
    title = f"{dataset}: test error over the replicates, and its spread beside the seed study's"
    write_table(
        variance,
        outputs.variance_csv,
        outputs.variance_md,
        outputs.variance_html,
        title,
        VARIANCE_NOTE,
        units=VARIANCE_UNITS,
        view=variance_view(variance),
    )
    write_json_atomic(outputs.decisions, decisions)
    return variance


def wrong_images(predictions):
    """{run: bool array, True where the run got the test image wrong} of a model's round prediction
    frames (rule predict_round), in column order (replicate order). A diverged replicate's images
    without a prediction (predictions.NO_PREDICTION) are wrong, like any other that is not the label."""
    wrong = {}
    for frame in predictions:
        labels = frame["label"].to_numpy()
        wrong.update({run: frame[run].to_numpy() != labels for run in frame.columns if run not in ("index", "label")})
    return wrong


def prediction_files_by_model(prediction_paths, models):
    """{model: its round prediction files, rounds in order} of a task's prediction files (ROUND_PREDICTIONS),
    models in the order of `models` (config order), each listed only where it has files."""
    pattern = re.compile(
        re.escape(ROUND_PREDICTIONS)
        .replace(r"\{dataset\}", "[^/]+")
        .replace(r"\{model\}", "(?P<model>[^/]+)")
        .replace(r"\{round\}", "(?P<round>[0-9]+)")
    )
    found = {}
    for path in prediction_paths:
        match = pattern.fullmatch(str(path))
        if match is None:
            raise ValueError(f"{path}: not a round's predictions ({ROUND_PREDICTIONS})")
        found.setdefault(match["model"], []).append((int(match["round"]), str(path)))
    return {model: [path for _, path in sorted(found[model])] for model in models if model in found}


def model_wrong(prediction_paths):
    """(run names in replicate order, bool array replicates x test images: True where wrong) of one
    model's round prediction files, rounds in order."""
    wrong = wrong_images(pd.read_csv(path) for path in prediction_paths)
    return list(wrong), np.array(list(wrong.values()), dtype=bool)


def decisions_record(dataset, round_number, wrong, settings):
    """A task's decisions after round `round_number` (rounds/round<r>.json): every pair's verdict so far
    from all its replicates (sequential.task_decisions replays the rounds), and the models that train
    more. wrong: {model: (run names, bool array replicates x test images)}; settings: confirm.first,
    step, max, alpha and the task's delta (points)."""
    from .sequential import task_decisions  # scipy: only the jobs that decide load it

    first, step, maximum, alpha, delta = (settings[key] for key in ("first", "step", "max", "alpha", "delta"))
    matrices = {model: matrix for model, (_, matrix) in wrong.items()}
    return {
        "dataset": dataset,
        "round": round_number,
        "alpha": alpha,
        "delta": delta,
        "looks": looks(first, step, maximum),
        "runs": {model: runs for model, (runs, _) in wrong.items()},
        **task_decisions(matrices, first, step, maximum, alpha, delta / 100),
    }


def write_round_decisions(dataset, round_number, prediction_files, settings, out_path):
    """What the checkpoint decide_round does (prediction_files: {model: its round prediction files, rounds
    in order}; `settings`: see decisions_record). Returns the decisions."""
    wrong = {model: model_wrong(files) for model, files in prediction_files.items()}
    decisions = decisions_record(dataset, round_number, wrong, settings)
    write_json_atomic(out_path, decisions)
    return decisions
