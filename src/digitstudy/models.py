"""The study's models: one registered function each, carrying all the workflow needs to know of it.

A model is added by one `@register(...)` function here: the config schema accepts the registered
names, the cluster time estimate reads its cost, the weight pictures show its pictured layer.
torch is imported inside the functions: Snakemake reads this registry while it plans (model
names, costs), and importing torch would add more than a second to every snakemake start.
"""

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class ModelSpec:
    name: str
    build: Callable  # (image_shape (C, H, W), n_classes) -> torch.nn.Module
    # Seconds of one training epoch per 1,000 images of 28 x 28 pixels (training plus the validation
    # pass) on one CPU thread of the 2-core development machine; the cluster's time limits use it.
    epoch_seconds_per_1000: float
    pictured_layer: Callable  # model -> the module whose weights the weight pictures show


MODELS = {}


def first_layer(model):
    """The first Linear or Conv2d module: the one whose weights are pictured."""
    from torch import nn

    return next(module for module in model.modules() if isinstance(module, (nn.Linear, nn.Conv2d)))


def register(name, epoch_seconds_per_1000, pictured_layer=first_layer):
    """Register the decorated builder as model `name`."""

    def add(builder):
        MODELS[name] = ModelSpec(name, builder, epoch_seconds_per_1000, pictured_layer)
        return builder

    return add


def model_spec(name):
    if name not in MODELS:
        raise KeyError(f"unknown model '{name}' (known: {', '.join(sorted(MODELS))})")
    return MODELS[name]


def build_model(name, image_shape, n_classes):
    """The model called `name` for images of image_shape (C, H, W) and n_classes classes."""
    return model_spec(name).build(tuple(int(size) for size in image_shape), int(n_classes))


def pictured_layer(name, model):
    """The module of `model` (a model called `name`) whose weights the weight pictures show."""
    return model_spec(name).pictured_layer(model)


def conv_size(size, kernel, padding=0):
    return size + 2 * padding - kernel + 1


@register("ann", epoch_seconds_per_1000=0.02)
def ann(image_shape, n_classes):
    from torch import nn

    channels, height, width = image_shape
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(channels * height * width, 100),
        nn.ReLU(),
        nn.Linear(100, n_classes),
    )


def small_cnn(image_shape, n_classes, dropout):
    from torch import nn

    channels, height, width = image_shape
    flat = 8 * (conv_size(height, 3, 1) // 2) * (conv_size(width, 3, 1) // 2)
    head = [nn.Linear(flat, 100), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
    return nn.Sequential(
        nn.Conv2d(channels, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        *head,
        nn.Linear(100, n_classes),
    )


@register("cnn", epoch_seconds_per_1000=0.1)
def cnn(image_shape, n_classes):
    return small_cnn(image_shape, n_classes, dropout=0.0)


@register("cnn_dropout", epoch_seconds_per_1000=0.1)
def cnn_dropout(image_shape, n_classes):
    return small_cnn(image_shape, n_classes, dropout=0.5)


@register("lenet5", epoch_seconds_per_1000=0.15)
def lenet5(image_shape, n_classes):
    from torch import nn

    channels, height, width = image_shape
    height, width = conv_size(height, 5) // 2, conv_size(width, 5) // 2
    height, width = conv_size(height, 5) // 2, conv_size(width, 5) // 2
    return nn.Sequential(
        nn.Conv2d(channels, 6, 5),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.1),
        nn.Linear(16 * height * width, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, n_classes),
    )


def has_convolutions(model):
    from torch import nn

    return any(isinstance(module, nn.Conv2d) for module in model.modules())
