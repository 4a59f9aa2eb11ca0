"""Shared test helpers: small synthetic data, IDX byte strings, and the real-MNIST fixture."""

import functools
import gzip
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from digitstudy.config import load_config
from digitstudy.datasets import Split
from digitstudy.fetch import find_source_file
from digitstudy.idx import IDX_SPLITS, read_images_and_labels
from digitstudy.runs import run_training
from digitstudy.training import RunSettings, TensorSplit


IMAGE_SIDE = 28


# --- IDX files ---------------------------------------------------------------------------------


def idx_bytes(array, magic_dtype=0x08):
    """An IDX byte string (header + data) holding a uint8 array; magic_dtype lets a test break it."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, magic_dtype, array.ndim])
    header += b"".join(int(size).to_bytes(4, "big") for size in array.shape)
    return header + array.tobytes()


def write_file(path, content):
    """Write `content`, gzipped when the name ends in .gz (as MNIST mirrors ship it)."""
    path = Path(path)
    path.write_bytes(gzip.compress(content) if path.suffix == ".gz" else content)
    return path


def random_images(count, seed=0, height=IMAGE_SIDE, width=IMAGE_SIDE):
    return np.random.default_rng(seed).integers(0, 256, (count, height, width), dtype=np.uint8)


def write_idx_dataset(folder, counts=(240, 60), n_classes=4, height=12, width=10, seed=0, suffix=".gz"):
    """A small base dataset in MNIST's IDX format (gzipped, MNIST's file names) whose class is a bright
    bar at a class-dependent row over noise, so that models learn it; returns the SHA-256 of each file's
    decompressed content, as a dataset declaration lists them."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sha256 = {}
    for (images_name, labels_name), count, offset in zip(IDX_SPLITS, counts, (0, 1)):
        split = learnable_split(count, seed + offset, height, width, n_classes)
        for name, array in ((images_name, split.images[:, 0]), (labels_name, split.labels)):
            write_file(folder / f"{name}{suffix}", idx_bytes(array))
            sha256[name] = hashlib.sha256(idx_bytes(array)).hexdigest()
    return sha256


# --- synthetic MNIST-like data ---------------------------------------------------------------------


def identified_images(count, tag):
    """`count` 28 x 28 images whose pixels say where they came from: pixel (0, 0) holds `tag`,
    pixels (0, 1) and (0, 2) the index. Lets a test find the source of every half of a pair."""
    images = np.zeros((count, 1, IMAGE_SIDE, IMAGE_SIDE), dtype=np.uint8)
    index = np.arange(count)
    images[:, 0, 0, 0] = tag
    images[:, 0, 0, 1] = index // 256
    images[:, 0, 0, 2] = index % 256
    return images


def image_identity(images):
    """(tag, index) arrays of images built by identified_images."""
    pixels = images[:, 0, 0].astype(np.int64)
    return pixels[:, 0], pixels[:, 1] * 256 + pixels[:, 2]


def fake_mnist(n_train, n_test, seed=0):
    """{'train': (images, labels), 'test': ...} shaped like load_mnist's, each image unique."""
    rng = np.random.default_rng(seed)
    return {
        name: (identified_images(count, tag)[:, 0], rng.integers(0, 10, count).astype(np.int64))
        for name, count, tag in (("train", n_train, 1), ("test", n_test, 2))
    }


