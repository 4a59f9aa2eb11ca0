"""A dataset declared in config alone runs the whole study: docs/usage.md's "Add a dataset" example, run as
it is written, on a small dataset in IDX format generated here (no MNIST in sight)."""

import gzip
import hashlib
import re
import subprocess

import h5py
import pandas as pd
import pytest
import yaml

from digitstudy.idx import IDX_FILES
from helpers import REPO, copy_workflow, snakemake, write_idx_dataset


pytestmark = [pytest.mark.workflow, pytest.mark.slow]
README = (REPO / "docs" / "usage.md").read_text()
EXAMPLE_FOLDER = "~/data/fashion"
# The example's study made small: the generated dataset has 300 train and 80 test images.
SMALL = {
    "data": {"n_train": 200, "n_valid": 60, "n_test": 60},
    "training": {"epochs": 2},
    "seed_study": {"seeds": [1, 2], "lr": 0.05, "momentum": 0.9},
    "grid": {"seed": 1, "lr": [0.05], "momentum": [0.9]},
    "confirm": {"first": 2, "max": 2},
    "plots": {"dpi": 60},
}


def readme_block(marker, language):
    return re.search(rf"<!-- {marker} -->\n```{language}\n(.*?)```", README, re.DOTALL).group(1)


def checksum_lines(folder):
    """The checksum loop of docs/usage.md, run on `folder` instead of the example's."""
    script = readme_block("dataset-checksums", "bash").replace(EXAMPLE_FOLDER, str(folder))
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout


def example_config(folder):
    """The config/fashion.yaml of docs/usage.md with the files in `folder` and the printed lines pasted in."""
    text = readme_block("add-dataset-example", "yaml").replace(EXAMPLE_FOLDER, str(folder))
    return re.sub(r" *# the four lines printed above\n", lambda _: checksum_lines(folder), text)


@pytest.fixture(scope="module")
def fashion_study(tmp_path_factory):
    """The example study, finished, in a folder of its own."""
    root = tmp_path_factory.mktemp("fashion")
    sha256 = write_idx_dataset(root / "files", counts=(300, 80), n_classes=10, height=28, width=28)
    workdir = copy_workflow(root / "study")
    config = example_config(root / "files")
    assert yaml.safe_load(config)["datasets"]["fashion"]["idx"]["sha256"] == sha256
    (workdir / "config" / "fashion.yaml").write_text(config)
    (workdir / "config" / "small.yaml").write_text(yaml.safe_dump(SMALL))
    command = re.search(r"`snakemake (--cores all --configfile config/fashion.yaml)`", README).group(1).split()
    finished = snakemake(
        workdir, *command, "config/small.yaml", mnist_dir=root / "no-mnist", configfile=None, cores=None
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return workdir


def test_a_declared_dataset_and_its_pairs_run_to_the_summary(fashion_study):
    with h5py.File(fashion_study / "data" / "processed" / "fashion.h5") as handle:
        assert handle.attrs["n_classes"] == 10 and tuple(handle.attrs["image_shape"]) == (1, 28, 28)
    with h5py.File(fashion_study / "data" / "processed" / "fashionpairs.h5") as handle:
        assert handle.attrs["n_classes"] == 19 and tuple(handle.attrs["image_shape"]) == (1, 28, 56)
    assert not (fashion_study / "data" / "raw" / "mnist").exists()
    runs = pd.read_csv(fashion_study / "results" / "runs.csv")
    assert sorted(set(zip(runs["dataset"], runs["model"]))) == [
        ("fashion", "ann"),
        ("fashion", "cnn"),
        ("fashionpairs", "cnn_dropout"),
    ]
    assert len(runs) == 3 * 4 and (runs["status"] == "ok").all()  # two seeds and two replicates each
    names = yaml.safe_load(readme_block("add-dataset-example", "yaml"))["datasets"]["fashion"]["classes"]
    assert list(pd.read_csv(fashion_study / "results/tables/fashion/cnn/class_errors.csv")["class_name"]) == names
    assert "class_name" not in pd.read_csv(fashion_study / "results/tables/fashionpairs/cnn_dropout/class_errors.csv")
    summary = (fashion_study / "results" / "summary.md").read_text()
    assert summary.startswith("# digitstudy results") and "Study 'fashion'" in summary
    for task in ("fashion", "fashionpairs"):
        assert f"## {task}" in summary, summary
    assert "(plots/fashionpairs_samples.png)" in summary
    assert (fashion_study / "results" / "plots" / "fashionpairs_samples.png").stat().st_size > 0
    pairs = pd.read_csv(fashion_study / "results" / "tables" / "fashionpairs" / "cnn_dropout" / "digit_pairs.csv")
    assert (pairs["digit_left"] + pairs["digit_right"] == pairs["sum"]).all() and pairs["sum"].max() <= 18


def test_a_finished_declared_study_reruns_nothing(fashion_study):
    dry = snakemake(
        fashion_study,
        "--dry-run",
        "--configfile",
        "config/fashion.yaml",
        "config/small.yaml",
        mnist_dir=fashion_study / "no-mnist",
        configfile=None,
    )
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_labels_outside_the_classes_stop_the_study_in_one_line(tmp_path):
    """Test labels the train labels never use: refused naming the file, and no dataset file is left."""
    files = tmp_path / "files"
    write_idx_dataset(tmp_path / "three", counts=(300, 80), n_classes=3)
    write_idx_dataset(files, counts=(300, 80), n_classes=5)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (files / name).write_bytes((tmp_path / "three" / name).read_bytes())
    sha256 = {
        name: hashlib.sha256(gzip.decompress((files / f"{name}.gz").read_bytes())).hexdigest() for name in IDX_FILES
    }
    workdir = copy_workflow(tmp_path / "study")
    config = {
        **SMALL,
        "study": "odd",
        "datasets": {"odd": {"idx": {"folder": str(files), "sha256": sha256}}},
        "experiments": {"mnist": None, "twodigit": None, "odd": {"ann": {"batch_size": 32}}},
    }
    (workdir / "config" / "odd.yaml").write_text(yaml.safe_dump(config))
    finished = snakemake(
        workdir, "data/processed/odd.h5", mnist_dir=tmp_path / "no-mnist", configfile="config/odd.yaml"
    )
    assert finished.returncode == 1
    errors = [line for line in finished.stderr.splitlines() if line.startswith("digitstudy error: ")]
    assert errors == [
        "digitstudy error: data/raw/odd/t10k-labels-idx1-ubyte: label 4 outside 0..2, the classes of the train labels"
    ]
    assert not (workdir / "data" / "processed").exists() or not any((workdir / "data" / "processed").iterdir())
