"""Rule plot_weights: the first-layer weights of an experiment's chosen run, one tile per unit."""

import json

import numpy as np
from digitstudy.datasets import open_h5, read_attributes
from digitstudy.models import first_layer
from digitstudy.plots import first_layer_tiles, save, tile_grid
from digitstudy.predictions import chosen_model_path, load_trained_model
from digitstudy.scripting import logged


def plot_weights(choice_path, model_paths, data_path, out_path, dpi, log):
    choice = json.loads(open(choice_path).read())
    title = f"{choice['dataset']} / {choice['model']}: first layer"
    model_path = chosen_model_path(choice, model_paths)
    if model_path is None:
        log("every grid run diverged: no weights to show")
        figure = tile_grid(np.zeros((1, 3, 3)), title + " (every run diverged)")
    else:
        with open_h5(data_path) as handle:
            attributes = read_attributes(handle, data_path)
        weight = first_layer(load_trained_model(choice["model"], model_path, attributes)).weight
        title += f" of lr {choice['chosen']['lr']:g}, momentum {choice['chosen']['momentum']:g}"
        figure = tile_grid(first_layer_tiles(weight.detach().numpy(), tuple(attributes["image_shape"])), title)
    save(figure, out_path, dpi)


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    plot_weights(choice_path=snakemake.input.choice, model_paths=list(snakemake.input.models),
                 data_path=snakemake.input.data, out_path=snakemake.output[0],
                 dpi=snakemake.params.dpi, log=log)