def learnable_split(count, seed, height=IMAGE_SIDE, width=IMAGE_SIDE, n_classes=10):
    """A uint8 Split whose label is drawn as a bright horizontal bar at a label-dependent row over
    noise: learnable within an epoch, yet not trivially separable at initialisation."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, count).astype(np.int64)
    images = rng.integers(0, 100, (count, 1, height, width), dtype=np.uint8)
    rows = 2 + 2 * labels
    images[np.arange(count), 0, rows, :] = 255
    return Split(images, labels)


def standardised(split):
    """A TensorSplit standardised with its own pixel statistics."""
    images = torch.from_numpy(split.images).float()
    images = (images - images.mean()) / images.std()
    return TensorSplit(images, torch.from_numpy(split.labels))


def learnable_tensor_data(sizes=(512, 128, 128), seed=0):
    """{'train', 'valid', 'test'} TensorSplits of learnable_split, different samples in each."""
    return {
        name: standardised(learnable_split(count, seed + offset))
        for offset, (name, count) in enumerate(zip(("train", "valid", "test"), sizes))
    }


# --- a training job killed mid-run -----------------------------------------------------------------


class Killed(Exception):
    """Stands for SIGKILL: the job ends at once, between two log lines."""


def killed_at_epoch(epoch):
    """A log that kills the job when training reaches `epoch` (before that epoch is saved)."""

    def log(message):
        if message.startswith(f"epoch {epoch:3d}"):
            raise Killed

    return log


def run_settings(**changes):
    """The RunSettings of a test's run: a small cnn run on the CPU, with `changes`."""
    values = {
        "model": "cnn",
        "seed": 3,
        "lr": 0.05,
        "momentum": 0.9,
        "batch_size": 32,
        "epochs": 3,
        "chance_patience": 5,
        "device": "cpu",
    }
    return RunSettings(**{**values, **changes})


def train_into(data_file, out_dir, settings, log, events_dir=None, dataset="mnist"):
    """run_training with its outputs in out_dir, as the train_run rule calls it."""
    return run_training(
        dataset,
        data_file,
        settings,
        threads=1,
        history_path=out_dir / "history.csv",
        metrics_path=out_dir / "metrics.json",
        model_path=out_dir / "model.pt",
        events_dir=events_dir,
        log=log,
    )


# --- real MNIST ----------------------------------------------------------------------------------


def mnist_dir_from(environ):
    """The folder of real MNIST named by MNIST_DIR. Without it, tests skip on a developer's machine
    but fail in CI (CI=true), where a silently skipped data test would hide a broken setup."""
    folder = environ.get("MNIST_DIR", "")
    if folder:
        if not Path(folder).is_dir():
            pytest.fail(f"MNIST_DIR={folder} is not a folder")
        return Path(folder)
    if environ.get("CI") == "true":
        pytest.fail("MNIST_DIR is not set, and CI must run the real-MNIST tests")
    pytest.skip("MNIST_DIR is not set (a folder with the four MNIST IDX files)")


