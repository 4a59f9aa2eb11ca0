"""The chosen models of one task side by side, and each pair's decision: over the fresh replicates of the
confirmation stage, better, equal within the task's margin, or not decided within the budget, with an
interval that holds jointly over the rounds and the task's pairs (confirm.write_replicate_tables writes
the decisions). How often one model beat the other over the replicates, and the two chosen grid runs on
the same test images (McNemar), stay beside the verdict as descriptions."""

import pandas as pd

from .aggregate import seed_test_errors
from .files import read_json
from .tables import Units, describe_p, percent_text, write_table


BOOTSTRAP_SEED = 0  # the paired bootstrap's generator: the same study gives the same intervals
PAIRWISE_COLUMNS = [
    "dataset",
    "model_a",
    "model_b",
    "decision",
    "round",
    "replicates",
    "replicate_mean_a",
    "replicate_mean_b",
    "difference",
    "difference_low",
    "difference_high",
    "difference_se",
    "difference_se_images",
    "difference_floor",
    "a_wins",
    "b_wins",
    "ties",
    "p_a_beats_b",
    "p_a_beats_b_low",
    "p_a_beats_b_high",
    "n",
    "only_a_wrong",
    "only_b_wrong",
    "chosen_difference",
    "chosen_difference_low",
    "chosen_difference_high",
    "mcnemar_p_value",
    "verdict",
    "description",
]


def chosen_row(choice, predictions, seed_errors):
    """One experiment's chosen run: validation error, test error with its exact 95% interval, and the
    seed study's test errors (mean, sd, min, max)."""
    from .stats import clopper_pearson, spread  # scipy: only the jobs that compare load it

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


def replicate_errors(replicates, model, count):
    """The test errors of a model's first `count` replicates, by replicate index (counted from their
    predictions: a diverged replicate stays, with its images counted wrong)."""
    rows = replicates[replicates["model"] == model].sort_values("replicate")
    return rows.set_index("replicate")["test_error"].astype(float).iloc[:count]


def floor(pair):
    """The half-width of the pair's interval that its test images alone would leave (no replicate spread
    at all): the precision no number of replicates improves on. None for a pair never judged."""
    if pair["se_images"] is None:
        return None
    return pair["critical_z"] * pair["se_images"]


def replicate_comparison(replicates, pair):
    """A pair's decision (decisions.json) with what describes the same replicates: each model's mean over
    the pairs decided on, and how often each won (ties count one half, exact interval)."""
    from .sequential import beats  # scipy: only the jobs that compare load it

    count = pair["replicates"]
    a, b = (replicate_errors(replicates, pair[key], count).to_numpy() for key in ("model_a", "model_b"))
    won = beats(a, b)
    return {
        "decision": pair["verdict"],
        "round": pair["look"],
        "replicates": count,
        "replicate_mean_a": a.mean(),
        "replicate_mean_b": b.mean(),
        "difference": pair["mean"],
        "difference_low": pair["low"],
        "difference_high": pair["high"],
        "difference_se": pair["se"],
        "difference_se_images": pair["se_images"],
        "difference_floor": floor(pair),
        "a_wins": won["a_wins"],
        "b_wins": won["b_wins"],
        "ties": won["ties"],
        "p_a_beats_b": won["p"],
        "p_a_beats_b_low": won["low"],
        "p_a_beats_b_high": won["high"],
    }


def image_comparison(predictions, model_a, model_b):
    """The two chosen grid runs on the same test images: the difference with a paired-bootstrap interval
    and McNemar's exact test (two trained networks, not two models: outside the verdict)."""
    from .stats import paired_comparison  # scipy: only the jobs that compare load it

    test = paired_comparison(
        predictions[model_a]["correct"].to_numpy() == 0,
        predictions[model_b]["correct"].to_numpy() == 0,
        seed=BOOTSTRAP_SEED,
    )
    renamed = {
        "difference": "chosen_difference",
        "low": "chosen_difference_low",
        "high": "chosen_difference_high",
        "p_value": "mcnemar_p_value",
    }
    return {renamed.get(key, key): value for key, value in test.items()}


def pairwise_row(dataset, pair, predictions, replicates, decisions):
    row = {
        "dataset": dataset,
        "model_a": pair["model_a"],
        "model_b": pair["model_b"],
        **replicate_comparison(replicates, pair),
        **image_comparison(predictions, pair["model_a"], pair["model_b"]),
    }
    return {**row, "verdict": verdict(row, decisions), "description": f"{wins_words(row)}; {chosen_words(row)}"}


def pairwise_table(dataset, decisions, predictions, replicates):
    """Every pair of the task's models with replicates, in config order, as the last round decided it."""
    rows = [pairwise_row(dataset, pair, predictions, replicates, decisions) for pair in decisions["pairs"]]
    return pd.DataFrame(rows, columns=PAIRWISE_COLUMNS)


def pairs_count(decisions):
    count = len(decisions["pairs"])
    return f"the task's {count} comparisons" if count > 1 else "the task's one comparison"


def interval_words(row, decisions):
    """The decided difference with its interval, and over what it holds."""
    a, b = row["model_a"], row["model_b"]
    confidence = f"{100 * (1 - decisions['alpha']):g}%"
    low, high = percent_text(row["difference_low"]), percent_text(row["difference_high"])
    return (
        f"{a} - {b} = {percent_text(row['difference'])} points over {row['replicates']} paired replicates, "
        f"{confidence} interval {low} to {high} points, "
        f"which holds jointly over the rounds and {pairs_count(decisions)}"
    )


