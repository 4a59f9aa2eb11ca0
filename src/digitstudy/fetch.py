"""Get a base dataset's four IDX files (MNIST's format), from a local folder or its mirrors, and verify
them against the SHA-256 of each file's decompressed content."""

import gzip
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import DigitstudyError
from .files import sha256_of, write_bytes_atomic
from .idx import IDX_FILES, IDX_SPLITS, IMAGES_DIMS, LABELS_DIMS, check_pair, parse_idx, read_bytes


# SHA-256 of the decompressed files of the genuine release (whatever mirror or compression).
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
# Where MNIST is downloaded from: torchvision's mirrors (torchvision.datasets.MNIST.mirrors; each serves
# <mirror><file>.gz), written here rather than read from torchvision while Snakemake plans (importing it
# takes seconds, and its internals may move). tests/test_fetch.py checks that they are torchvision's.
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
DOWNLOAD_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class IdxSource:
    """What a base dataset's files must be, and how messages name it and its settings."""

    label: str  # "MNIST", "dataset 'fashion'"
    sha256: dict
    mirrors: tuple = ()
    folder_key: str = "mnist_dir or MNIST_DIR"  # where a user sets its local folder
    sha256_key: str = "genuine MNIST"  # what a file failing its checksum does not match


# Genuine MNIST from torchvision's mirrors.
MNIST = IdxSource("MNIST", MNIST_SHA256, MNIST_MIRRORS)


def declared_source(name, idx):
    """The IdxSource of the config's `datasets.<name>.idx`; mnist's messages name MNIST as users know it."""
    if name == "mnist":
        return replace(MNIST, sha256=dict(idx["sha256"]), mirrors=tuple(idx.get("mirrors", ())))
    key = f"datasets.{name}.idx"
    return IdxSource(
        f"dataset '{name}'", dict(idx["sha256"]), tuple(idx.get("mirrors", ())), f"{key}.folder", f"{key}.sha256 of"
    )


def find_source_file(source_dir, name, source=MNIST):
    """`name` or `name.gz` in source_dir (the plain file wins when both are there)."""
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise DigitstudyError(f"{source.label} folder {source_dir} does not exist (check {source.folder_key})")
    for candidate in (source_dir / name, source_dir / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise DigitstudyError(f"{source.label} folder {source_dir}: neither {name} nor {name}.gz is there")


def parsed(path, name):
    """(decompressed content, array) of IDX file `name` found at `path`, its structure checked."""
    content = read_bytes(path)
    return content, parse_idx(content, path, IMAGES_DIMS if "images" in name else LABELS_DIMS)


def check_sha256(content, path, name, source=MNIST):
    digest, expected = sha256_of(content), source.sha256[name]
    if digest != expected:
        raise DigitstudyError(
            f"{path}: content SHA-256 {digest[:16]}... does not match {source.sha256_key} {name} "
            f"({expected[:16]}...): corrupt or not {source.label}"
        )


def verified_split(source_dir, images_name, labels_name, source=MNIST):
    """{name: content} of one split's two files. Checked from the most specific cause to the most
    general one (IDX structure, then the pair's counts, then SHA-256), so that the message says
    what is wrong rather than only that the bytes differ."""
    paths = {name: find_source_file(source_dir, name, source) for name in (images_name, labels_name)}
    files = {name: parsed(path, name) for name, path in paths.items()}
    check_pair(files[images_name][1], files[labels_name][1], paths[images_name], paths[labels_name])
    for name, (content, _) in files.items():
        check_sha256(content, paths[name], name, source)
    return {name: content for name, (content, _) in files.items()}


def copy_verified(source_dir, out_dir, source=MNIST):
    """Write the four verified, decompressed files to out_dir; return their SHA-256 by name."""
    contents = {}
    for images_name, labels_name in IDX_SPLITS:
        contents.update(verified_split(source_dir, images_name, labels_name, source))
    for name, content in contents.items():
        write_bytes_atomic(Path(out_dir) / name, content)
    return {name: sha256_of(content) for name, content in contents.items()}


def download_file(url, path):
    """`url` to `path`; None, or why it could not be fetched."""
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
            content = response.read()
        gzip.decompress(content)  # a mirror serving a broken file is passed over like one serving none
    except (OSError, ValueError, EOFError, zlib.error) as error:
        return " ".join(str(getattr(error, "reason", error)).split())
    path.write_bytes(content)
    return None


def download_from_mirrors(name, folder, source):
    """<mirror><name>.gz from the first mirror that serves a readable one."""
    reasons = []
    for mirror in source.mirrors:
        reason = download_file(f"{mirror}{name}.gz", Path(folder) / f"{name}.gz")
        if reason is None:
            return
        reasons.append(f"{mirror}: {reason}")
    raise DigitstudyError(
        f"could not download {source.label} {name} ({'; '.join(reasons) or 'no mirrors declared'}); "
        f"set {source.folder_key} to a folder with the four IDX files"
    )


def download_verified(out_dir, source=MNIST):
    """Download the four files from the mirrors, then verify and copy them as above."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
        for name in IDX_FILES:
            download_from_mirrors(name, scratch, source)
        return copy_verified(scratch, out_dir, source)


def acquire(source_dir, out_dir, source=MNIST):
    """From source_dir when one is given, else from the mirrors."""
    if source_dir:
        return copy_verified(source_dir, out_dir, source)
    return download_verified(out_dir, source)


def fetch_dataset(name, idx, folder, out_dir, log):
    """Base dataset `name`'s four files, as its declaration `idx` (datasets.<name>.idx) says they must
    be, from `folder` or else its mirrors, verified and decompressed into out_dir."""
    source = declared_source(name, idx)
    log(f"{source.label} from {folder or ', '.join(source.mirrors)}")
    for file, digest in acquire(folder, out_dir, source).items():
        log(f"verified {file} {digest}")
