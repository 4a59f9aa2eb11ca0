"""Dataset construction: split indices, base splits, pairs, the builders of declared datasets, and the HDF5
round trip."""

import json
import os
import re
import shutil

import h5py
import numpy as np
import pytest

from digitstudy.datasets import (
    SPLITS,
    Split,
    base_splits,
    build_base,
    build_pairs,
    pair_splits,
    pixel_stats,
    read_splits,
    split_indices,
    write_splits,
)
from digitstudy.errors import DigitstudyError
from helpers import fake_mnist, identified_images, image_identity, write_idx_dataset


SMALL_SIZES = {"train": 300, "valid": 100, "test": 80}
FULL_SIZES = {"train": 50_000, "valid": 10_000, "test": 10_000}
SPLIT_TAGS = {"train": 1, "valid": 2, "test": 3}


def identified_pools(sizes, seed=0):
    """Digit pools whose every image is unique and tells its split and index (see identified_images)."""
    rng = np.random.default_rng(seed)
    return {
        split: Split(
            identified_images(sizes[split], SPLIT_TAGS[split]), rng.integers(0, 10, sizes[split]).astype(np.int64)
        )
        for split in SPLITS
    }


# --- split_indices -----------------------------------------------------------------------


def test_split_indices_have_requested_sizes_and_ranges():
    indices = split_indices(1000, 200, SMALL_SIZES, seed=0)
    assert {split: len(index) for split, index in indices.items()} == SMALL_SIZES
    for split, limit in (("train", 1000), ("valid", 1000), ("test", 200)):
        assert indices[split].min() >= 0 and indices[split].max() < limit
        assert len(np.unique(indices[split])) == len(indices[split])  # no image twice in a split


def test_valid_is_carved_out_of_train_without_overlap():
    indices = split_indices(400, 80, {"train": 300, "valid": 100, "test": 80}, seed=3)
    assert not np.intersect1d(indices["train"], indices["valid"]).size
    # Full sizes use every MNIST train image exactly once.
    np.testing.assert_array_equal(np.union1d(indices["train"], indices["valid"]), np.arange(400))


def test_split_indices_depend_only_on_seed():
    first, again = (split_indices(1000, 200, SMALL_SIZES, seed=7) for _ in range(2))
    other = split_indices(1000, 200, SMALL_SIZES, seed=8)
    for split in SPLITS:
        np.testing.assert_array_equal(first[split], again[split])
        assert not np.array_equal(first[split], other[split])


def test_split_sizes_beyond_mnist_are_refused():
    with pytest.raises(DigitstudyError, match="exceed MNIST"):
        split_indices(1000, 200, {"train": 900, "valid": 101, "test": 10}, seed=0)
    with pytest.raises(DigitstudyError, match="exceed MNIST"):
        split_indices(1000, 200, {"train": 10, "valid": 10, "test": 201}, seed=0)


# --- base_splits ----------------------------------------------------------------------------


def test_digit_pools_shapes_and_sources():
    mnist = fake_mnist(n_train=400, n_test=100)
    pools = base_splits(mnist, {"train": 250, "valid": 100, "test": 60}, seed=0)
    for split, count in (("train", 250), ("valid", 100), ("test", 60)):
        assert pools[split].images.shape == (count, 1, 28, 28)
        assert pools[split].images.dtype == np.uint8 and pools[split].labels.dtype == np.int64
        assert pools[split].digits is None
    # Each image keeps its own label, and valid/test come from the MNIST split they should.
    for split, source in (("train", "train"), ("valid", "train"), ("test", "test")):
        tags, index = image_identity(pools[split].images)
        assert set(tags) == {1 if source == "train" else 2}
        np.testing.assert_array_equal(pools[split].labels, mnist[source][1][index])
    assert not set(image_identity(pools["train"].images)[1]) & set(image_identity(pools["valid"].images)[1])


