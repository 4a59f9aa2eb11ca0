"""Models of the user's own, declared in the config (`models:` a file and a function): accepted where the
registered models are, checked before any job in one line that names the file and the cause, and
built in a job from the param that names them (docs/usage.md: "Add a model")."""

import pytest

from digitstudy.config import declared_models_error, resolve_config
from digitstudy.errors import DigitstudyError
from digitstudy.models import (
    MODELS,
    build_model,
    declared_model_error,
    declared_model_param,
    load_builder,
    use_declared_model,
)
from helpers import quick_config


MODEL_FILE = """\
from torch import nn


def tiny(image_shape, n_classes):
    channels, height, width = image_shape
    return nn.Sequential(nn.Flatten(), nn.Linear(channels * height * width, 8), nn.ReLU(), nn.Linear(8, n_classes))


def three_outputs(image_shape, n_classes):
    channels, height, width = image_shape
    return nn.Sequential(nn.Flatten(), nn.Linear(channels * height * width, 3))


def not_a_module(image_shape, n_classes):
    return "a network"


def fails(image_shape, n_classes):
    raise ValueError("no such layer")
"""
MNIST, PAIRS = ((1, 28, 28), 10), ((1, 28, 56), 19)


@pytest.fixture
def model_file(tmp_path, monkeypatch):
    """The user's file in their study's folder (the working directory, as for a job)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "models.py").write_text(MODEL_FILE)
    return "mine/models.py"


def declared(file, function):
    return {"file": file, "function": function}


def test_a_model_that_builds_for_each_dataset_passes(model_file):
    assert declared_model_error("tiny", declared(model_file, "tiny"), [MNIST, PAIRS]) is None


@pytest.mark.parametrize(
    "function, cause",
    [
        ("three_outputs", "for images of 28 x 28 pixels and 10 classes, gives outputs of shape (2, 3), not (2, 10)"),
        ("not_a_module", "for images of 28 x 28 pixels and 10 classes, builds a str, not a torch.nn.Module"),
        (
            "fails",
            "for images of 28 x 28 pixels and 10 classes, does not build and run (ValueError: no such layer)",
        ),
        ("missing", "has no function missing"),
    ],
)
def test_a_model_that_cannot_serve_is_refused_in_one_line_naming_the_file(model_file, function, cause):
    assert (
        declared_model_error("mine", declared(model_file, function), [MNIST]) == f"models.mine: {model_file}: {cause}"
    )


def test_a_file_that_is_missing_or_does_not_import_is_refused_in_one_line(model_file, tmp_path):
    assert declared_model_error("mine", declared("mine/nothing.py", "tiny"), [MNIST]) == (
        "models.mine: mine/nothing.py: no such file"
    )
    (tmp_path / "mine" / "broken.py").write_text("import torch\nnn = torch.nn.\n")
    problem = declared_model_error("mine", declared("mine/broken.py", "tiny"), [MNIST])
    assert problem.startswith("models.mine: mine/broken.py: does not import (SyntaxError: ")
    with pytest.raises(DigitstudyError, match="no such file"):
        load_builder(declared("mine/nothing.py", "tiny"))


def test_the_config_accepts_a_declared_model_where_it_accepts_registered_ones(model_file):
    config = quick_config()
    config["models"] = {"tiny": declared(model_file, "tiny")}
    config["experiments"]["twodigit"]["tiny"] = {"batch_size": 32}
    resolved = resolve_config(config)
    assert resolved["models"]["tiny"]["epoch_seconds_per_1000"] == 0.15  # lenet5's, by default
    assert declared_models_error(resolved, environ={}) is None  # built for 28 x 56 images and 19 classes
    config["models"]["tiny"]["function"] = "three_outputs"
    assert declared_models_error(resolve_config(config), environ={}) == (
        f"models.tiny: {model_file}: for images of 28 x 56 pixels and 19 classes, gives outputs of shape (2, 3), "
        "not (2, 19)"
    )


def test_a_declared_model_may_not_take_a_registered_name(model_file):
    config = quick_config()
    config["models"] = {"cnn": declared(model_file, "tiny")}
    with pytest.raises(DigitstudyError, match=r"^models.cnn: cnn is a model of the study's own"):
        resolve_config(config)


def test_an_undeclared_model_is_still_refused():
    config = quick_config()
    config["experiments"]["mnist"]["tiny"] = {"batch_size": 32}
    with pytest.raises(DigitstudyError, match=r"^experiments.mnist: 'tiny' is not one of"):
        resolve_config(config)


def test_a_job_builds_the_model_from_its_param(model_file, tmp_path):
    """The param holds the file's SHA-256, so that an edit of the file reruns the model's jobs."""
    param = declared_model_param({"tiny": {**declared(model_file, "tiny"), "epoch_seconds_per_1000": 1.0}}, "tiny")
    assert set(param) == {"file", "function", "sha256"} and len(param["sha256"]) == 64
    assert declared_model_param({}, "cnn") is None
    try:
        use_declared_model("tiny", param)
        model = build_model("tiny", (1, 28, 28), 10)
        assert sum(parameter.numel() for parameter in model.parameters()) == 784 * 8 + 8 + 8 * 10 + 10
    finally:
        MODELS.pop("tiny", None)
    (tmp_path / model_file).write_text(MODEL_FILE + "\n# edited\n")
    assert declared_model_param({"tiny": declared(model_file, "tiny")}, "tiny")["sha256"] != param["sha256"]
