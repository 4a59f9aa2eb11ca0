"""Rule plot_curves: train and validation loss and misclassification per epoch, a line per seed."""

import pandas as pd

from digitstudy.plots import learning_curves, save
from digitstudy.scripting import logged


def plot_curves(history_paths, seeds, title, model, out_path, dpi):
    histories = {seed: pd.read_csv(path) for seed, path in zip(seeds, history_paths)}
    save(learning_curves(histories, title, model), out_path, dpi)


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    plot_curves(
        history_paths=list(snakemake.input),
        seeds=snakemake.params.seeds,
        title=f"{snakemake.wildcards.dataset} / {snakemake.wildcards.model}: seed study",
        model=snakemake.wildcards.model,
        out_path=snakemake.output[0],
        dpi=snakemake.params.dpi,
    )