def wins_words(row):
    """How often each model had the lower test error over the same replicates, the one that won more
    often first, with its chance of beating the other (ties count one half) and that chance's interval."""
    a_first = row["a_wins"] >= row["b_wins"]
    first, wins = (row["model_a"], row["a_wins"]) if a_first else (row["model_b"], row["b_wins"])
    share, low, high = row["p_a_beats_b"], row["p_a_beats_b_low"], row["p_a_beats_b_high"]
    if not a_first:  # b's chance of beating a is 1 - a's; its interval the mirror image
        share, low, high = 1 - share, 1 - high, 1 - low
    ties = f", {row['ties']} tied" if row["ties"] else ""
    return (
        f"{first} was better in {wins} of {row['replicates']}{ties} (chance it beats the other, ties counted "
        f"half: {percent_text(share)}%, exact 95% interval {percent_text(low)} to {percent_text(high)}%)"
    )


def chosen_words(row):
    return (
        f"the two chosen grid runs alone (two trained networks, not part of the verdict): "
        f"{percent_text(row['chosen_difference'])} points on {int(row['n']):,} test images (McNemar "
        f"{describe_p(row['mcnemar_p_value'])})"
    )


def verdict(row, decisions):
    """The decision in words: the winner, or equal within delta, or not decided within the budget (with
    the precision the test set alone allows), and the interval over how many replicates it rests on."""
    a, b = row["model_a"], row["model_b"]
    delta, taken = decisions["delta"], f"decided in round {row['round']}"
    decision = row["decision"]
    if decision in ("a", "b"):
        better, worse = (a, b) if decision == "a" else (b, a)
        head = f"**{better} is better than {worse}** ({taken})"
    elif decision == "equal":
        head = f"**{a} and {b} are equal within {delta:g} points** ({taken})"
    else:
        head = (
            f"**not decided within the budget of {decisions['looks'][-1]} replicates** (the test set alone "
            f"allows no interval narrower than ±{percent_text(row['difference_floor'])} points)"
        )
    return f"{head}: {interval_words(row, decisions)}"


CHOSEN_NOTE = (
    "Chosen on validation; test error over the test images with its exact (Clopper-Pearson) 95% "
    "interval; the seed study's test errors (mean, sd, min, max over seeds that did not diverge)."
)
CHOSEN_UNITS = Units(
    percent=(
        "valid_error",
        "test_error",
        "low",
        "high",
        "seed_test_mean",
        "seed_test_sd",
        "seed_test_min",
        "seed_test_max",
    )
)
PAIRWISE_NOTE = (
    "Decision over the fresh replicates (replicate i of a against replicate i of b: same seed index, same"
    " train/validation split, the same test images): a (a better), b (b better), equal (within the task's"
    " delta), or not decided (within the budget of confirm.max replicates), in the round given, after the"
    " replicates given (verdict: in words). Difference: a - b in points, mean over those paired "
    "replicates, with its interval (low, high) at 1 - alpha jointly over all rounds and all pairs of the "
    "task (O'Brien-Fleming repeated confidence intervals, alpha split over the pairs); its se holds the "
    "replicates' spread and the test images' sampling (se images, that part alone); floor: the half-width"
    " the test images alone allow. Described beside it (description): each model's mean over the same "
    "replicates, how often a won (ties count one half, exact 95% interval), and the two chosen grid runs "
    "on the same test images (n images, only a / only b wrong, their difference with a paired-bootstrap "
    "95% interval, McNemar's exact test)."
)
PAIRWISE_UNITS = Units(
    percent=("replicate_mean_a", "replicate_mean_b", "p_a_beats_b", "p_a_beats_b_low", "p_a_beats_b_high"),
    points=(
        "difference",
        "difference_low",
        "difference_high",
        "difference_se",
        "difference_se_images",
        "difference_floor",
        "chosen_difference",
        "chosen_difference_low",
        "chosen_difference_high",
    ),
    p_values=("mcnemar_p_value",),
)


def write_comparison(dataset, choice_paths, seed_paths, prediction_paths, replicates_path, decisions_path, outputs):
    """A task's chosen-models and pairwise tables, each as CSV, Markdown and HTML (`outputs`: the
    compare_models rule's named outputs; the paths of each input list in the same model order;
    replicates_path: the task's replicates.csv; decisions_path: its decisions.json). Returns the pairwise
    table."""
    choices = [read_json(path) for path in choice_paths]
    models = [choice["model"] for choice in choices]
    predictions = {model: pd.read_csv(path) for model, path in zip(models, prediction_paths)}
    seed_errors = {model: seed_test_errors(pd.read_csv(path)) for model, path in zip(models, seed_paths)}
    chosen = chosen_models_table(choices, predictions, seed_errors)
    title = f"{dataset}: the chosen grid runs, test error with 95% interval"
    write_table(
        chosen, outputs.chosen_csv, outputs.chosen_md, outputs.chosen_html, title, CHOSEN_NOTE, units=CHOSEN_UNITS
    )
    pairwise = pairwise_table(dataset, read_json(decisions_path), predictions, pd.read_csv(replicates_path))
    title = f"{dataset}: the models compared pairwise over the replicates"
    write_table(
        pairwise,
        outputs.pairwise_csv,
        outputs.pairwise_md,
        outputs.pairwise_html,
        title,
        PAIRWISE_NOTE,
        units=PAIRWISE_UNITS,
    )
    return pairwise