def test_real_mnist_pools_have_full_sizes_and_known_statistics(real_mnist):
    pools = base_splits(real_mnist, FULL_SIZES, seed=0)
    for split, count in FULL_SIZES.items():
        assert pools[split].images.shape == (count, 1, 28, 28) and pools[split].images.dtype == np.uint8
        assert pools[split].labels.shape == (count,) and pools[split].labels.dtype == np.int64
    # Published statistics of the 60k MNIST train images; a random 50k subset lies within ~0.002.
    mean, std = pixel_stats(pools["train"].images)
    assert mean == pytest.approx(0.1307, abs=0.002)
    assert std == pytest.approx(0.3081, abs=0.002)
    # All ten digits in every split, in roughly MNIST's proportions (no class lost by the carving).
    for split in SPLITS:
        counts = np.bincount(pools[split].labels, minlength=10)
        assert counts.min() > 0.08 * FULL_SIZES[split] and counts.max() < 0.13 * FULL_SIZES[split]


def test_real_mnist_full_train_statistics(real_mnist):
    mean, std = pixel_stats(real_mnist["train"][0])
    assert (round(mean, 4), round(std, 4)) == (0.1307, 0.3081)


# --- pair_splits -----------------------------------------------------------------------------


def halves(images):
    return images[..., :28], images[..., 28:]


def test_two_digit_pairs_shapes_and_labels():
    pools = identified_pools(SMALL_SIZES)
    sizes = {"train": 500, "valid": 120, "test": 90}
    splits = pair_splits(pools, sizes, seed=0)
    for split in SPLITS:
        pairs = splits[split]
        assert pairs.images.shape == (sizes[split], 1, 28, 56) and pairs.images.dtype == np.uint8
        assert pairs.digits.shape == (sizes[split], 2)
        np.testing.assert_array_equal(pairs.labels, pairs.digits.sum(axis=1))
        assert pairs.labels.min() >= 0 and pairs.labels.max() <= 18
        # Each half is an image of the pool, and its digit is that image's label.
        for side, half in enumerate(halves(pairs.images)):
            tags, index = image_identity(half)
            assert set(tags) == {SPLIT_TAGS[split]}  # never an image of another split
            np.testing.assert_array_equal(half, pools[split].images[index])
            np.testing.assert_array_equal(pairs.digits[:, side], pools[split].labels[index])


def test_two_digit_pairs_depend_only_on_seed():
    pools = identified_pools(SMALL_SIZES)
    first, again = (pair_splits(pools, SMALL_SIZES, seed=12345) for _ in range(2))
    other = pair_splits(pools, SMALL_SIZES, seed=1)
    for split in SPLITS:
        for field in ("images", "labels", "digits"):
            np.testing.assert_array_equal(getattr(first[split], field), getattr(again[split], field))
        assert not np.array_equal(first[split].images, other[split].images)


def test_more_training_pairs_leave_valid_and_test_pairs_unchanged():
    pools = identified_pools(SMALL_SIZES)
    fewer = pair_splits(pools, SMALL_SIZES, seed=7)
    more = pair_splits(pools, {**SMALL_SIZES, "train": SMALL_SIZES["train"] * 2}, seed=7)
    for split in ("valid", "test"):
        np.testing.assert_array_equal(fewer[split].images, more[split].images)
    assert len(more["train"].labels) == 2 * len(fewer["train"].labels)


def test_real_pair_splits(real_mnist):
    pools = base_splits(real_mnist, {"train": 2000, "valid": 500, "test": 500}, seed=0)
    splits = pair_splits(pools, {"train": 3000, "valid": 600, "test": 600}, seed=12345)
    train = splits["train"]
    assert train.images.shape == (3000, 1, 28, 56)
    np.testing.assert_array_equal(train.labels, train.digits.sum(axis=1))
    # Sums of two uniform-ish digits: every one of 0..18 occurs, 9 the most often.
    counts = np.bincount(train.labels, minlength=19)
    assert len(counts) == 19 and counts.min() > 0 and abs(int(counts.argmax()) - 9) <= 1


# --- HDF5 round trip ------------------------------------------------------------------------------


