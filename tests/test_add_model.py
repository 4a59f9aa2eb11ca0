"""A model of the user's own, a function in a file of their study's folder named in the config (the
workflow's code untouched, as when it is deployed as a module), is checked, planned, estimated and
trained by the real workflow (docs/usage.md: "Add a model"), on a copy of the finished quick study."""

import json
import math
import re

import pytest

from helpers import copy_study, snakemake, write_config


pytestmark = pytest.mark.workflow

MODEL_FILE = """\
from torch import nn


def tiny_mlp(image_shape, n_classes):
    channels, height, width = image_shape
    return nn.Sequential(nn.Flatten(), nn.Linear(channels * height * width, 16), nn.ReLU(), nn.Linear(16, n_classes))
"""
# A cost far above the others, so that the cluster time limit visibly comes from it.
DECLARED = {"tiny_mlp": {"file": "mymodels/tiny.py", "function": "tiny_mlp", "epoch_seconds_per_1000": 30.0}}


def declare_tiny_mlp(config):
    config["models"] = DECLARED
    config["experiments"]["mnist"]["tiny_mlp"] = {"batch_size": 32}


@pytest.mark.slow
def test_a_model_of_the_users_own_is_planned_estimated_and_trained(quick_study, mnist_dir, tmp_path):
    study = copy_study(quick_study, tmp_path / "study")
    (study / "mymodels").mkdir()
    (study / "mymodels" / "tiny.py").write_text(MODEL_FILE)
    configfile = write_config(study, declare_tiny_mlp)

    dry = snakemake(study, "--dry-run", mnist_dir=mnist_dir, configfile=configfile)
    assert dry.returncode == 0, dry.stderr[-2000:]
    jobs = re.findall(
        r"rule train_run:\n(?:    .*\n)*?\s+wildcards: dataset=(\w+), model=(\w+).*\n(?:    .*\n)*?"
        r"\s+resources: .*runtime=(\d+)",
        dry.stdout,
    )
    assert [(dataset, model) for dataset, model, _ in jobs] == [("mnist", "tiny_mlp")] * 3, dry.stdout[-3000:]
    # 5 minutes + 3 x the estimate: 30 s per 1,000 images x (3,000 + 1,000) images x 2 epochs.
    assert {int(runtime) for *_, runtime in jobs} == {5 + math.ceil(3 * 30.0 * 4 * 2 / 60)}

    # Trained, and pictured (the summary and comparisons follow as for any experiment; test_rerun).
    weights = "results/plots/mnist/tiny_mlp/weights.png"
    done = snakemake(study, weights, mnist_dir=mnist_dir, configfile=configfile)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = sorted((study / "results" / "runs" / "mnist" / "tiny_mlp").glob("*/metrics.json"))
    assert len(runs) == 3
    assert all(json.loads(run.read_text())["status"] == "ok" for run in runs)
    assert (study / weights).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # An edit of the model's file reruns its runs, and no other model's.
    (study / "mymodels" / "tiny.py").write_text(MODEL_FILE.replace("16", "32"))
    again = snakemake(study, "--dry-run", mnist_dir=mnist_dir, configfile=configfile)
    assert again.returncode == 0, again.stderr[-2000:]
    retrained = re.findall(r"rule train_run:\n(?:    .*\n)*?\s+wildcards: dataset=(\w+), model=(\w+)", again.stdout)
    assert retrained and set(retrained) == {("mnist", "tiny_mlp")}
