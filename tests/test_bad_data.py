"""Damaged MNIST files and HDF5 splits, through the real `snakemake`: one line naming the file and
the cause, and no partial output left behind."""

import gzip
import shutil

import h5py
import pytest

from digitstudy.fetch import find_source_file
from digitstudy.files import sha256_of
from digitstudy.idx import IDX_FILES
from helpers import copy_workflow, snakemake


pytestmark = pytest.mark.workflow
RUN = "results/runs/mnist/ann/seed1_lr0.01_mom0.9"


def files_under(folder):
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def error_line(finished):
    """The line our rule scripts print on the terminal for a DigitstudyError."""
    lines = [line for line in finished.stderr.splitlines() if line.startswith("digitstudy error: ")]
    assert len(lines) == 1, finished.stderr[-3000:]
    return lines[0]


def gzipped_copy(mnist_dir, folder):
    """The four MNIST files of mnist_dir as .gz files in `folder`."""
    folder.mkdir()
    for name in IDX_FILES:
        source = find_source_file(mnist_dir, name)
        content = source.read_bytes()
        (folder / f"{name}.gz").write_bytes(content if source.suffix == ".gz" else gzip.compress(content))
    return folder


def rewrite(path, change):
    """Replace the decompressed content of a .gz file by change(content); return the new content."""
    content = change(gzip.decompress(path.read_bytes()))
    path.write_bytes(gzip.compress(content, compresslevel=1))
    return content


def truncate_gz(folder):
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return f"{path}: truncated gzip file (ends before its compressed stream does)"


def wrong_magic(folder):
    path = folder / "t10k-labels-idx1-ubyte.gz"
    rewrite(path, lambda content: content[:2] + b"\x0d" + content[3:])  # float32 instead of bytes
    return f"{path}: wrong IDX magic number 0x00000d01, expected 0x00000801"


def one_label_less(folder):
    # A well-formed labels file, one label short: its header says 9999.
    path = folder / "t10k-labels-idx1-ubyte.gz"
    rewrite(path, lambda content: content[:4] + (9999).to_bytes(4, "big") + content[8:-1])
    return f"{folder / 't10k-images-idx3-ubyte.gz'}: 10000 images but {path} has 9999 labels"


def one_label_changed(folder):
    # Well-formed, right counts, one label off by one: only the checksum can tell.
    path = folder / "train-labels-idx1-ubyte.gz"
    content = rewrite(path, lambda content: content[:8] + bytes([(content[8] + 1) % 10]) + content[9:])
    return (
        f"{path}: content SHA-256 {sha256_of(content)[:16]}... does not match genuine MNIST "
        "train-labels-idx1-ubyte (65a50cbbf4e906d7...): corrupt or not MNIST"
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("bad-data"))


@pytest.mark.parametrize("damage", [truncate_gz, wrong_magic, one_label_less, one_label_changed])
def test_damaged_mnist_stops_fetch_with_one_line_and_writes_nothing(workdir, mnist_dir, tmp_path, damage):
    source = gzipped_copy(mnist_dir, tmp_path / "mnist")
    expected = damage(source)
    finished = snakemake(workdir, "data/processed/mnist.h5", mnist_dir=source)
    assert finished.returncode == 1
    assert error_line(finished) == f"digitstudy error: {expected}"
    assert "rule prepare_idx" not in finished.stdout + finished.stderr  # stopped at the first job
    assert not (workdir / "data").exists() or files_under(workdir / "data") == []


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, mnist_dir):
    """A workflow copy with MNIST fetched and prepared, not trained on."""
    folder = copy_workflow(tmp_path_factory.mktemp("prepared"))
    finished = snakemake(folder, "data/processed/mnist.h5", mnist_dir=mnist_dir)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return folder


def corrupt_file(workdir, path):
    with open(workdir / path, "r+b") as handle:
        handle.write(b"\x00" * 512)  # the superblock: the file no longer opens
    return f"{path}: not a readable HDF5 file"


def drop_valid_group(workdir, path):
    with h5py.File(workdir / path, "a") as handle:
        del handle["valid"]
    return f"{path}: HDF5 group 'valid' is missing"


@pytest.mark.parametrize("damage", [corrupt_file, drop_valid_group])
def test_damaged_split_file_stops_training_with_one_line(prepared, mnist_dir, tmp_path, damage):
    workdir = tmp_path / "study"
    shutil.copytree(prepared, workdir, symlinks=True)
    expected = damage(workdir, "data/processed/mnist.h5")  # named as the job names it
    finished = snakemake(workdir, f"{RUN}/metrics.json", mnist_dir=mnist_dir)
    assert finished.returncode == 1
    assert error_line(finished).startswith(f"digitstudy error: {expected}")
    # Refused before the first epoch: nothing trained, nothing written, no checkpoint.
    log = (workdir / "logs" / "train" / "mnist" / "ann" / "seed1_lr0.01_mom0.9.log").read_text()
    assert "epoch" not in log and log.startswith(f"error: {expected}")
    assert not (workdir / "results").exists() or files_under(workdir / "results") == ["study.yaml"]  # the record