def write_two_digit_file(path, sizes=SMALL_SIZES):
    splits = pair_splits(identified_pools(SMALL_SIZES), sizes, seed=0)
    attributes = {"dataset": "twodigit", "source_sha256": {"train-images-idx3-ubyte": "ab" * 32}}
    write_splits(path, splits, n_classes=19, attributes=attributes)
    return splits


def test_splits_round_trip_through_hdf5(tmp_path):
    path = tmp_path / "data" / "twodigit.h5"
    written = write_two_digit_file(path)
    read, attributes = read_splits(path)
    assert list(read) == list(SPLITS)
    for split in SPLITS:
        for field in ("images", "labels", "digits"):
            np.testing.assert_array_equal(getattr(read[split], field), getattr(written[split], field))
        assert read[split].images.dtype == np.uint8 and read[split].labels.dtype == np.int64
    assert attributes["n_classes"] == 19
    mean, std = pixel_stats(written["train"].images)  # of train only: valid/test must not leak in
    assert (attributes["pixel_mean"], attributes["pixel_std"]) == (mean, std)
    assert tuple(attributes["image_shape"]) == (1, 28, 56)
    assert attributes["dataset"] == "twodigit"
    # HDF5 attributes cannot hold a dict, so it is stored as JSON text.
    assert json.loads(attributes["source_sha256"]) == {"train-images-idx3-ubyte": "ab" * 32}
    # Only the file itself: its temporary sibling was renamed, not left behind.
    assert os.listdir(path.parent) == ["twodigit.h5"]


def test_hdf5_datasets_are_chunked_and_compressed(tmp_path):
    path = tmp_path / "twodigit.h5"
    write_two_digit_file(path)
    with h5py.File(path, "r") as handle:
        for split in SPLITS:
            for name in ("images", "labels", "digits"):
                dataset = handle[split][name]
                assert dataset.chunks is not None and dataset.compression == "gzip", (split, name)
            assert handle[split]["images"].chunks[1:] == (1, 28, 56)  # whole images per chunk


def test_digit_pools_without_pairs_round_trip(tmp_path):
    path = tmp_path / "mnist.h5"
    pools = identified_pools(SMALL_SIZES)
    write_splits(path, pools, n_classes=10, attributes={"dataset": "mnist"})
    read, attributes = read_splits(path, names=("test",))
    assert list(read) == ["test"] and read["test"].digits is None
    np.testing.assert_array_equal(read["test"].images, pools["test"].images)
    assert attributes["n_classes"] == 10


def test_corrupt_hdf5_is_refused(tmp_path):
    path = tmp_path / "random.h5"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(DigitstudyError, match=re.escape(str(path)) + ": not a readable HDF5 file"):
        read_splits(path)


def test_missing_hdf5_is_refused(tmp_path):
    with pytest.raises(DigitstudyError, match=re.escape(str(tmp_path / "absent.h5")) + ": file not found"):
        read_splits(tmp_path / "absent.h5")


def test_missing_group_is_refused(tmp_path):
    path = tmp_path / "twodigit.h5"
    write_two_digit_file(path)
    with h5py.File(path, "a") as handle:
        del handle["valid"]
    with pytest.raises(DigitstudyError, match=re.escape(str(path)) + ": HDF5 group 'valid' is missing"):
        read_splits(path)


def test_damaged_group_is_refused(tmp_path):
    path = tmp_path / "twodigit.h5"
    write_two_digit_file(path)
    with h5py.File(path, "a") as handle:
        del handle["test"]["labels"]
    with pytest.raises(DigitstudyError, match=re.escape(str(path)) + ": group 'test' is damaged"):
        read_splits(path)


def overwrite(path, offset, content):
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(content)


def test_damaged_group_header_is_refused(tmp_path):
    # A file that opens but whose 'valid' group is damaged on disk (a bad sector, a partial copy).
    path = tmp_path / "twodigit.h5"
    write_two_digit_file(path)
    with h5py.File(path, "r") as handle:
        header = h5py.h5o.get_info(handle["valid"].id).addr
    overwrite(path, header, b"\xff" * 16)
    with pytest.raises(DigitstudyError, match=re.escape(str(path))):
        read_splits(path)


