"""Rule compare_models: a task's chosen models side by side, with intervals and pairwise tests."""

import pandas as pd

from digitstudy.compare import chosen_models_table, pairwise_table, seed_test_errors
from digitstudy.files import read_json
from digitstudy.scripting import logged
from digitstudy.tables import write_table


def compare_models(dataset, choice_paths, seed_paths, prediction_paths, outputs, log):
    choices = [read_json(path) for path in choice_paths]
    models = [choice["model"] for choice in choices]
    predictions = {model: pd.read_csv(path) for model, path in zip(models, prediction_paths)}
    seed_errors = {model: seed_test_errors(pd.read_csv(path)) for model, path in zip(models, seed_paths)}
    chosen = chosen_models_table(choices, predictions, seed_errors)
    write_table(
        chosen,
        outputs.chosen_csv,
        outputs.chosen_md,
        outputs.chosen_html,
        f"{dataset}: the chosen models, test error with 95% interval",
        "Chosen on validation; test error over the test images with its exact (Clopper-Pearson) 95% "
        "interval; the seed study's test errors (mean, sd, min, max over seeds that did not diverge).",
    )
    pairwise = pairwise_table(dataset, models, predictions, seed_errors)
    write_table(
        pairwise,
        outputs.pairwise_csv,
        outputs.pairwise_md,
        outputs.pairwise_html,
        f"{dataset}: the chosen models compared pairwise",
        "On the same test images: difference of test error (a - b) with a seeded paired bootstrap 95% "
        "interval and McNemar's exact test on the images only one model gets wrong; over seeds: "
        "Welch's t-test of the seed study's test errors.",
    )
    for verdict in pairwise.get("verdict", []):
        log(verdict)


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    compare_models(
        dataset=snakemake.wildcards.dataset,
        choice_paths=list(snakemake.input.choices),
        seed_paths=list(snakemake.input.seeds),
        prediction_paths=list(snakemake.input.predictions),
        outputs=snakemake.output,
        log=log,
    )
