"""Build the study's datasets from MNIST and store them as HDF5 splits (train / valid / test)."""

import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from . import DigitstudyError
from .files import atomic_path, sha256_file
from .idx import read_images_and_labels
from .mnist import MNIST_FILES


SPLITS = ("train", "valid", "test")
CHUNK_SAMPLES = 1024


@dataclass
class Split:
    images: np.ndarray  # N x 1 x H x W uint8
    labels: np.ndarray  # N int64
    digits: np.ndarray | None = None  # N x 2 int64, the two digits of a two-digit image


def load_mnist(raw_dir):
    """{'train': (images, labels), 'test': (images, labels)} from the four verified IDX files."""
    raw_dir = Path(raw_dir)
    return {
        "train": read_images_and_labels(raw_dir / "train-images-idx3-ubyte", raw_dir / "train-labels-idx1-ubyte"),
        "test": read_images_and_labels(raw_dir / "t10k-images-idx3-ubyte", raw_dir / "t10k-labels-idx1-ubyte"),
    }


def source_checksums(raw_dir):
    """SHA-256 of each IDX file a dataset was made from, recorded in its HDF5 attributes."""
    return {name: sha256_file(Path(raw_dir) / name) for name in MNIST_FILES}


def digit_split_indices(n_mnist_train, n_mnist_test, sizes, seed):
    """Which MNIST images form each split: valid is carved from MNIST train by a seeded permutation,
    test comes only from MNIST test. Sizes below the full counts take seeded subsets."""
    if sizes["train"] + sizes["valid"] > n_mnist_train or sizes["test"] > n_mnist_test:
        raise DigitstudyError(f"data sizes {sizes} exceed MNIST ({n_mnist_train} train, {n_mnist_test} test images)")
    rng = np.random.default_rng(seed)
    permutation = rng.permutation(n_mnist_train)
    test_order = rng.permutation(n_mnist_test)
    return {
        "valid": np.sort(permutation[: sizes["valid"]]),
        "train": np.sort(permutation[sizes["valid"] : sizes["valid"] + sizes["train"]]),
        "test": np.sort(test_order[: sizes["test"]]),
    }


def mnist_digit_pools(mnist, sizes, seed):
    """The MNIST splits themselves: {split: Split} of 1 x 28 x 28 images."""
    indices = digit_split_indices(len(mnist["train"][0]), len(mnist["test"][0]), sizes, seed)
    source = {"train": mnist["train"], "valid": mnist["train"], "test": mnist["test"]}
    return {
        split: Split(source[split][0][indices[split]][:, None], source[split][1][indices[split]]) for split in SPLITS
    }


def make_pairs(pool, count, rng):
    """`count` images of two digits from `pool` side by side (28 x 56), labelled with their sum."""
    left = rng.integers(0, len(pool.labels), count)
    right = rng.integers(0, len(pool.labels), count)
    images = np.concatenate([pool.images[left], pool.images[right]], axis=-1)
    digits = np.stack([pool.labels[left], pool.labels[right]], axis=1)
    return Split(images, digits.sum(axis=1), digits)


def two_digit_splits(pools, sizes, seed):
    """Pairs drawn within each MNIST split, so no digit image is shared between train, valid and test.
    Each split has a generator of its own: a change of n_train leaves the valid and test pairs alone."""
    return {
        split: make_pairs(pools[split], sizes[split], np.random.default_rng([seed, index]))
        for index, split in enumerate(SPLITS)
    }


def pixel_stats(images):
    """Mean and standard deviation of the pixels on [0, 1], used to standardise inputs."""
    scaled = images.astype(np.float64) / 255.0
    return float(scaled.mean()), float(scaled.std())


def write_splits(path, splits, n_classes, attributes):
    """One HDF5 file with a group per split; written beside `path`, then renamed into place."""
    mean, std = pixel_stats(splits["train"].images)
    with atomic_path(path) as temporary, h5py.File(temporary, "w", track_order=True) as handle:
        handle.attrs.update(
            {
                "n_classes": n_classes,
                "pixel_mean": mean,
                "pixel_std": std,
                "image_shape": splits["train"].images.shape[1:],
            }
        )
        handle.attrs.update(
            {key: json.dumps(value) if isinstance(value, dict) else value for key, value in attributes.items()}
        )
        for name in SPLITS:
            write_group(handle.create_group(name), splits[name])


def write_group(group, split):
    chunk = (min(CHUNK_SAMPLES, len(split.labels)),)
    options = {"compression": "gzip", "compression_opts": 4, "track_times": False}
    group.create_dataset("images", data=split.images, chunks=chunk + split.images.shape[1:], **options)
    group.create_dataset("labels", data=split.labels, chunks=chunk, **options)
    if split.digits is not None:
        group.create_dataset("digits", data=split.digits, chunks=chunk + (2,), **options)


def open_h5(path):
    try:
        return h5py.File(path, "r")
    except FileNotFoundError:
        raise DigitstudyError(f"{path}: file not found") from None
    except OSError as error:
        raise DigitstudyError(f"{path}: not a readable HDF5 file ({error})") from None


H5_ERRORS = (KeyError, OSError, RuntimeError, ValueError)  # what h5py raises on damaged content


def read_group(handle, path, name):
    """One split of an open HDF5 file; a missing or damaged group is a DigitstudyError."""
    try:
        if name not in handle:
            raise DigitstudyError(f"{path}: HDF5 group '{name}' is missing")
        group = handle[name]
        digits = group["digits"][()] if "digits" in group else None
        return Split(group["images"][()], group["labels"][()], digits)
    except H5_ERRORS as error:
        raise DigitstudyError(f"{path}: group '{name}' is damaged ({error})") from None


def read_attributes(handle, path):
    try:
        attributes = dict(handle.attrs)
    except H5_ERRORS as error:
        raise DigitstudyError(f"{path}: HDF5 attributes are damaged ({error})") from None
    for key in ("n_classes", "pixel_mean", "pixel_std"):
        if key not in attributes:
            raise DigitstudyError(f"{path}: attribute '{key}' is missing")
    return attributes


def read_splits(path, names=SPLITS):
    """({split: Split}, attributes) from a file written by write_splits, with clear errors."""
    with open_h5(path) as handle:
        attributes = read_attributes(handle, path)
        return {name: read_group(handle, path, name) for name in names}, attributes
