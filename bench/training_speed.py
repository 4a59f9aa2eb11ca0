"""Training throughput of the workflow's own path against the usual PyTorch tutorial loop.

What it measures: samples per second over one epoch of SGD (lr 0.01, momentum 0.9), on the CPU,
for three variants of the same model on the same arrays, in the same process:

  tutorial   the pytorch/examples mnist style: a torch.utils.data Dataset whose __getitem__ returns
             one standardised (1, H, W) float tensor, a DataLoader (shuffle=True with a seeded
             generator, num_workers=0), model.train(), and loss.item() after every batch.
  ours       digitstudy.training.train_one_epoch on a TensorSplit (the split held as one tensor,
             batches cut by index), with the model from make_model (channels_last for conv models).
  ours_nocl  the same loop with the model from build_model, left in the default memory format, so
             that the gain from tensor batching and the gain from channels_last show separately.

Cases: ann, cnn and cnn_dropout on MNIST (1x28x28, 10 classes, batch 32); cnn_dropout on two-digit
images (1x28x56, sums 0..18, 19 classes, batch 32); lenet5 on two-digit images (batch 128).
Each case warms every variant up with a short pass, then times `--repeats` epochs of `--samples`
samples per variant, the variants interleaved within each repeat so that noise from other jobs
on the machine falls on all of them alike. It prints the median samples/s of each variant, the
ratios of the medians to the tutorial's, and the median ratio across cases. Ratios are the point;
absolute numbers depend on the machine and its load. Nothing is asserted.

Data: real MNIST training images when the environment variable MNIST_DIR names a folder with the
four IDX .gz files; otherwise random uint8 images (throughput only, the output says so).

Run from the repository root with the project's virtualenv:

    MNIST_DIR=<folder with the MNIST .gz files> python bench/training_speed.py \
        [--models ann cnn ...] [--samples 10000] [--repeats 5] [--threads 1]
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Subset

from arguments import positive_int  # bench/arguments.py, beside this script
from digitstudy.datasets import Split, draw_pairs, pixel_stats
from digitstudy.errors import DigitstudyError
from digitstudy.idx import read_images_and_labels
from digitstudy.models import build_model
from digitstudy.training import (
    RunSettings,
    TensorSplit,
    make_model,
    to_tensor_split,
    train_one_epoch,
)


SEED = 0
LR = 0.01
MOMENTUM = 0.9
WARMUP_BATCHES = 10
MNIST_TRAIN_SIZE = 60000
VARIANTS = ("tutorial", "ours", "ours_nocl")


@dataclass(frozen=True)
class Case:
    model: str
    dataset: str  # "mnist" or "two_digit"
    batch_size: int


CASES = (
    Case("ann", "mnist", 32),
    Case("cnn", "mnist", 32),
    Case("cnn_dropout", "mnist", 32),
    Case("cnn_dropout", "two_digit", 32),
    Case("lenet5", "two_digit", 128),
)
N_CLASSES = {"mnist": 10, "two_digit": 19}


# --- data ----------------------------------------------------------------------------------------


def load_digits(samples, rng):
    """`samples` single-digit images (N x 28 x 28 uint8) with labels, and a line saying whence."""
    folder = os.environ.get("MNIST_DIR", "")
    if not folder:
        # Random pixels cost the same to train on as digits; only the throughput is of interest.
        images = rng.integers(0, 256, size=(samples, 28, 28), dtype=np.uint8)
        return images, rng.integers(0, 10, size=samples), "synthetic random uint8 images (MNIST_DIR not set)"
    if not Path(folder).is_dir():
        raise DigitstudyError(f"MNIST_DIR={folder} is not a folder")
    images, labels = read_images_and_labels(
        Path(folder) / "train-images-idx3-ubyte.gz", Path(folder) / "train-labels-idx1-ubyte.gz"
    )
    chosen = np.sort(rng.choice(len(labels), size=samples, replace=False))
    return images[chosen], labels[chosen], f"real MNIST training images (MNIST_DIR={folder})"


def build_datasets(samples):
    """{dataset name: Split} for both image shapes, and the line describing the data source."""
    rng = np.random.default_rng(SEED)
    images, labels, source = load_digits(samples, rng)
    digits = Split(images[:, None], labels)
    return {"mnist": digits, "two_digit": draw_pairs(digits, samples, rng)}, source


class ArrayDataset(Dataset):
    """The tutorial's view of the same arrays: one standardised (1, H, W) float tensor per sample."""

    def __init__(self, split, mean, std):
        self.images, self.labels, self.mean, self.std = split.images, split.labels, mean, std

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        image = torch.from_numpy(self.images[index]).float().div_(255.0)
        return image.sub_(self.mean).div_(self.std), int(self.labels[index])


# --- the three variants --------------------------------------------------------------------------


def plain_model(case, image_shape):
    torch.manual_seed(SEED)  # every variant starts from the same weights
    return build_model(case.model, image_shape, N_CLASSES[case.dataset])


def workflow_model(case, image_shape):
    settings = RunSettings(
        model=case.model,
        seed=SEED,
        lr=LR,
        momentum=MOMENTUM,
        batch_size=case.batch_size,
        epochs=1,
        chance_patience=5,
        device="cpu",
    )
    return make_model(settings, image_shape, N_CLASSES[case.dataset])


def sgd(model):
    return torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)


