"""Models: the architectures of the spec, layer by layer, on both datasets' image shapes."""

import pytest
import torch
from torch import nn

from digitstudy.cluster import training_runtime_minutes
from digitstudy.config import config_error, load_schema
from digitstudy.models import MODELS, build_model, first_layer, has_convolutions, pictured_layer
from helpers import quick_config


MNIST_SHAPE, TWO_DIGIT_SHAPE = (1, 28, 28), (1, 28, 56)


def layers(model, kind):
    return [module for module in model.modules() if isinstance(module, kind)]


def linear_shapes(model):
    return [(layer.in_features, layer.out_features) for layer in layers(model, nn.Linear)]


def conv_shapes(model):
    return [
        (layer.in_channels, layer.out_channels, layer.kernel_size, layer.padding) for layer in layers(model, nn.Conv2d)
    ]


def dropout_rates(model):
    return [layer.p for layer in layers(model, nn.Dropout)]


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("image_shape, n_classes", [(MNIST_SHAPE, 10), (TWO_DIGIT_SHAPE, 19)])
def test_output_is_batch_by_classes(name, image_shape, n_classes):
    torch.manual_seed(0)
    model = build_model(name, image_shape, n_classes)
    # Batch of 3 in training mode: batch norm needs more than one sample, dropout is active.
    logits = model(torch.randn(3, *image_shape))
    assert logits.shape == (3, n_classes)
    assert torch.isfinite(logits).all()


def test_ann_layers():
    model = build_model("ann", MNIST_SHAPE, 10)
    assert linear_shapes(model) == [(784, 100), (100, 10)]
    assert not has_convolutions(model) and dropout_rates(model) == []
    assert len(layers(model, nn.ReLU)) == 1


@pytest.mark.parametrize(
    "image_shape, n_classes, flat", [(MNIST_SHAPE, 10, 8 * 14 * 14), (TWO_DIGIT_SHAPE, 19, 8 * 14 * 28)]
)
def test_cnn_layers(image_shape, n_classes, flat):
    model = build_model("cnn", image_shape, n_classes)
    assert conv_shapes(model) == [(1, 8, (3, 3), (1, 1))]
    assert linear_shapes(model) == [(flat, 100), (100, n_classes)]
    assert dropout_rates(model) == []


def test_cnn_dropout_layers_on_two_digits():
    model = build_model("cnn_dropout", TWO_DIGIT_SHAPE, 19)
    assert conv_shapes(model) == [(1, 8, (3, 3), (1, 1))]
    assert linear_shapes(model) == [(3136, 100), (100, 19)]
    assert dropout_rates(model) == [0.5]
    # Dropout acts on the hidden layer, between the two linear layers.
    kinds = [type(module) for module in model]
    assert kinds.index(nn.Linear) < kinds.index(nn.Dropout) < len(kinds) - 1


def test_cnn_dropout_matches_cnn_apart_from_dropout():
    plain, dropout = build_model("cnn", MNIST_SHAPE, 10), build_model("cnn_dropout", MNIST_SHAPE, 10)
    assert [parameter.shape for parameter in plain.parameters()] == [
        parameter.shape for parameter in dropout.parameters()
    ]


def test_lenet5_layers_on_two_digits():
    model = build_model("lenet5", TWO_DIGIT_SHAPE, 19)
    assert conv_shapes(model) == [(1, 6, (5, 5), (0, 0)), (6, 16, (5, 5), (0, 0))]
    # 28 x 56 -> conv 24 x 52 -> pool 12 x 26 -> conv 8 x 22 -> pool 4 x 11: 16 * 4 * 11 = 704.
    assert linear_shapes(model) == [(704, 120), (120, 84), (84, 19)]
    assert [layer.num_features for layer in layers(model, nn.BatchNorm2d)] == [6, 16]
    assert dropout_rates(model) == [0.1]


def test_lenet5_on_mnist_shape():
    assert linear_shapes(build_model("lenet5", MNIST_SHAPE, 10))[0] == (16 * 4 * 4, 120)


def test_unknown_model_is_named():
    with pytest.raises(KeyError, match="unknown model 'resnet'.*ann"):
        build_model("resnet", MNIST_SHAPE, 10)


def test_first_layer_is_the_pictured_one():
    assert isinstance(first_layer(build_model("ann", MNIST_SHAPE, 10)), nn.Linear)
    conv = first_layer(build_model("lenet5", MNIST_SHAPE, 10))
    assert isinstance(conv, nn.Conv2d) and conv.out_channels == 6


def test_the_schema_accepts_exactly_the_registered_models():
    """One list of model names, the registry's: the schema as the workflow loads it takes them."""
    schema = load_schema()
    assert schema["definitions"]["models"]["propertyNames"]["enum"] == sorted(MODELS)
    config = quick_config()
    config["experiments"]["mnist"]["resnet"] = {"batch_size": 32}
    assert config_error(config, schema).startswith("experiments.mnist: 'resnet' is not one of ['ann',")


def test_every_model_carries_its_cost_and_pictured_layer():
    for name, spec in MODELS.items():
        assert spec.name == name and spec.epoch_seconds_per_1000 > 0
        model = build_model(name, TWO_DIGIT_SHAPE, 19)
        assert pictured_layer(name, model) is first_layer(model)
        assert training_runtime_minutes(name, 28 * 56, 40, 50000, 10000) > 5
