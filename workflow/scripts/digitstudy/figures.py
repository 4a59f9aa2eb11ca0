"""Each plotting rule's figure, from its input files to its PNG: what the rule script calls (the
drawing itself is plots.py's)."""

import pandas as pd

from .datasets import read_splits
from .error_analysis import describe_image, worst_predictions
from .files import read_json
from .plots import (
    class_errors,
    comparison,
    confusion_matrix,
    grid_heatmap,
    learning_curves,
    pair_samples,
    save,
    weights_figure,
)
from .plots import worst_predictions as worst_figure


def plot_curves(experiment, model, seeds, history_paths, out_path, dpi):
    """Train and validation loss and error per epoch, a line per seed of the seed study."""
    histories = {seed: pd.read_csv(path) for seed, path in zip(seeds, history_paths, strict=True)}
    save(learning_curves(histories, f"{experiment}: seed study", model), out_path, dpi)


def plot_grid(experiment, grid_path, out_path, dpi):
    """The validation error over learning rate x momentum."""
    save(grid_heatmap(pd.read_csv(grid_path), f"{experiment}: validation error"), out_path, dpi)


def plot_weights(choice_path, model_paths, runs, data_path, out_path, dpi):
    """The chosen run's first-layer weights (`runs`: the run name of each of model_paths); returns
    False when every grid run diverged and there are none to show."""
    from .predictions import chosen_weights  # here: torch, for the one figure that needs it (seconds)

    choice = read_json(choice_path)
    weights = chosen_weights(choice, dict(zip(runs, model_paths, strict=True)), data_path)
    save(weights_figure(choice, weights), out_path, dpi)
    return weights is not None


def plot_pair_samples(dataset, data_path, out_path, dpi):
    """A few training images of a pairs dataset, titled with their classes and label."""
    splits, _ = read_splits(data_path, names=("train",))
    save(pair_samples(splits["train"].images, splits["train"].digits, dataset), out_path, dpi)


def plot_comparison(chosen_paths, out_path, dpi):
    """The chosen models of every task side by side, test errors with intervals."""
    chosen = pd.concat([pd.read_csv(path) for path in chosen_paths], ignore_index=True)
    rows = chosen.astype(object).where(chosen.notna(), None).to_dict("records")
    save(comparison(rows), out_path, dpi)


def plot_errors(experiment, model, inputs, outputs, dpi):
    """The chosen run on the test images: error per class, confusion matrix, worst-predicted images
    (`inputs`, `outputs`: the plot_errors rule's named files)."""
    title = f"{experiment}: test error per class"
    save(class_errors(pd.read_csv(inputs.class_errors), title, model), outputs.class_errors, dpi)
    matrix = pd.read_csv(inputs.confusion, index_col=0).to_numpy()
    save(confusion_matrix(matrix, f"{experiment}: confusion matrix (test)"), outputs.confusion, dpi)
    worst = worst_predictions(pd.read_csv(inputs.predictions))
    splits, _ = read_splits(inputs.data, names=("test",))
    title = (
        f"{experiment}: the {len(worst)} test images with the least probability on their label"
        if len(worst)
        else f"{experiment}: the worst-predicted test images"
    )
    figure = worst_figure(
        splits["test"].images[worst["index"].to_numpy()],
        [describe_image(row) for _, row in worst.iterrows()],
        [f"pred {int(p)}" for p in worst["prediction"]],
        worst["p_prediction"].tolist(),
        title,
    )
    save(figure, outputs.worst, dpi)