def ours_runner(model, case, split):
    """A function training one epoch over the first `count` samples along the workflow's path."""
    mean, std = pixel_stats(split.images)
    data = to_tensor_split(split, mean, std, "cpu")
    optimizer, generator = sgd(model), torch.Generator().manual_seed(SEED)

    def run(count):
        head = TensorSplit(data.images[:count], data.labels[:count])  # views: no copy in the timing
        train_one_epoch(model, optimizer, head, case.batch_size, generator)

    return run


def tutorial_epoch(model, optimizer, loader):
    """The pytorch/examples training loop, reading the loss back after every batch as it does."""
    model.train()
    running_loss = 0.0
    for images, labels in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    return running_loss


def tutorial_runner(model, case, split):
    """A function training one epoch over `count` samples the tutorial way."""
    mean, std = pixel_stats(split.images)
    dataset = ArrayDataset(split, mean, std)
    optimizer, generator = sgd(model), torch.Generator().manual_seed(SEED)

    def run(count):
        # Building a DataLoader costs microseconds; tutorials create a fresh iterator each epoch anyway.
        subset = dataset if count >= len(dataset) else Subset(dataset, range(count))
        loader = DataLoader(subset, batch_size=case.batch_size, shuffle=True, generator=generator, num_workers=0)
        tutorial_epoch(model, optimizer, loader)

    return run


def make_runners(case, split):
    image_shape = split.images.shape[1:]
    return {
        "tutorial": tutorial_runner(plain_model(case, image_shape), case, split),
        "ours": ours_runner(workflow_model(case, image_shape), case, split),
        "ours_nocl": ours_runner(plain_model(case, image_shape), case, split),
    }


# --- timing --------------------------------------------------------------------------------------


def seconds_of(run, count):
    started = time.perf_counter()
    run(count)
    return time.perf_counter() - started


def benchmark_case(case, split, repeats):
    """{variant: median samples/s} for one case, the variants interleaved within each repeat."""
    runners = make_runners(case, split)
    samples = len(split.labels)
    for run in runners.values():
        run(min(samples, WARMUP_BATCHES * case.batch_size))  # allocator, kernels, lazy imports
    rates = {name: [] for name in VARIANTS}
    for repeat in range(repeats):
        # Rotating the order keeps any "runs first / runs after X" effect off a single variant.
        shift = repeat % len(VARIANTS)
        for name in VARIANTS[shift:] + VARIANTS[:shift]:
            rates[name].append(samples / seconds_of(runners[name], samples))
    return {name: statistics.median(values) for name, values in rates.items()}


# --- report --------------------------------------------------------------------------------------


def case_label(case, split):
    shape = "x".join(str(size) for size in split.images.shape[1:])
    return f"{case.model} {case.dataset} {shape} b{case.batch_size}"


def format_table(rows):
    """Rows of (label, {variant: samples/s}) as a plain aligned table with the two ratios."""
    width = max(len("case"), *(len(label) for label, _ in rows))
    header = (
        f"{'case':<{width}}  {'tutorial/s':>10}  {'ours/s':>10}  {'ours_nocl/s':>11}  {'ours/tut':>8}  {'nocl/tut':>8}"
    )
    lines = [header, "-" * len(header)]
    for label, rate in rows:
        lines.append(
            f"{label:<{width}}  {rate['tutorial']:>10.0f}  {rate['ours']:>10.0f}"
            f"  {rate['ours_nocl']:>11.0f}  {rate['ours'] / rate['tutorial']:>8.2f}"
            f"  {rate['ours_nocl'] / rate['tutorial']:>8.2f}"
        )
    return "\n".join(lines)


def summary_line(rows):
    ours = statistics.median(rate["ours"] / rate["tutorial"] for _, rate in rows)
    nocl = statistics.median(rate["ours_nocl"] / rate["tutorial"] for _, rate in rows)
    return (
        f"median ratio across {len(rows)} cases: ours/tutorial {ours:.2f}x, "
        f"ours without channels_last/tutorial {nocl:.2f}x"
    )


# --- entry point ---------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        nargs="+",
        choices=sorted({case.model for case in CASES}),
        help="keep only the cases of these models (default: all five cases)",
    )
    parser.add_argument("--samples", type=positive_int, default=10000, help="samples per timed epoch")
    parser.add_argument("--repeats", type=positive_int, default=5, help="timed epochs per variant")
    parser.add_argument("--threads", type=positive_int, default=1, help="torch.set_num_threads")
    args = parser.parse_args(argv)
    if args.samples > MNIST_TRAIN_SIZE:
        parser.error(f"--samples must be at most {MNIST_TRAIN_SIZE} (the MNIST training images)")
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    datasets, source = build_datasets(args.samples)
    cases = [case for case in CASES if not args.models or case.model in args.models]
    print(f"data: {source}")
    print(
        f"torch {torch.__version__}, {args.threads} thread(s), {args.samples} samples per epoch, "
        f"{args.repeats} repeats, SGD lr {LR} momentum {MOMENTUM}; medians in samples/s"
    )
    rows = [
        (case_label(case, datasets[case.dataset]), benchmark_case(case, datasets[case.dataset], args.repeats))
        for case in cases
    ]
    print(format_table(rows))
    print(summary_line(rows))


if __name__ == "__main__":
    try:
        main()
    except DigitstudyError as error:
        sys.exit(f"error: {error}")
