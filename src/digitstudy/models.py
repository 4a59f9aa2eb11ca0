"""The study's models: one registered function each, carrying all the workflow needs to know of it.

A model is added by one `@register(...)` function here: the config schema accepts the registered
names, the cluster time estimate reads its cost, the weight pictures show its pictured layer.
torch is imported inside the functions: Snakemake reads this registry while it plans (model
names, costs), and importing torch would add more than a second to every snakemake start.

A user of the deployed workflow, who cannot edit this file, declares a model of their own in the
config (`models:` a Python file of their project and the function in it that builds the network):
declared_spec registers it like the others, and declared_model_error checks it before any job.
"""

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import DigitstudyError
from .files import sha256_file


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


# --- models of the user's own, declared in the config (`models:`) -------------------------------------


def load_builder(declaration):
    """The function that a declared model names (`file`, `function`), from the user's file; one line
    (DigitstudyError) naming the file and the cause where it is missing, does not import, or lacks it."""
    path = Path(declaration["file"])
    if not path.is_file():
        raise DigitstudyError(f"{path}: no such file")
    spec = importlib.util.spec_from_file_location(f"digitstudy_declared_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's code: any error is theirs to read, in one line
        raise DigitstudyError(f"{path}: does not import ({type(error).__name__}: {error})") from None
    builder = getattr(module, declaration["function"], None)
    if not callable(builder):
        raise DigitstudyError(f"{path}: has no function {declaration['function']}")
    return builder


def declared_spec(name, declaration):
    """A declared model's ModelSpec: its builder loaded from the user's file when first called (the
    registry is read while Snakemake plans, where only the checks load the file)."""
    return ModelSpec(
        name,
        lambda image_shape, n_classes: load_builder(declaration)(image_shape, n_classes),
        declaration.get("epoch_seconds_per_1000", 0.15),
        first_layer,
    )


def register_declared(declarations):
    """Register the config's declared models ({name: declaration}, the config's `models`)."""
    for name, declaration in (declarations or {}).items():
        MODELS[name] = declared_spec(name, declaration)


def declared_model_param(declarations, name):
    """What a job of model `name` needs to build it, as a param: its file, its function and the file's
    SHA-256 (an edit of the file reruns the model's jobs, and only them); None for a registered model."""
    declaration = (declarations or {}).get(name)
    if declaration is None:
        return None
    digest = sha256_file(declaration["file"])
    return {"file": declaration["file"], "function": declaration["function"], "sha256": digest}


def use_declared_model(name, param):
    """In a job: register model `name` from its param (declared_model_param) when it is the user's own."""
    if param is not None:
        register_declared({name: param})


def output_problem(builder, image_shape, n_classes):
    """Why the network builder(image_shape, n_classes) is not one the study can train (it does not
    build, is no torch module, fails on a batch of two blank images, or gives other than one score per
    class), or None."""
    import torch

    try:
        model = builder(image_shape, n_classes)
        if not isinstance(model, torch.nn.Module):
            return f"builds a {type(model).__name__}, not a torch.nn.Module"
        with torch.no_grad():
            output = model.eval()(torch.zeros(2, *image_shape))
    except Exception as error:  # the user's code: any error is theirs to read, in one line
        return f"does not build and run ({type(error).__name__}: {error})"
    if tuple(output.shape) != (2, n_classes):
        return f"gives outputs of shape {tuple(output.shape)}, not (2, {n_classes})"
    return None


def declared_model_error(name, declaration, fits):
    """'models.<name>: <file>: cause' when a declared model does not import, or does not build for one
    of `fits` ((image_shape, n_classes) of each dataset it is used with); None when it does."""
    try:
        builder = load_builder(declaration)
    except DigitstudyError as error:
        return f"models.{name}: {error}"
    for image_shape, n_classes in fits:
        problem = output_problem(builder, image_shape, n_classes)
        if problem:
            where = f"images of {image_shape[1]} x {image_shape[2]} pixels and {n_classes} classes"
            return f"models.{name}: {declaration['file']}: for {where}, {problem}"
    return None
