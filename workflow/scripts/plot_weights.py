"""Rule plot_weights: the first-layer weights of an experiment's chosen run, one tile per unit."""

import json

import h5py
import torch
from digitstudy.models import build_model, first_layer
from digitstudy.plots import first_layer_tiles, save, tile_grid
from digitstudy.scripting import logged


def chosen_weights(choice, model_paths, data_path):
    """The chosen run's first-layer weight and the dataset's image shape."""
    run = choice["chosen"]["run"]
    path = next(path for path in model_paths if f"/{run}/" in path)
    with h5py.File(data_path, "r") as handle:
        image_shape, n_classes = tuple(handle.attrs["image_shape"]), int(handle.attrs["n_classes"])
    model = build_model(choice["model"], image_shape, n_classes)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return first_layer(model).weight.detach().numpy(), image_shape


def plot_weights(choice_path, model_paths, data_path, out_path, dpi, log):
    choice = json.loads(open(choice_path).read())
    title = f"{choice['dataset']} / {choice['model']}: first layer"
    if choice["chosen"] is None:
        log("every grid run diverged: no weights to show")
        figure = tile_grid(torch.zeros(1, 3, 3).numpy(), title + " (every run diverged)")
    else:
        weight, image_shape = chosen_weights(choice, model_paths, data_path)
        title += f" of lr {choice['chosen']['lr']:g}, momentum {choice['chosen']['momentum']:g}"
        figure = tile_grid(first_layer_tiles(weight, image_shape), title)
    save(figure, out_path, dpi)


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    plot_weights(choice_path=snakemake.input.choice, model_paths=list(snakemake.input.models),
                 data_path=snakemake.input.data, out_path=snakemake.output[0],
                 dpi=snakemake.params.dpi, log=log)
