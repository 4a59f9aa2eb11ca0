"""Per-image test predictions of an experiment's chosen run, computed from its saved weights, so a
study trained before this analysis existed gains it without training anything again."""

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .datasets import open_h5, read_attributes, read_splits
from .files import read_json, write_text_atomic
from .models import build_model, pictured_layer
from .paths import study_folder_of
from .training import EVAL_BATCH, on_device, standardise, to_tensor_split


PREDICTION_COLUMNS = ("index", "label", "prediction", "correct", "p_label", "p_prediction")


def chosen_model_path(choice, models):
    """The model.pt of the experiment's chosen run among the grid's ({run name: model.pt}), or None
    when every run diverged."""
    return None if choice["chosen"] is None else models[choice["chosen"]["run"]]


def load_trained_model(model_name, model_path, attributes, device="cpu"):
    """A run's model with its saved weights, in evaluation mode, for the dataset's image shape."""
    model = build_model(model_name, tuple(attributes["image_shape"]), int(attributes["n_classes"]))
    model.load_state_dict(torch.load(model_path, map_location=device, weights_only=True))
    return on_device(model, device).eval()


def chosen_weights(choice, models, data_path):
    """(weights of the pictured layer as an array, image shape) of an experiment's chosen run, or
    None when every grid run diverged. models: {run name: model.pt} of the grid."""
    model_path = chosen_model_path(choice, models)
    if model_path is None:
        return None
    with open_h5(data_path) as handle:
        attributes = read_attributes(handle, data_path)
    model = load_trained_model(choice["model"], model_path, attributes)
    weight = pictured_layer(choice["model"], model).weight.detach().numpy()
    return weight, tuple(attributes["image_shape"])


def input_problem(images, image_shape):
    """What is wrong with `images` as the input of a model for images of `image_shape` (C, H, W): None
    for one standardised image (C x H x W) or a batch of them (N x C x H x W)."""
    shape = " x ".join(map(str, image_shape))
    expected = f"one image of shape {shape} or a batch N x {shape}"
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        got = f"a {images.dtype} tensor" if isinstance(images, torch.Tensor) else type(images).__name__
        return f"expected the float tensor that preprocess(images) gives, {expected}, got {got}"
    if images.dim() not in (3, 4) or tuple(images.shape[-3:]) != tuple(image_shape):
        return f"expected {expected}, got {' x '.join(map(str, images.shape))}"
    return None


def load_run(run_dir, data_file=None, device="cpu"):
    """A finished run's model as its model.pt holds it, and the preprocessing it was trained with:
    (model in evaluation mode, preprocess).

    run_dir: results/runs/{dataset}/{model}/seed{seed}_lr{lr}_mom{momentum} of a finished study.
    data_file: the run's HDF5 file; by default the one its metrics.json names, in the study folder.
    preprocess(images): uint8 images N x C x H x W (pixels 0-255, as in the HDF5 file) to the float
    tensor the model takes, standardised exactly as in training: (x / 255 - mean) / std. The model is
    the registry's (build_model) with the saved weights and nothing added: model(batch) gives
    N x n_classes logits; image_logits() takes one image as well.
    """
    run_dir = Path(run_dir).resolve()
    metrics = read_json(run_dir / "metrics.json")
    data_file = data_file or study_folder_of(run_dir) / metrics["data"]["file"]
    with open_h5(data_file) as handle:
        attributes = read_attributes(handle, data_file)
    model = load_trained_model(metrics["model"], run_dir / "model.pt", attributes, device)
    mean, std = float(attributes["pixel_mean"]), float(attributes["pixel_std"])
    return model, functools.partial(standardise, mean=mean, std=std, device=device)


def image_logits(model, images, image_shape):
    """The logits of one preprocessed image (C x H x W: a vector of n_classes) or of a batch
    (N x C x H x W: N x n_classes). The model is left as it is: one image goes in as a batch of one.
    Any other input stops in one line naming the shapes a model for `image_shape` (C, H, W) takes."""
    problem = input_problem(images, image_shape)
    if problem:
        raise ValueError(problem)
    return model(images.unsqueeze(0))[0] if images.dim() == 3 else model(images)


