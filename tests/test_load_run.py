"""load_run's model (docs/output.md, "Use a trained model"): the registry's model as model.pt holds it,
behaving as that model does; image_logits takes one image or a batch and refuses any other input in
one line."""

import pytest
import torch

from digitstudy import predictions
from digitstudy.datasets import SPLITS, read_splits, write_splits
from digitstudy.models import build_model
from digitstudy.predictions import image_logits, load_run
from helpers import learnable_split, run_settings, train_into


# Not square, and not MNIST's size: a shape named in the wrong order, or MNIST's assumed, shows.
IMAGE_SHAPE, N_CLASSES = (1, 12, 10), 4


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "small.h5"
    sizes = {"train": 200, "valid": 60, "test": 60}
    splits = {name: learnable_split(sizes[name], seed, 12, 10, N_CLASSES) for seed, name in enumerate(SPLITS)}
    attributes = {"dataset": "small", "source_sha256": {"train-images-idx3-ubyte": "12" * 32}, "split_seed": 0}
    write_splits(path, splits, n_classes=N_CLASSES, attributes=attributes)
    return path


@pytest.fixture(scope="module", params=["ann", "cnn"])
def run(request, data_file, tmp_path_factory):
    """(run folder, model name) of a finished run; ann flattens its input, cnn convolves it first."""
    out_dir = tmp_path_factory.mktemp(request.param)
    train_into(data_file, out_dir, run_settings(model=request.param, epochs=1), lambda message: None)
    return out_dir, request.param


@pytest.fixture(scope="module")
def images(data_file):
    return read_splits(data_file, names=("test",))[0]["test"].images


def test_one_image_gives_its_logits_as_a_vector(run, data_file, images):
    model, preprocess = load_run(run[0], data_file=data_file)
    batch = preprocess(images)
    logits = image_logits(model, preprocess(images[0]), IMAGE_SHAPE)
    assert logits.shape == (N_CLASSES,)
    assert torch.equal(logits, model(batch[:1])[0])  # the same computation as a batch of one
    torch.testing.assert_close(logits, predictions.test_logits(model, batch)[0])
    assert torch.equal(image_logits(model, batch, IMAGE_SHAPE), model(batch))


SHAPES = "one image of shape 1 x 12 x 10 or a batch N x 1 x 12 x 10"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (torch.zeros(12, 10), f"expected {SHAPES}, got 12 x 10"),  # an image without its channel
        (torch.zeros(1, 10, 12), f"expected {SHAPES}, got 1 x 10 x 12"),  # height and width swapped
        (torch.zeros(3, 1, 28, 28), f"expected {SHAPES}, got 3 x 1 x 28 x 28"),  # MNIST's size
        (torch.zeros(2, 3, 1, 12, 10), f"expected {SHAPES}, got 2 x 3 x 1 x 12 x 10"),
        (  # pixels as the HDF5 file holds them, not standardised
            torch.zeros(1, 12, 10, dtype=torch.uint8),
            f"expected the float tensor that preprocess(images) gives, {SHAPES}, got a torch.uint8 tensor",
        ),
    ],
    ids=["no channel", "height and width swapped", "another size", "5 dimensions", "raw pixels"],
)
def test_any_other_input_is_refused_in_one_line_naming_the_shape_expected(run, data_file, given, message):
    model, _ = load_run(run[0], data_file=data_file)
    with pytest.raises(ValueError) as refused:
        image_logits(model, given, IMAGE_SHAPE)
    assert str(refused.value) == message
    assert image_logits(model, torch.zeros(2, *IMAGE_SHAPE), IMAGE_SHAPE).shape == (2, N_CLASSES)


def outcome(model, given):
    """What `model` makes of `given`: its output, or the type and message of the error it raises."""
    try:
        return model(given)
    except (RuntimeError, ValueError) as error:
        return type(error), str(error)


def test_the_model_behaves_as_the_registry_model_with_the_saved_weights(run, data_file, images):
    """On any input, even one it cannot take (one image without its batch dimension, raw pixels), before
    and after image_logits used it: load_run adds nothing to the model, hooks included."""
    run_dir, name = run
    model, preprocess = load_run(run_dir, data_file=data_file)
    plain = build_model(name, IMAGE_SHAPE, N_CLASSES).eval()
    plain.load_state_dict(torch.load(run_dir / "model.pt", weights_only=True))
    inputs = [preprocess(images), preprocess(images[0]), torch.as_tensor(images)]
    image_logits(model, preprocess(images[0]), IMAGE_SHAPE)
    for given in inputs:
        got, expected = outcome(model, given), outcome(plain, given)
        if isinstance(expected, torch.Tensor):  # close, not equal: a cnn computes in channels-last order
            torch.testing.assert_close(got, expected)
        else:
            assert got == expected


def test_the_model_keeps_the_registry_models_weights_and_keys(run, data_file, tmp_path):
    """Its weights save and load as model.pt does, into the model build_model makes, and back."""
    run_dir, name = run
    model, _ = load_run(run_dir, data_file=data_file)
    plain = build_model(name, IMAGE_SHAPE, N_CLASSES)
    assert type(model) is type(plain)
    saved = torch.load(run_dir / "model.pt", weights_only=True)
    assert list(model.state_dict()) == list(plain.state_dict()) == list(saved)
    assert all(torch.equal(model.state_dict()[key], saved[key]) for key in saved)
    torch.save(model.state_dict(), tmp_path / "again.pt")
    plain.load_state_dict(torch.load(tmp_path / "again.pt", weights_only=True))
    model.load_state_dict(plain.state_dict())
