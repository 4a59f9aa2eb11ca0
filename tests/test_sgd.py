"""The study's optimizer (digitstudy.sgd) against torch.optim.SGD, which it replaces for its start-up
cost: the same parameters after every step, bit for bit, and a state that either loads from the other;
and what a training, prediction or weight-picture job loads (neither the compiler nor torchvision)."""

import copy
import io
import json
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from digitstudy.models import build_model
from digitstudy.runs import tensors_bytes
from digitstudy.sgd import MomentumSGD
from helpers import REPO, learnable_tensor_data


torch.set_num_threads(1)  # one order of float sums: the comparisons below are bit for bit
MODELS = [("ann", (1, 28, 28), 10), ("cnn_dropout", (1, 28, 28), 10), ("lenet5", (1, 28, 56), 19)]
MOMENTA = [0.0, 0.5, 0.9]


@pytest.fixture(scope="module")
def batches():
    """Eight batches of 32 learnable images and labels, for a model of each image shape."""
    train = learnable_tensor_data(sizes=(256, 8, 8))["train"]
    images, labels = train.images.split(32), train.labels.split(32)
    wide = [torch.cat([batch, batch.flip(0)], dim=3) for batch in images]  # 28 x 56
    return {28: list(zip(images, labels)), 56: list(zip(wide, labels))}


def steps(model, optimizer, batches, seed):
    """Train on `batches` (dropout drawn from a generator seeded with `seed`); the parameters after each."""
    torch.manual_seed(seed)
    model.train()
    after = []
    for images, labels in batches:
        optimizer.zero_grad()
        F.cross_entropy(model(images), labels % 10).backward()
        optimizer.step()
        after.append([parameter.detach().clone() for parameter in model.parameters()])
    return after


def twins(name, shape, n_classes):
    torch.manual_seed(7)
    model = build_model(name, shape, n_classes)
    return model, copy.deepcopy(model)


def assert_same_tensors(ours, theirs):
    assert len(ours) == len(theirs)
    for index, (mine, reference) in enumerate(zip(ours, theirs)):
        assert torch.equal(mine, reference), f"tensor {index} differs"


def assert_same_state(ours, theirs):
    assert ours["param_groups"] == theirs["param_groups"]
    assert ours["state"].keys() == theirs["state"].keys()
    for key, state in theirs["state"].items():
        assert ours["state"][key].keys() == state.keys()
        assert torch.equal(ours["state"][key]["momentum_buffer"], state["momentum_buffer"]), key


@pytest.mark.parametrize("momentum", MOMENTA)
@pytest.mark.parametrize("name, shape, n_classes", MODELS, ids=[model[0] for model in MODELS])
def test_every_step_is_torch_optim_sgds_bit_for_bit(batches, name, shape, n_classes, momentum):
    ours, theirs = twins(name, shape, n_classes)
    mine = MomentumSGD(ours.parameters(), lr=0.05, momentum=momentum)
    reference = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=momentum)
    data = batches[shape[2]]
    for mine_after, reference_after in zip(steps(ours, mine, data, 1), steps(theirs, reference, data, 1), strict=True):
        assert_same_tensors(mine_after, reference_after)
    assert_same_state(mine.state_dict(), reference.state_dict())


@pytest.mark.parametrize("saved_by", ["torch.optim.SGD", "MomentumSGD"])
def test_a_state_saved_by_either_optimizer_goes_on_in_the_other(batches, saved_by):
    """As a checkpoint of an earlier version (torch.optim.SGD's state) resumes in this one, and back."""
    first, second = batches[28][:4], batches[28][4:]
    ours, theirs = twins("cnn_dropout", (1, 28, 28), 10)
    mine = MomentumSGD(ours.parameters(), lr=0.05, momentum=0.9)
    reference = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9)
    steps(ours, mine, first, 1)
    steps(theirs, reference, first, 1)
    saver, loader = (reference, mine) if saved_by == "torch.optim.SGD" else (mine, reference)
    saved = torch.load(io.BytesIO(tensors_bytes(saver.state_dict())), weights_only=True)  # as in a checkpoint
    loader.load_state_dict(saved)
    assert_same_tensors(steps(ours, mine, second, 2)[-1], steps(theirs, reference, second, 2)[-1])
    assert_same_state(mine.state_dict(), reference.state_dict())


def test_a_state_for_another_model_is_refused():
    small, large = build_model("ann", (1, 28, 28), 10), build_model("lenet5", (1, 28, 56), 19)
    state = MomentumSGD(small.parameters(), lr=0.1, momentum=0.9).state_dict()
    with pytest.raises(ValueError, match="the saved optimizer has 4 parameters, this model"):
        MomentumSGD(large.parameters(), lr=0.1, momentum=0.9).load_state_dict(state)


# What the jobs of the study do, in a fresh Python, as the rules' scripts call the library: train a run
# on a small data file (results_pins writes one as prepare_idx does), make its predictions, and lay out
# its first-layer weights for their picture. Prints the heavy modules it loaded.
JOBS = """
import sys, tempfile
import numpy as np
from pathlib import Path
from types import SimpleNamespace
from digitstudy import paths
from digitstudy.runs import train_run
from digitstudy.predictions import load_run, test_logits
from digitstudy.plots import tile_mosaic
from results_pins import write_data_file
folder = Path(tempfile.mkdtemp())
data_file = write_data_file(folder / "digits.h5", (64, 16, 16), height=16, width=16)
wildcards = {"dataset": "digits", "model": "cnn", "seed": "1", "lr": "0.1", "momentum": "0.9", "split": ""}
run_dir = folder / paths.RUN_NAME.format(**wildcards)
outputs = SimpleNamespace(**{name.split(".")[0]: run_dir / name for name in paths.RUN_FILES})
settings = {"batch_size": 16, "epochs": 2, "chance_patience": 5, "device": "cpu"}
train_run(wildcards, settings, 1, data_file, outputs, None, lambda message: None)
model, preprocess = load_run(run_dir, data_file=data_file)
test_logits(model, preprocess(np.zeros((2, 1, 16, 16), dtype=np.uint8)))
tile_mosaic(model.state_dict()["0.weight"][:, 0].numpy(), columns=4)
print(sorted(name for name in sys.modules if name.split(".")[:2] in (["torch", "_dynamo"], ["torchvision"])))
"""


def test_training_predicting_and_weight_pictures_load_neither_the_compiler_nor_torchvision():
    """torch.optim and torchvision import torch._dynamo on first use: seconds of start-up in every such
    job, more than a quick-study run trains."""
    done = subprocess.run(
        [sys.executable, "-c", JOBS],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO / "tests")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1].replace("'", '"')) == []