@torch.no_grad()
def test_logits(model, images, batch_size=EVAL_BATCH):
    """The model's logits, in the batches that evaluate() uses, so the argmax agrees with the
    recorded test error bit for bit on the same CPU."""
    model.eval()
    return torch.cat([model(images[start : start + batch_size]) for start in range(0, len(images), batch_size)])


def predictions_table(split, logits):
    """One row per test image: its label, the prediction, and the probabilities the model gave both
    (and the two digits where the image is a pair)."""
    probabilities = torch.softmax(logits.double(), dim=1).numpy()
    predicted = logits.argmax(dim=1).numpy()
    rows = np.arange(len(split.labels))
    frame = pd.DataFrame(
        {
            "index": rows,
            "label": split.labels,
            "prediction": predicted,
            "correct": (predicted == split.labels).astype(int),
            "p_label": probabilities[rows, split.labels],
            "p_prediction": probabilities[rows, predicted],
        }
    )
    if split.digits is not None:
        frame["digit_left"], frame["digit_right"] = split.digits[:, 0], split.digits[:, 1]
    return frame


def empty_predictions():
    return pd.DataFrame(columns=list(PREDICTION_COLUMNS))


def predict_test(choice, models, data_path):
    """The chosen run's predictions on every test image (empty when every grid run diverged).
    models: {run name: model.pt} of the grid."""
    model_path = chosen_model_path(choice, models)
    if model_path is None:
        return empty_predictions()
    splits, attributes = read_splits(data_path, names=("test",))
    mean, std = float(attributes["pixel_mean"]), float(attributes["pixel_std"])
    images = to_tensor_split(splits["test"], mean, std, "cpu").images
    model = load_trained_model(choice["model"], model_path, attributes)
    return predictions_table(splits["test"], test_logits(model, images))


def write_predictions(choice_path, model_paths, runs, data_path, out_path):
    """What rule predict_test does: the chosen run's predictions as CSV (`runs`: the run name of each
    of model_paths). Returns (the predictions, the choice)."""
    choice = read_json(choice_path)
    predictions = predict_test(choice, dict(zip(runs, model_paths, strict=True)), data_path)
    write_text_atomic(out_path, predictions.to_csv(index=False))
    return predictions, choice


# A round's prediction of an image whose outputs were not finite (a diverged replicate): never a class,
# so the image counts as wrong; the replicate stays in its pairs (docs/methods.md).
NO_PREDICTION = -1


def run_predictions(model_name, model_path, data_path):
    """(labels, each test image's predicted class) of one run, from its saved weights and its own data
    file (whose train split standardises its input); NO_PREDICTION where the logits are not finite."""
    splits, attributes = read_splits(data_path, names=("test",))
    mean, std = float(attributes["pixel_mean"]), float(attributes["pixel_std"])
    images = to_tensor_split(splits["test"], mean, std, "cpu").images
    logits = test_logits(load_trained_model(model_name, model_path, attributes), images)
    predicted = logits.argmax(dim=1).numpy()
    predicted[~torch.isfinite(logits).all(dim=1).numpy()] = NO_PREDICTION
    return splits["test"].labels, predicted


def round_predictions(model_name, model_paths, data_paths, runs):
    """A round's replicates of one experiment on every test image: its label, then each run's predicted
    class, a column per run (`runs`: the run names of model_paths, in replicate order)."""
    frame = None
    for run, model_path, data_path in zip(runs, model_paths, data_paths, strict=True):
        labels, predicted = run_predictions(model_name, model_path, data_path)
        if frame is None:
            frame = pd.DataFrame({"index": np.arange(len(labels)), "label": labels})
        elif not np.array_equal(frame["label"].to_numpy(), labels):
            raise ValueError(
                f"{data_path}: its test labels differ from {data_paths[0]}'s; replicates share test images"
            )
        frame[run] = predicted
    return frame


def write_round_predictions(model_name, model_paths, data_paths, runs, out_path):
    """What rule predict_round does: a round's predictions as CSV. Returns them."""
    frame = round_predictions(model_name, model_paths, data_paths, runs)
    write_text_atomic(out_path, frame.to_csv(index=False))
    return frame
