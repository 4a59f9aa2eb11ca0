"""Rule plot_weights: the first-layer weights of an experiment's chosen run, one tile per unit."""

from digitstudy.files import read_json
from digitstudy.plots import save, weights_figure
from digitstudy.predictions import chosen_weights
from digitstudy.scripting import logged


def plot_weights(choice_path, model_paths, data_path, out_path, dpi, log):
    choice = read_json(choice_path)
    weights = chosen_weights(choice, model_paths, data_path)
    if weights is None:
        log("every grid run diverged: no weights to show")
    save(weights_figure(choice, weights), out_path, dpi)


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    plot_weights(
        choice_path=snakemake.input.choice,
        model_paths=list(snakemake.input.models),
        data_path=snakemake.input.data,
        out_path=snakemake.output[0],
        dpi=snakemake.params.dpi,
        log=log,
    )
