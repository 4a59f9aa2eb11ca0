"""Get the four MNIST IDX files, from a local folder or torchvision's downloader, and verify them."""

import tempfile
from pathlib import Path

from . import DigitstudyError
from .files import sha256_of, write_bytes_atomic
from .idx import IMAGES_DIMS, LABELS_DIMS, check_pair, parse_idx, read_bytes


# SHA-256 of the decompressed files of the genuine release (whatever mirror or compression).
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
MNIST_FILES = tuple(MNIST_SHA256)
MNIST_SPLITS = (
    ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
)


def find_source_file(source_dir, name):
    """`name` or `name.gz` in source_dir (the plain file wins when both are there)."""
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise DigitstudyError(f"MNIST folder {source_dir} does not exist (check mnist_dir or MNIST_DIR)")
    for candidate in (source_dir / name, source_dir / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise DigitstudyError(f"MNIST folder {source_dir}: neither {name} nor {name}.gz is there")


def parsed(path, name):
    """(decompressed content, array) of MNIST file `name` found at `path`, its IDX structure checked."""
    content = read_bytes(path)
    return content, parse_idx(content, path, IMAGES_DIMS if "images" in name else LABELS_DIMS)


def check_sha256(content, path, name):
    digest = sha256_of(content)
    if digest != MNIST_SHA256[name]:
        raise DigitstudyError(
            f"{path}: content SHA-256 {digest[:16]}... does not match genuine MNIST {name} "
            f"({MNIST_SHA256[name][:16]}...): corrupt or not MNIST"
        )


def verified_split(source_dir, images_name, labels_name):
    """{name: content} of one split's two files. Checked from the most specific cause to the most
    general one (IDX structure, then the pair's counts, then SHA-256), so that the message says
    what is wrong rather than only that the bytes differ."""
    paths = {name: find_source_file(source_dir, name) for name in (images_name, labels_name)}
    files = {name: parsed(path, name) for name, path in paths.items()}
    check_pair(files[images_name][1], files[labels_name][1], paths[images_name], paths[labels_name])
    for name, (content, _) in files.items():
        check_sha256(content, paths[name], name)
    return {name: content for name, (content, _) in files.items()}


def copy_verified(source_dir, out_dir):
    """Write the four verified, decompressed files to out_dir; return their SHA-256 by name."""
    contents = {}
    for images_name, labels_name in MNIST_SPLITS:
        contents.update(verified_split(source_dir, images_name, labels_name))
    for name, content in contents.items():
        write_bytes_atomic(Path(out_dir) / name, content)
    return {name: sha256_of(content) for name, content in contents.items()}


def download_verified(out_dir):
    """Download with torchvision (its mirrors and md5 checks), then verify and copy as above."""
    from torchvision.datasets import MNIST

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
        try:
            MNIST(root=scratch, train=True, download=True)
        except (RuntimeError, OSError) as error:
            reason = " ".join(str(error).split())
            raise DigitstudyError(
                f"could not download MNIST ({reason}); set mnist_dir in the config or MNIST_DIR "
                "to a folder with the four IDX files"
            ) from None
        return copy_verified(Path(scratch) / "MNIST" / "raw", out_dir)


def acquire(source_dir, out_dir):
    """From source_dir when one is given, else from the internet."""
    if source_dir:
        return copy_verified(source_dir, out_dir)
    return download_verified(out_dir)
