"""The chosen models of one task side by side: test errors with intervals, and whether one model is
better than another on the same test images (McNemar) and beyond the seed-to-seed spread (Welch)."""

import itertools

import pandas as pd

from .files import read_json
from .stats import clopper_pearson, paired_comparison, spread, welch_test
from .tables import describe_p, write_table


BOOTSTRAP_SEED = 0  # the paired bootstrap's generator: the same study gives the same intervals
SIGNIFICANCE = 0.05
PAIRWISE_COLUMNS = [
    "dataset",
    "model_a",
    "model_b",
    "n",
    "errors_a",
    "errors_b",
    "only_a_wrong",
    "only_b_wrong",
    "error_a",
    "error_b",
    "difference",
    "low",
    "high",
    "resamples",
    "seed",
    "mcnemar_p_value",
    "seed_mean_a",
    "seed_mean_b",
    "seed_difference",
    "welch_p_value",
    "verdict",
]


def seed_test_errors(seeds):
    """The test errors of a seed table's seeds that did not diverge."""
    runs = seeds[seeds["status"] == "ok"]
    return runs["test_error"].astype(float).tolist()


def chosen_row(choice, predictions, seed_errors):
    """One experiment's chosen run: validation error, test error with its exact 95% interval, and the
    seed study's test errors (mean, sd, min, max)."""
    n, errors = len(predictions), int((predictions["correct"] == 0).sum())
    low, high = clopper_pearson(errors, n) if n else (None, None)
    seeds = spread(seed_errors)
    chosen = choice["chosen"] or {}
    return {
        "experiment": f"{choice['dataset']} / {choice['model']}",
        "dataset": choice["dataset"],
        "model": choice["model"],
        "lr": chosen.get("lr"),
        "momentum": chosen.get("momentum"),
        "valid_error": chosen.get("valid_error"),
        "n_test": n,
        "test_errors": errors,
        "test_error": errors / n if n else None,
        "low": low,
        "high": high,
        "seeds_ok": seeds["n"],
        **{f"seed_test_{key}": seeds[key] for key in ("mean", "sd", "min", "max")},
    }


def chosen_models_table(choices, predictions, seed_errors):
    """A row per experiment of the task, in config order. predictions, seed_errors: keyed by model."""
    return pd.DataFrame(
        [chosen_row(choice, predictions[choice["model"]], seed_errors[choice["model"]]) for choice in choices]
    )


def pairwise_row(dataset, model_a, model_b, predictions, seed_errors):
    test = paired_comparison(
        predictions[model_a]["correct"].to_numpy() == 0,
        predictions[model_b]["correct"].to_numpy() == 0,
        seed=BOOTSTRAP_SEED,
    )
    seeds = welch_test(seed_errors[model_a], seed_errors[model_b])
    test["mcnemar_p_value"] = test.pop("p_value")
    row = {
        "dataset": dataset,
        "model_a": model_a,
        "model_b": model_b,
        **test,
        "seed_mean_a": seeds["mean_a"],
        "seed_mean_b": seeds["mean_b"],
        "seed_difference": seeds["difference"],
        "welch_p_value": seeds["p_value"],
    }
    return {**row, "verdict": verdict(row, seeds)}


def pairwise_table(dataset, models, predictions, seed_errors):
    """Every pair of the task's models that both have a chosen run, in config order."""
    usable = [model for model in models if len(predictions[model])]
    rows = [pairwise_row(dataset, a, b, predictions, seed_errors) for a, b in itertools.combinations(usable, 2)]
    return pd.DataFrame(rows, columns=PAIRWISE_COLUMNS)


def points(fraction):
    return f"{100 * fraction:.2f}"


def verdict(row, seeds):
    """The comparison in words: on these test images, then over seeds."""
    a, b = row["model_a"], row["model_b"]
    better, worse = (a, b) if row["difference"] < 0 else (b, a)
    interval = f"95% interval {points(row['low'])} to {points(row['high'])} points"
    if row["mcnemar_p_value"] < SIGNIFICANCE:
        images = (
            f"{better} errs on fewer test images than {worse}: {a} - {b} = "
            f"{points(row['difference'])} points ({interval}), McNemar {describe_p(row['mcnemar_p_value'])}"
        )
    else:
        images = (
            f"no difference beyond chance on these test images: {a} - {b} = "
            f"{points(row['difference'])} points ({interval}), McNemar {describe_p(row['mcnemar_p_value'])}"
        )
    return images + "; " + seed_verdict(row, seeds)


def seed_verdict(row, seeds):
    """What the seed study says of the difference; `seeds`: the welch_test of the two models' seeds."""
    p = row["welch_p_value"]
    if p is None and min(seeds["n_a"], seeds["n_b"]) < 2:
        return "the seed study cannot test it (fewer than two healthy seeds per model)"
    if p is None:
        return "the seed study cannot test it (every seed of both models has the same test error)"
    gap = f"seed-study mean test error {points(row['seed_mean_a'])} vs {points(row['seed_mean_b'])}"
    if p < SIGNIFICANCE:
        return f"{gap}: larger than the seed-to-seed spread (Welch {describe_p(p)})"
    return f"{gap}: within the seed-to-seed spread (Welch {describe_p(p)})"


CHOSEN_NOTE = (
    "Chosen on validation; test error over the test images with its exact (Clopper-Pearson) 95% "
    "interval; the seed study's test errors (mean, sd, min, max over seeds that did not diverge)."
)
PAIRWISE_NOTE = (
    "On the same test images: difference of test error (a - b) with a seeded paired bootstrap 95% "
    "interval and McNemar's exact test on the images only one model gets wrong; over seeds: "
    "Welch's t-test of the seed study's test errors."
)


def write_comparison(dataset, choice_paths, seed_paths, prediction_paths, outputs):
    """A task's chosen-models and pairwise tables, each as CSV, Markdown and HTML (`outputs`: the
    compare_models rule's named outputs; the paths of each input list in the same model order).
    Returns the pairwise table."""
    choices = [read_json(path) for path in choice_paths]
    models = [choice["model"] for choice in choices]
    predictions = {model: pd.read_csv(path) for model, path in zip(models, prediction_paths)}
    seed_errors = {model: seed_test_errors(pd.read_csv(path)) for model, path in zip(models, seed_paths)}
    chosen = chosen_models_table(choices, predictions, seed_errors)
    title = f"{dataset}: the chosen models, test error with 95% interval"
    write_table(chosen, outputs.chosen_csv, outputs.chosen_md, outputs.chosen_html, title, CHOSEN_NOTE)
    pairwise = pairwise_table(dataset, models, predictions, seed_errors)
    title = f"{dataset}: the chosen models compared pairwise"
    write_table(pairwise, outputs.pairwise_csv, outputs.pairwise_md, outputs.pairwise_html, title, PAIRWISE_NOTE)
    return pairwise
