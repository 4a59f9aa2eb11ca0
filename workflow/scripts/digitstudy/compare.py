"""The chosen models of one task side by side: test errors with intervals, and whether one model is
better than another over the replicates of the confirmation stage (paired t-test, how often it wins)
and on the chosen runs' test images (McNemar)."""

import itertools

import pandas as pd

from .aggregate import percent, seed_test_errors
from .confirm import replicate_errors
from .files import read_json
from .stats import clopper_pearson, paired_comparison, paired_t_test, replicates_needed, spread, wins
from .tables import describe_p, write_table


BOOTSTRAP_SEED = 0  # the paired bootstrap's generator: the same study gives the same intervals
SIGNIFICANCE = 0.05
PAIRWISE_COLUMNS = [
    "dataset",
    "model_a",
    "model_b",
    "replicates",
    "replicate_mean_a",
    "replicate_mean_b",
    "replicate_difference",
    "replicate_difference_low",
    "replicate_difference_high",
    "paired_t_p_value",
    "a_wins",
    "b_wins",
    "ties",
    "p_a_beats_b",
    "p_a_beats_b_low",
    "p_a_beats_b_high",
    "replicates_needed",
    "n",
    "errors_a",
    "errors_b",
    "only_a_wrong",
    "only_b_wrong",
    "error_a",
    "error_b",
    "difference",
    "difference_low",
    "difference_high",
    "resamples",
    "seed",
    "mcnemar_p_value",
    "verdict",
]


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


def replicate_comparison(replicates, model_a, model_b):
    """Replicate i of one model against replicate i of the other (same seed index, same split): the
    paired t-test of the test errors, how often each is lower, and the replicates that would decide a
    difference of the size seen."""
    a, b = (replicate_errors(replicates, model) for model in (model_a, model_b))
    a, b = a.align(b, join="outer")
    paired, won = paired_t_test(a.to_numpy(), b.to_numpy()), wins(a.to_numpy(), b.to_numpy())
    return {
        "replicates": paired["n"],
        "replicate_mean_a": a.mean(),
        "replicate_mean_b": b.mean(),
        "replicate_difference": paired["mean"],
        "replicate_difference_low": paired["low"],
        "replicate_difference_high": paired["high"],
        "paired_t_p_value": paired["p_value"],
        "a_wins": won["a_wins"],
        "b_wins": won["b_wins"],
        "ties": won["ties"],
        "p_a_beats_b": won["p_a_beats_b"],
        "p_a_beats_b_low": won["low"],
        "p_a_beats_b_high": won["high"],
        "replicates_needed": replicates_needed(paired["mean"], paired["sd"]),
    }


def image_comparison(predictions, model_a, model_b):
    """The two chosen runs on the same test images: McNemar's exact test and the paired bootstrap."""
    test = paired_comparison(
        predictions[model_a]["correct"].to_numpy() == 0,
        predictions[model_b]["correct"].to_numpy() == 0,
        seed=BOOTSTRAP_SEED,
    )
    renamed = {"p_value": "mcnemar_p_value", "low": "difference_low", "high": "difference_high"}
    return {renamed.get(key, key): value for key, value in test.items()}


def pairwise_row(dataset, model_a, model_b, predictions, replicates):
    row = {
        "dataset": dataset,
        "model_a": model_a,
        "model_b": model_b,
        **replicate_comparison(replicates, model_a, model_b),
        **image_comparison(predictions, model_a, model_b),
    }
    return {**row, "verdict": verdict(row)}


def pairwise_table(dataset, models, predictions, replicates):
    """Every pair of the task's models that both have a chosen run, in config order."""
    usable = [model for model in models if len(predictions[model])]
    rows = [pairwise_row(dataset, a, b, predictions, replicates) for a, b in itertools.combinations(usable, 2)]
    return pd.DataFrame(rows, columns=PAIRWISE_COLUMNS)


def points(fraction):
    """A difference of two errors in percentage points, signed: '-0.35'."""
    return f"{100 * fraction:.2f}"


def favoured(row, difference):
    """(the model a difference of errors `a - b` favours, the other)."""
    a, b = row["model_a"], row["model_b"]
    return (a, b) if difference < 0 else (b, a)


