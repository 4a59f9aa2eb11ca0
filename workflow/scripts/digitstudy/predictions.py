"""Per-image test predictions of an experiment's chosen run, computed from its saved weights, so a
study trained before this analysis existed gains it without training anything again."""

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .datasets import read_splits
from .models import build_model
from .training import EVAL_BATCH, on_device, to_tensor_split

PREDICTION_COLUMNS = ("index", "label", "prediction", "correct", "p_label", "p_prediction")


def chosen_model_path(choice, model_paths):
    """The model.pt of the experiment's chosen run among the grid's, or None when every run diverged."""
    if choice["chosen"] is None:
        return None
    return next(path for path in model_paths if Path(path).parent.name == choice["chosen"]["run"])


def load_trained_model(model_name, model_path, attributes, device="cpu"):
    """A run's model with its saved weights, in evaluation mode, for the dataset's image shape."""
    model = build_model(model_name, tuple(attributes["image_shape"]), int(attributes["n_classes"]))
    model.load_state_dict(torch.load(model_path, map_location=device, weights_only=True))
    return on_device(model, device).eval()


@torch.no_grad()
def test_logits(model, images, batch_size=EVAL_BATCH):
    """The model's logits, in the batches that evaluate() uses, so the argmax agrees with the
    recorded test error bit for bit on the same CPU."""
    model.eval()
    return torch.cat([model(images[start:start + batch_size]) for start in range(0, len(images), batch_size)])


def predictions_table(split, logits):
    """One row per test image: its label, the prediction, and the probabilities the model gave both
    (and the two digits where the image is a pair)."""
    probabilities = torch.softmax(logits.double(), dim=1).numpy()
    predicted = logits.argmax(dim=1).numpy()
    rows = np.arange(len(split.labels))
    frame = pd.DataFrame({"index": rows, "label": split.labels, "prediction": predicted,
                          "correct": (predicted == split.labels).astype(int),
                          "p_label": probabilities[rows, split.labels],
                          "p_prediction": probabilities[rows, predicted]})
    if split.digits is not None:
        frame["digit_left"], frame["digit_right"] = split.digits[:, 0], split.digits[:, 1]
    return frame


def empty_predictions():
    return pd.DataFrame(columns=list(PREDICTION_COLUMNS))


def predict_test(choice, model_paths, data_path):
    """The chosen run's predictions on every test image (empty when every grid run diverged)."""
    model_path = chosen_model_path(choice, model_paths)
    if model_path is None:
        return empty_predictions()
    splits, attributes = read_splits(data_path, names=("test",))
    mean, std = float(attributes["pixel_mean"]), float(attributes["pixel_std"])
    images = to_tensor_split(splits["test"], mean, std, "cpu").images
    model = load_trained_model(choice["model"], model_path, attributes)
    return predictions_table(splits["test"], test_logits(model, images))
