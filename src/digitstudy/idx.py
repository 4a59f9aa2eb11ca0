"""Read IDX files, MNIST's format (gzipped or not), refusing anything truncated or malformed."""

import gzip
import zlib
from pathlib import Path

import numpy as np

from .errors import DigitstudyError


UBYTE = 0x08
IMAGES_DIMS = 3
LABELS_DIMS = 1
HEADER_BYTES = 4 + 4 * IMAGES_DIMS

# The four files of a base dataset, MNIST's names: (images, labels) of its train and of its test part.
IDX_SPLITS = (
    ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
)
IDX_FILES = tuple(name for pair in IDX_SPLITS for name in pair)


def read_bytes(path):
    """The file's content, decompressed when it is a .gz file."""
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise DigitstudyError(f"{path}: file not found") from None
    except EOFError:
        raise DigitstudyError(f"{path}: truncated gzip file (ends before its compressed stream does)") from None
    except (OSError, zlib.error) as error:
        raise DigitstudyError(f"{path}: not a readable gzip file ({error})") from None


def parse_idx(content, name, expected_dims):
    """The array stored in an IDX byte string; `name` is only used in error messages."""
    if len(content) < 4:
        raise DigitstudyError(f"{name}: too short to be an IDX file ({len(content)} bytes)")
    zero, dtype_code, ndims = int.from_bytes(content[:2], "big"), content[2], content[3]
    if zero != 0 or dtype_code != UBYTE or ndims != expected_dims:
        magic = content[:4].hex()
        wanted = (0x0800 + expected_dims).to_bytes(4, "big").hex()
        raise DigitstudyError(f"{name}: wrong IDX magic number 0x{magic}, expected 0x{wanted}")
    header_size = 4 + 4 * ndims
    if len(content) < header_size:
        raise DigitstudyError(f"{name}: truncated IDX header")
    shape = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndims))
    expected_size = header_size + int(np.prod(shape))
    if len(content) != expected_size:
        state = "truncated" if len(content) < expected_size else "longer than its header says"
        raise DigitstudyError(f"{name}: {state}: {len(content)} bytes, header {shape} needs {expected_size}")
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(shape)


def check_pair(images, labels, images_path, labels_path):
    """Images and labels of one split must agree in count."""
    if len(images) != len(labels):
        raise DigitstudyError(f"{images_path}: {len(images)} images but {labels_path} has {len(labels)} labels")


def check_classes(labels, n_classes, labels_path):
    """Every label one of the classes 0..n_classes-1 (the classes that the train labels define)."""
    if labels.size and labels.max() >= n_classes:
        raise DigitstudyError(
            f"{labels_path}: label {labels.max()} outside 0..{n_classes - 1}, the classes of the train labels"
        )


def image_pixels(path):
    """Pixels of one image (rows x columns) from the header of an IDX images file, .gz or not."""
    rows, columns = image_size(path)
    return rows * columns


def image_size(path):
    """(rows, columns) of one image from the header of an IDX images file, .gz or not."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            header = handle.read(HEADER_BYTES)
    except (OSError, EOFError, zlib.error) as error:
        raise DigitstudyError(f"{path}: unreadable IDX header ({error})") from None
    if len(header) < HEADER_BYTES:
        raise DigitstudyError(f"{path}: truncated IDX header")
    return int.from_bytes(header[8:12], "big"), int.from_bytes(header[12:16], "big")


def read_images_and_labels(images_path, labels_path):
    """Images (N x H x W uint8) and labels (N int64) of one split, checked against each other."""
    images = parse_idx(read_bytes(images_path), images_path, IMAGES_DIMS)
    labels = parse_idx(read_bytes(labels_path), labels_path, LABELS_DIMS)
    check_pair(images, labels, images_path, labels_path)
    return images, labels.astype(np.int64)
