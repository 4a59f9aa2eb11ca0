"""IDX reader: valid files read back exactly; every kind of damage is one DigitstudyError naming the file."""

import gzip
import re

import numpy as np
import pytest

from digitstudy.errors import DigitstudyError
from digitstudy.idx import (
    IMAGES_DIMS,
    LABELS_DIMS,
    check_classes,
    image_pixels,
    parse_idx,
    read_bytes,
    read_images_and_labels,
)
from helpers import idx_bytes, random_images, write_file


LABELS = np.array([5, 0, 4, 1, 9], dtype=np.uint8)


def raises_naming(path, cause):
    """pytest.raises for a DigitstudyError whose message names the file and then the cause."""
    return pytest.raises(DigitstudyError, match=re.escape(str(path)) + ".*" + cause)


def write_pair(folder, images, labels, suffix=""):
    images_path = write_file(folder / f"images-idx3-ubyte{suffix}", idx_bytes(images))
    labels_path = write_file(folder / f"labels-idx1-ubyte{suffix}", idx_bytes(labels))
    return images_path, labels_path


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_valid_files_read_back_exactly(tmp_path, suffix):
    images = random_images(len(LABELS))
    images_path, labels_path = write_pair(tmp_path, images, LABELS, suffix)

    read_images, read_labels = read_images_and_labels(images_path, labels_path)

    np.testing.assert_array_equal(read_images, images)
    assert read_images.dtype == np.uint8 and read_images.shape == (5, 28, 28)
    # Labels become int64, the dtype cross-entropy wants, whatever IDX stored.
    assert read_labels.dtype == np.int64
    np.testing.assert_array_equal(read_labels, LABELS)


def test_gzipped_file_is_decompressed(tmp_path):
    content = idx_bytes(LABELS)
    assert read_bytes(write_file(tmp_path / "labels.gz", content)) == content
    # A plain file is taken as it is, even if it happens to hold gzip bytes.
    assert read_bytes(write_file(tmp_path / "labels", content)) == content


def test_truncated_data_is_refused(tmp_path):
    path = write_file(tmp_path / "images-idx3-ubyte", idx_bytes(random_images(3))[:-5])
    with raises_naming(path, "truncated"):
        read_images_and_labels(path, write_file(tmp_path / "labels", idx_bytes(LABELS[:3])))


def test_truncated_header_is_refused(tmp_path):
    # The magic number is intact but the three dimension sizes are cut short.
    content = idx_bytes(random_images(3))[:9]
    with pytest.raises(DigitstudyError, match="x.idx: truncated IDX header"):
        parse_idx(content, "x.idx", IMAGES_DIMS)


def test_file_shorter_than_magic_number_is_refused():
    with pytest.raises(DigitstudyError, match="x.idx: too short"):
        parse_idx(b"\x00\x00", "x.idx", LABELS_DIMS)


@pytest.mark.parametrize("keep_fraction", [0.5, 0.9])
def test_truncated_gzip_is_refused(tmp_path, keep_fraction):
    # Cutting the compressed bytes (a partial download), not the decompressed content.
    compressed = gzip.compress(idx_bytes(random_images(20)))
    path = tmp_path / "images-idx3-ubyte.gz"
    path.write_bytes(compressed[: int(len(compressed) * keep_fraction)])
    with raises_naming(path, "truncated gzip"):
        read_bytes(path)


def test_empty_gz_file_is_refused(tmp_path):
    # gzip reads an empty file as empty content; the IDX check must still catch it.
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(b"")
    with raises_naming(path, "too short to be an IDX file"):
        read_images_and_labels(write_file(tmp_path / "images", idx_bytes(random_images(1))), path)


def test_plain_bytes_named_gz_are_refused(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(idx_bytes(LABELS))
    with raises_naming(path, "not a readable gzip file"):
        read_bytes(path)


def test_missing_file_is_named(tmp_path):
    with raises_naming(tmp_path / "absent.gz", "file not found"):
        read_bytes(tmp_path / "absent.gz")


@pytest.mark.parametrize(
    "content, expected_dims",
    [
        (idx_bytes(LABELS), IMAGES_DIMS),  # a labels file where images are expected
        (idx_bytes(random_images(2)), LABELS_DIMS),  # and the other way round
        (idx_bytes(LABELS, magic_dtype=0x0D), LABELS_DIMS),  # float32 data, not unsigned bytes
        (b"\x01\x00" + idx_bytes(LABELS)[2:], LABELS_DIMS),  # the two leading bytes must be zero
    ],
)
def test_wrong_magic_number_is_refused(content, expected_dims):
    with pytest.raises(DigitstudyError, match=r"x\.idx: wrong IDX magic number 0x[0-9a-f]{8}, expected"):
        parse_idx(content, "x.idx", expected_dims)


def test_wrong_magic_number_message_names_file_and_expected_magic(tmp_path):
    images_path, _ = write_pair(tmp_path, random_images(2), LABELS[:2])
    labels_as_images = write_file(tmp_path / "swapped", idx_bytes(LABELS[:2]))
    with raises_naming(labels_as_images, "magic number 0x00000801, expected 0x00000803"):
        read_images_and_labels(labels_as_images, images_path)


def test_extra_trailing_bytes_are_refused(tmp_path):
    path = write_file(tmp_path / "labels-idx1-ubyte.gz", idx_bytes(LABELS) + b"\x00")
    with raises_naming(path, "longer than its header says"):
        read_images_and_labels(write_file(tmp_path / "images", idx_bytes(random_images(5))), path)


def test_image_and_label_counts_must_agree(tmp_path):
    images_path, labels_path = write_pair(tmp_path, random_images(4), LABELS)
    message = f"{images_path}: 4 images but {labels_path} has 5 labels"
    with pytest.raises(DigitstudyError, match=re.escape(message)):
        read_images_and_labels(images_path, labels_path)


def test_label_outside_the_classes_is_refused(tmp_path):
    images_path, labels_path = write_pair(tmp_path, random_images(2), np.array([3, 10]))
    _, labels = read_images_and_labels(images_path, labels_path)
    check_classes(labels, 11, labels_path)
    with raises_naming(labels_path, re.escape("label 10 outside 0..9, the classes of the train labels")):
        check_classes(labels, 10, labels_path)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_image_pixels_come_from_the_header(tmp_path, suffix):
    images_path, _ = write_pair(tmp_path, random_images(3, height=12, width=20), LABELS[:3], suffix)
    assert image_pixels(images_path) == 12 * 20
    with raises_naming(tmp_path / "short", "truncated IDX header"):
        image_pixels(write_file(tmp_path / "short", b"\x00\x00\x08\x03"))


def test_empty_files_are_consistent(tmp_path):
    # Zero samples is well-formed IDX; only the shapes must be kept.
    images_path, labels_path = write_pair(tmp_path, np.zeros((0, 28, 28)), np.zeros(0))
    images, labels = read_images_and_labels(images_path, labels_path)
    assert images.shape == (0, 28, 28) and labels.shape == (0,)
