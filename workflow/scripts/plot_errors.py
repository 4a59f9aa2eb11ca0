"""Rule plot_errors: an experiment's chosen run on the test images: error per class, the confusion
matrix, and the worst-predicted images."""

import pandas as pd

from digitstudy.datasets import read_splits
from digitstudy.error_analysis import describe_image, worst_predictions
from digitstudy.plots import class_errors, confusion_matrix, save
from digitstudy.plots import worst_predictions as worst_figure
from digitstudy.scripting import logged


def plot_errors(inputs, dataset, model, outputs, dpi):
    experiment = f"{dataset} / {model}"
    save(
        class_errors(pd.read_csv(inputs.class_errors), f"{experiment}: test error per class", model),
        outputs.class_errors,
        dpi,
    )
    matrix = pd.read_csv(inputs.confusion, index_col=0).to_numpy()
    save(confusion_matrix(matrix, f"{experiment}: confusion matrix (test)"), outputs.confusion, dpi)
    worst = worst_predictions(pd.read_csv(inputs.predictions))
    splits, _ = read_splits(inputs.data, names=("test",))
    save(
        worst_figure(
            splits["test"].images[worst["index"].to_numpy()],
            [describe_image(row) for _, row in worst.iterrows()],
            [f"pred {int(p)}" for p in worst["prediction"]],
            worst["p_prediction"].tolist(),
            f"{experiment}: the {len(worst)} test images with the least probability on their label"
            if len(worst)
            else f"{experiment}: the worst-predicted test images",
        ),
        outputs.worst,
        dpi,
    )


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    plot_errors(
        inputs=snakemake.input,
        dataset=snakemake.wildcards.dataset,
        model=snakemake.wildcards.model,
        outputs=snakemake.output,
        dpi=snakemake.params.dpi,
    )
