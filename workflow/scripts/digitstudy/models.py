"""The study's models, built from the dataset's image shape and class count; a registry by name."""

from torch import nn

MODELS = {}


def register(name):
    def add(builder):
        MODELS[name] = builder
        return builder
    return add


def build_model(name, image_shape, n_classes):
    """The model called `name` for images of image_shape (C, H, W) and n_classes classes."""
    if name not in MODELS:
        raise KeyError(f"unknown model '{name}' (known: {', '.join(sorted(MODELS))})")
    return MODELS[name](tuple(int(size) for size in image_shape), int(n_classes))


def conv_size(size, kernel, padding=0):
    return size + 2 * padding - kernel + 1


@register("ann")
def ann(image_shape, n_classes):
    channels, height, width = image_shape
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(channels * height * width, 100), nn.ReLU(),
        nn.Linear(100, n_classes),
    )


def small_cnn(image_shape, n_classes, dropout):
    channels, height, width = image_shape
    flat = 8 * (conv_size(height, 3, 1) // 2) * (conv_size(width, 3, 1) // 2)
    head = [nn.Linear(flat, 100), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
    return nn.Sequential(
        nn.Conv2d(channels, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), *head, nn.Linear(100, n_classes),
    )


@register("cnn")
def cnn(image_shape, n_classes):
    return small_cnn(image_shape, n_classes, dropout=0.0)


@register("cnn_dropout")
def cnn_dropout(image_shape, n_classes):
    return small_cnn(image_shape, n_classes, dropout=0.5)


@register("lenet5")
def lenet5(image_shape, n_classes):
    channels, height, width = image_shape
    height, width = conv_size(height, 5) // 2, conv_size(width, 5) // 2
    height, width = conv_size(height, 5) // 2, conv_size(width, 5) // 2
    return nn.Sequential(
        nn.Conv2d(channels, 6, 5), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.1),
        nn.Linear(16 * height * width, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, n_classes),
    )


def first_layer(model):
    """The first Linear or Conv2d module: the one whose weights are pictured."""
    return next(module for module in model.modules() if isinstance(module, (nn.Linear, nn.Conv2d)))


def has_convolutions(model):
    return any(isinstance(module, nn.Conv2d) for module in model.modules())