def replicate_evidence(row):
    """What the replicates say, in words, naming the model they favour."""
    n, difference = row["replicates"], row["replicate_difference"]
    if n < 2 or difference is None:
        return None, f"the replicates cannot tell ({n} pair{'s' if n != 1 else ''} of replicates trained)"
    better, worse = favoured(row, difference)
    interval = (
        f"{points(abs(difference))} points lower test error on average over {n} replicates (95% interval of "
        f"{row['model_a']} - {row['model_b']}: {points(row['replicate_difference_low'])} to "
        f"{points(row['replicate_difference_high'])} points, paired t-test {describe_p(row['paired_t_p_value'])}); "
        f"{row['model_a']} was better in {row['a_wins']} of {n} (exact 95% interval of the chance it is: "
        f"{percent(row['p_a_beats_b_low'])} to {percent(row['p_a_beats_b_high'])}%)"
    )
    if row["paired_t_p_value"] < SIGNIFICANCE:
        return better, f"{better} is better than {worse}: {interval}"
    return None, f"not decided: {better} had {interval}{needed_text(row)}"


def needed_text(row):
    needed = row["replicates_needed"]
    if needed is None or needed != needed:
        return ""
    return (
        f"; about {int(needed)} replicates would decide a difference of this size (an estimate from the "
        "spread of the paired differences)"
    )


def image_evidence(row):
    """What the chosen runs' predictions on the same test images say: (model favoured or None, words)."""
    better, _ = favoured(row, row["difference"])
    p = row["mcnemar_p_value"]
    words = (
        f"{row['model_a']} - {row['model_b']} = {points(row['difference'])} points on the chosen runs' "
        f"{int(row['n']):,} test images (McNemar {describe_p(p)})"
    )
    return (better if p < SIGNIFICANCE else None), words


def verdict(row):
    """The comparison in words: the replicates decide; the chosen runs' test images agree, add nothing,
    or point the other way (mixed evidence, both numbers given)."""
    by_replicates, replicate_words = replicate_evidence(row)
    by_images, image_words = image_evidence(row)
    if by_images and by_replicates and by_images != by_replicates:
        return f"mixed evidence: {replicate_words}; but {by_images} is better on the chosen runs: {image_words}"
    if by_images and not by_replicates:
        return f"{replicate_words}; the chosen runs alone favour {by_images}: {image_words}"
    return f"{replicate_words}; chosen runs: {image_words}"


CHOSEN_NOTE = (
    "Chosen on validation; test error over the test images with its exact (Clopper-Pearson) 95% "
    "interval; the seed study's test errors (mean, sd, min, max over seeds that did not diverge)."
)
PAIRWISE_NOTE = (
    "Over replicates (replicate i of a against replicate i of b: same seed index, same train/validation "
    "split, the same test images): mean test errors, the mean paired difference (a - b, in points) "
    "with its 95% t-interval and paired t-test, how often a had the lower test error with an exact "
    "95% interval, and an estimate of the replicates that would decide a difference of this size (80% "
    "power). On the chosen runs' test images: the difference (a - b) with a seeded paired-bootstrap "
    "95% interval and McNemar's exact test."
)


def write_comparison(dataset, choice_paths, seed_paths, prediction_paths, replicates_path, outputs):
    """A task's chosen-models and pairwise tables, each as CSV, Markdown and HTML (`outputs`: the
    compare_models rule's named outputs; the paths of each input list in the same model order;
    replicates_path: the task's replicates.csv). Returns the pairwise table."""
    choices = [read_json(path) for path in choice_paths]
    models = [choice["model"] for choice in choices]
    predictions = {model: pd.read_csv(path) for model, path in zip(models, prediction_paths)}
    seed_errors = {model: seed_test_errors(pd.read_csv(path)) for model, path in zip(models, seed_paths)}
    chosen = chosen_models_table(choices, predictions, seed_errors)
    title = f"{dataset}: the chosen models, test error with 95% interval"
    write_table(chosen, outputs.chosen_csv, outputs.chosen_md, outputs.chosen_html, title, CHOSEN_NOTE)
    pairwise = pairwise_table(dataset, models, predictions, pd.read_csv(replicates_path))
    title = f"{dataset}: the chosen models compared pairwise"
    write_table(pairwise, outputs.pairwise_csv, outputs.pairwise_md, outputs.pairwise_html, title, PAIRWISE_NOTE)
    return pairwise