def test_damaged_attributes_are_refused(tmp_path):
    # One changed byte in the root header (here in an attribute's name) breaks its checksum.
    path = tmp_path / "twodigit.h5"
    write_two_digit_file(path)
    offset = path.read_bytes().index(b"pixel_std")
    overwrite(path, offset, b"P")
    with pytest.raises(DigitstudyError, match=re.escape(str(path))):
        read_splits(path)


def test_missing_attribute_is_refused(tmp_path):
    path = tmp_path / "twodigit.h5"
    write_two_digit_file(path)
    with h5py.File(path, "a") as handle:
        del handle.attrs["pixel_std"]
    with pytest.raises(DigitstudyError, match=re.escape(str(path)) + ": attribute 'pixel_std' is missing"):
        read_splits(path)


# --- the builders of declared datasets ---------------------------------------------------------------

TINY_SIZES = {"train": 150, "valid": 50, "test": 40}


def read_whole(path):
    """Every array and attribute of an HDF5 file written by write_splits, to compare two files."""
    with h5py.File(path, "r") as handle:
        arrays = {f"{split}/{name}": handle[split][name][()] for split in SPLITS for name in handle[split]}
        return arrays, {key: np.asarray(value).tolist() for key, value in handle.attrs.items()}


def test_a_base_dataset_takes_its_image_size_and_classes_from_its_files(tmp_path):
    write_idx_dataset(tmp_path / "raw", counts=(200, 40), n_classes=4, height=12, width=10, suffix="")
    splits = build_base(tmp_path / "raw", tmp_path / "tiny.h5", "tiny", TINY_SIZES, split_seed=3)
    read, attributes = read_splits(tmp_path / "tiny.h5")
    assert attributes["n_classes"] == 4 and tuple(attributes["image_shape"]) == (1, 12, 10)
    assert attributes["dataset"] == "tiny" and attributes["split_seed"] == 3
    assert {name: len(split.labels) for name, split in read.items()} == TINY_SIZES
    np.testing.assert_array_equal(read["valid"].images, splits["valid"].images)


def test_pairs_of_a_base_dataset_have_2k_minus_1_classes(tmp_path):
    write_idx_dataset(tmp_path / "raw", counts=(200, 40), n_classes=4, height=12, width=10, suffix="")
    build_pairs(tmp_path / "raw", tmp_path / "pairs.h5", "tinypairs", "tiny", TINY_SIZES, split_seed=0, pair_seed=5)
    read, attributes = read_splits(tmp_path / "pairs.h5")
    assert attributes["n_classes"] == 7 and tuple(attributes["image_shape"]) == (1, 12, 20)
    assert attributes["pair_seed"] == 5
    assert (read["train"].digits.sum(axis=1) == read["train"].labels).all() and read["train"].labels.max() <= 6


def test_too_many_samples_name_the_dataset(tmp_path):
    write_idx_dataset(tmp_path / "raw", counts=(200, 40), suffix="")
    with pytest.raises(DigitstudyError, match="exceed dataset 'tiny' \\(200 train, 40 test images\\)"):
        build_pairs(tmp_path / "raw", tmp_path / "p.h5", "tinypairs", "tiny", {**TINY_SIZES, "train": 151}, 0, 1)
    assert not (tmp_path / "p.h5").exists()


def test_test_labels_outside_the_train_classes_are_refused(tmp_path):
    raw = tmp_path / "raw"
    write_idx_dataset(raw, counts=(200, 40), n_classes=3, suffix="")
    write_idx_dataset(tmp_path / "other", counts=(200, 40), n_classes=5, suffix="")
    shutil.copy(tmp_path / "other" / "t10k-labels-idx1-ubyte", raw)
    with pytest.raises(DigitstudyError, match=re.escape(f"{raw / 't10k-labels-idx1-ubyte'}: label 4 outside 0..2")):
        build_base(raw, tmp_path / "tiny.h5", "tiny", TINY_SIZES, split_seed=0)
    assert not (tmp_path / "tiny.h5").exists()
