"""Each plotting rule's figure, from its input files to its PNG: what the rule script calls (the
drawing itself is plots.py's). A plot job imports only what its figure needs: h5py, torch and the
error analysis inside the functions that read images or weights."""

import pandas as pd

from .classes import check_class_names
from .files import read_json
from .plots import (
    class_errors,
    comparison,
    confusion_matrix,
    grid_heatmap,
    learning_curves,
    pair_samples,
    prediction_tiles,
    replicate_counts,
    replicates,
    save,
    weights_figure,
)


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
    from .datasets import read_splits  # h5py: only the figures of images read a data file

    splits, _ = read_splits(data_path, names=("train",))
    save(pair_samples(splits["train"].images, splits["train"].digits, dataset), out_path, dpi)


def plot_comparison(replicates_paths, variance_paths, out_path, dpi):
    """Every task's chosen models side by side, a panel per task on its own scale: each replicate's
    test error and each model's mean with its 95% interval (replicates_paths, variance_paths: each
    task's replicates.csv and variance.csv, in the same task order)."""
    tasks = {}
    for replicates_path, variance_path in zip(replicates_paths, variance_paths, strict=True):
        summary = pd.read_csv(variance_path)
        tasks[summary["dataset"].iloc[0]] = (pd.read_csv(replicates_path), summary)
    save(comparison(tasks), out_path, dpi)


def plot_replicates(dataset, replicates_path, variance_path, out_path, dpi):
    """The replicates of a task's chosen models: each replicate's test error, paired across models,
    and each model's mean with its 95% interval."""
    runs, summary = pd.read_csv(replicates_path), pd.read_csv(variance_path)
    counts = replicate_counts(runs, summary["model"])
    title = f"{dataset}: test error of the chosen models over their fresh replicates ({counts})"
    save(replicates(runs, summary, title), out_path, dpi)


def plot_errors(dataset, model, inputs, outputs, dpi, class_names=None):
    """The chosen run on the test images: error per class, confusion matrix, worst-predicted images
    (`inputs`, `outputs`: the plot_errors rule's named files; class_names: the dataset's `classes`,
    None to show the labels)."""
    experiment = f"{dataset} / {model}"
    matrix = pd.read_csv(inputs.confusion, index_col=0).to_numpy()
    check_class_names(class_names, len(matrix), dataset)
    table = pd.read_csv(inputs.class_errors)
    save(class_errors(table, f"{experiment}: test error per class", model, class_names), outputs.class_errors, dpi)
    figure = confusion_matrix(matrix, f"{experiment}: confusion matrix (test)", class_names)
    save(figure, outputs.confusion, dpi)
    save(worst_images(experiment, inputs, class_names), outputs.worst, dpi)


def worst_images(experiment, inputs, class_names=None):
    """The figure of the test images to which the chosen run gave the least probability of their label."""
    from .datasets import read_splits  # h5py: only the figures of images read a data file
    from .error_analysis import describe_image, describe_prediction, worst_predictions

    worst = worst_predictions(pd.read_csv(inputs.predictions))
    splits, _ = read_splits(inputs.data, names=("test",))
    title = (
        f"{experiment}: the {len(worst)} test images with the least probability on their label"
        if len(worst)
        else f"{experiment}: the worst-predicted test images"
    )
    return prediction_tiles(
        splits["test"].images[worst["index"].to_numpy()],
        [describe_image(row, class_names) for _, row in worst.iterrows()],
        [describe_prediction(prediction, class_names) for prediction in worst["prediction"]],
        worst["p_prediction"].tolist(),
        title,
    )