@functools.lru_cache(maxsize=1)
def load_real_mnist(folder):
    """Real MNIST as load_mnist returns it, read straight from the folder (.gz or not); cached
    because several test modules need it and decompressing takes a second."""

    def split(images_name, labels_name):
        return read_images_and_labels(find_source_file(folder, images_name), find_source_file(folder, labels_name))

    return {
        "train": split("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "test": split("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }


# --- the real workflow in a temporary folder -------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]
QUICK_CONFIG = "config/quick.yaml"
QUICK_STUDY_LOG = "snakemake.log"  # beside the quick_study fixture's folder: what its snakemake said


def project_pins(extras=()):
    """{name: version} of the package's pinned dependencies (pyproject.toml), and of the given extras."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + [line for extra in extras for line in project["optional-dependencies"][extra]]
    return dict(line.split("==") for line in lines)


def copy_workflow(workdir):
    """The workflow's code and configs (not its data or results) in `workdir`."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    for folder in ("workflow", "config", "slurm"):
        shutil.copytree(REPO / folder, workdir / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return workdir


def copy_study(study, workdir):
    """A copy of a workflow folder, results and Snakemake's records included, that Snakemake sees as
    the original: modification times are kept (copy2), and .snakemake/metadata holds the params and
    code that the rerun triggers compare with."""
    shutil.copytree(study, workdir, symlinks=True)
    return Path(workdir)


def snakemake_environment(mnist_dir, library=None):
    """The environment a user's shell gives snakemake: MNIST_DIR set, and this environment's bin
    folder first on PATH, as an activated venv's (Slurm jobs start `python -m snakemake` from it).
    library: the folder of an old version's own digitstudy (before 5.0.0 it lay beside the rule
    scripts), found before the installed package by snakemake and its jobs alike."""
    return {
        **os.environ,
        "MNIST_DIR": str(mnist_dir),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        **({"PYTHONPATH": str(library)} if library else {}),
    }


def snakemake_command(*arguments, configfile=QUICK_CONFIG, cores=2, replace=False):
    """`snakemake <arguments>` with this environment's Python. The targets and options come first:
    --configfile takes every word after it as a file. cores=None leaves --cores to the arguments or
    the profile; configfile=None selects the full study (config/config.yaml alone), as a user's
    command without --configfile does; the config file (or files, a tuple) is merged over
    config/config.yaml, as config/README.md says, or replaces it (replace=True)."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        *arguments,
        *(["--cores", str(cores)] if cores else []),
        *(["--configfile", *([configfile] if isinstance(configfile, str) else configfile)] if configfile else []),
        *(["--replace-workflow-config"] if replace else []),
    ]


def as_in_a_terminal():
    """preexec_fn of a command that Ctrl-C must reach: pytest-xdist's test processes ignore SIGINT, and
    a child inherits that (a command typed in a terminal does not)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def snakemake(workdir, *arguments, mnist_dir, configfile=QUICK_CONFIG, cores=2, replace=False, library=None):
    """Run snakemake_command(...) in `workdir`; return its completed process."""
    command = snakemake_command(*arguments, configfile=configfile, cores=cores, replace=replace)
    environment = snakemake_environment(mnist_dir, library)
    return subprocess.run(command, cwd=workdir, env=environment, capture_output=True, text=True)


def workflow_error(finished):
    """The message of the WorkflowError that stopped a snakemake command before any job: the lines
    between Snakemake's 'WorkflowError in file ..., line N:' and the frames it lists ('  File ...');
    [] when none stopped it."""
    lines = (finished.stdout + finished.stderr).splitlines()
    start = next((index for index, line in enumerate(lines) if line.startswith("WorkflowError in ")), None)
    if start is None:
        return []
    message = []
    for line in lines[start + 1 :]:
        if line.startswith("  File "):
            break
        message.append(line)
    return message


def workflow_config(*configfiles):
    """A study's config as the workflow resolves it (digitstudy.config.load_config): the config files
    merged over config/config.yaml, the schema's defaults and default datasets filled in."""
    return load_config(configfiles, folder=REPO)


def quick_config():
    """The quick study's config as the workflow sees it (config/quick.yaml over config/config.yaml)."""
    return workflow_config(QUICK_CONFIG)


def write_config(workdir, change, name="config/changed.yaml"):
    """The quick study's whole config after change(config), written to `name` in workdir; returns
    `name`. Merged over config/config.yaml it is that config again (a change that removes an entry
    of a mapping must set it to null, as a user's file would)."""
    config = quick_config()
    change(config)
    (Path(workdir) / name).write_text(yaml.safe_dump(config, sort_keys=False))
    return name


def predictions(labels, predicted, digits=None):
    """A chosen run's predictions.csv for these true and predicted labels (and a pair's digits)."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    frame = pd.DataFrame(
        {
            "index": np.arange(len(labels)),
            "label": labels,
            "prediction": predicted,
            "correct": (labels == predicted).astype(int),
            "p_label": np.linspace(0.1, 0.9, len(labels)),
            "p_prediction": 0.9,
        }
    )
    if digits is not None:
        frame["digit_left"], frame["digit_right"] = np.asarray(digits).T
    return frame


def markdown_table(text):
    """The first Markdown table in `text` as rows {header: cell}, the cells as written (stripped)."""
    lines = text[text.index("\n|") + 1 :].splitlines() if not text.startswith("|") else text.splitlines()
    table = lines[: next((i for i, line in enumerate(lines) if not line.startswith("|")), len(lines))]
    header, _, *rows = ([cell.strip() for cell in line.strip().strip("|").split("|")] for line in table)
    return [dict(zip(header, row, strict=True)) for row in rows]


class _TableParser(HTMLParser):
    """The cells of an HTML page's tables, a list per <tr>."""

    def __init__(self):
        super().__init__()
        self.rows, self.cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def html_table(text):
    """The HTML page's table (tables.table_html) as rows {header: cell}, the cells as a reader sees them."""
    parser = _TableParser()
    parser.feed(text)
    header, *rows = parser.rows
    return [dict(zip(header, row, strict=True)) for row in rows]
