"""Build the study's datasets from a base dataset's IDX files (MNIST's format) and store them as HDF5
splits (train / valid / test): the base dataset itself, or `pairs` of its images."""

import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from .errors import DigitstudyError
from .files import atomic_path, sha256_file
from .idx import IDX_FILES, IDX_SPLITS, check_classes, read_images_and_labels


SPLITS = ("train", "valid", "test")
CHUNK_SAMPLES = 1024


@dataclass
class Split:
    images: np.ndarray  # N x 1 x H x W uint8
    labels: np.ndarray  # N int64
    digits: np.ndarray | None = None  # N x 2 int64, the classes of the two images of a pair


def load_idx(raw_dir):
    """{'train': (images, labels), 'test': (images, labels)} from the four verified IDX files."""
    raw_dir = Path(raw_dir)
    parts = (read_images_and_labels(raw_dir / images, raw_dir / labels) for images, labels in IDX_SPLITS)
    return dict(zip(("train", "test"), parts))


def class_count(data, raw_dir):
    """K: the classes are 0..K-1, K - 1 the largest train label; the test labels must be among them
    and the test images of the train images' shape."""
    n_classes = int(data["train"][1].max()) + 1 if data["train"][1].size else 0
    (images_name, labels_name), (test_images_name, test_labels_name) = IDX_SPLITS
    check_classes(data["test"][1], n_classes, Path(raw_dir) / test_labels_name)
    if data["test"][0].shape[1:] != data["train"][0].shape[1:]:
        raise DigitstudyError(
            f"{Path(raw_dir) / test_images_name}: images of {data['test'][0].shape[1:]} pixels, but "
            f"{images_name}'s are {data['train'][0].shape[1:]}"
        )
    return n_classes


def source_checksums(raw_dir):
    """SHA-256 of each IDX file a dataset was made from, recorded in its HDF5 attributes."""
    return {name: sha256_file(Path(raw_dir) / name) for name in IDX_FILES}


def seeded_orders(n_train, n_test, seed):
    """The two permutations a split seed draws: of the base's train images, then of its test images."""
    rng = np.random.default_rng(seed)
    return rng.permutation(n_train), rng.permutation(n_test)


def split_indices(n_train, n_test, sizes, seed, name="MNIST", test_seed=None):
    """Which images of base dataset `name` form each split: valid is carved from its train part by a
    seeded permutation, test comes only from its test part. Smaller sizes take seeded subsets. The
    test images are those `test_seed` draws (default `seed`): a replicate's split of another seed
    keeps the study's test images."""
    if sizes["train"] + sizes["valid"] > n_train or sizes["test"] > n_test:
        raise DigitstudyError(f"data sizes {sizes} exceed {name} ({n_train} train, {n_test} test images)")
    permutation, _ = seeded_orders(n_train, n_test, seed)
    _, test_order = seeded_orders(n_train, n_test, seed if test_seed is None else test_seed)
    return {
        "valid": np.sort(permutation[: sizes["valid"]]),
        "train": np.sort(permutation[sizes["valid"] : sizes["valid"] + sizes["train"]]),
        "test": np.sort(test_order[: sizes["test"]]),
    }


def base_splits(data, sizes, seed, name="MNIST", test_seed=None):
    """The base dataset's splits themselves: {split: Split} of 1 x H x W images."""
    indices = split_indices(len(data["train"][0]), len(data["test"][0]), sizes, seed, name, test_seed)
    source = {"train": data["train"], "valid": data["train"], "test": data["test"]}
    return {
        split: Split(source[split][0][indices[split]][:, None], source[split][1][indices[split]]) for split in SPLITS
    }


def draw_pairs(pool, count, rng):
    """`count` pairs of images from `pool` side by side (H x 2W), labelled with the sum of their classes."""
    left = rng.integers(0, len(pool.labels), count)
    right = rng.integers(0, len(pool.labels), count)
    images = np.concatenate([pool.images[left], pool.images[right]], axis=-1)
    digits = np.stack([pool.labels[left], pool.labels[right]], axis=1)
    return Split(images, digits.sum(axis=1), digits)


def pair_splits(pools, sizes, seed):
    """Pairs drawn within each split of the base, so no image is shared between train, valid and test.
    Each split has a generator of its own: a change of n_train leaves the valid and test pairs alone."""
    return {
        split: draw_pairs(pools[split], sizes[split], np.random.default_rng([seed, index]))
        for index, split in enumerate(SPLITS)
    }


def split_attributes(name, raw_dir, split_seed, test_seed):
    """What a dataset's HDF5 file records of its making; `test_seed` only where it is not the split seed."""
    attributes = {"dataset": name, "source_sha256": source_checksums(raw_dir), "split_seed": split_seed}
    return attributes if test_seed in (None, split_seed) else {**attributes, "test_seed": test_seed}


def build_base(raw_dir, out_path, name, sizes, split_seed, test_seed=None):
    """Dataset `name`, a base dataset: its own splits, written to out_path (test images: split_indices)."""
    data = load_idx(raw_dir)
    splits = base_splits(data, sizes, split_seed, f"dataset '{name}'", test_seed)
    write_splits(out_path, splits, class_count(data, raw_dir), split_attributes(name, raw_dir, split_seed, test_seed))
    return splits


def build_pairs(raw_dir, out_path, name, base, sizes, split_seed, pair_seed, test_seed=None):
    """Dataset `name`, pairs of base dataset `base`: two images of one split side by side, labelled with
    the sum of their classes (2K - 1 classes), written to out_path. The pairs of each split are drawn
    by `pair_seed` from that split's images: the same test pairs whatever the train/validation split."""
    data = load_idx(raw_dir)
    splits = pair_splits(base_splits(data, sizes, split_seed, f"dataset '{base}'", test_seed), sizes, pair_seed)
    attributes = {**split_attributes(name, raw_dir, split_seed, test_seed), "pair_seed": pair_seed}
    write_splits(out_path, splits, 2 * class_count(data, raw_dir) - 1, attributes)
    return splits


def splits_line(path, splits):
    """What a data job's log says it wrote."""
    return f"wrote {path}: " + ", ".join(f"{name} {len(split.labels)}" for name, split in splits.items())


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
