"""MNIST, or a declared base dataset, from a local folder or mirrors: only the declared content (SHA-256
of the decompressed bytes) is copied."""

import re
import shutil

import numpy as np
import pytest

from digitstudy.errors import DigitstudyError
from digitstudy.fetch import (
    MNIST,
    MNIST_MIRRORS,
    MNIST_SHA256,
    acquire,
    copy_verified,
    declared_source,
    find_source_file,
)
from digitstudy.files import sha256_file
from digitstudy.idx import IDX_FILES, read_bytes
from helpers import idx_bytes, mnist_dir_from, random_images, write_file, write_idx_dataset


def fake_mnist_folder(folder, suffix=".gz"):
    """The four MNIST names holding well-formed IDX files that are not MNIST."""
    folder.mkdir()
    for name in IDX_FILES:
        array = random_images(3) if "images" in name else np.array([1, 2, 3])
        write_file(folder / f"{name}{suffix}", idx_bytes(array))
    return folder


@pytest.mark.parametrize("suffix", [".gz", ""])
@pytest.mark.parametrize("get", [copy_verified, acquire])
def test_wrong_content_is_refused_by_sha256(tmp_path, suffix, get):
    source = fake_mnist_folder(tmp_path / "source", suffix)
    out_dir = tmp_path / "out"
    first = source / f"{IDX_FILES[0]}{suffix}"
    with pytest.raises(DigitstudyError, match=re.escape(str(first)) + ": content SHA-256 .* does not match"):
        get(source, out_dir)
    # Nothing is written unless all four files are genuine.
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_one_bad_file_among_genuine_names_is_named(tmp_path, mnist_dir):
    # Three genuine files and one impostor: the error must point at the impostor.
    source = tmp_path / "source"
    source.mkdir()
    for name in IDX_FILES[:3]:
        shutil.copy(find_source_file(mnist_dir, name), source)
    # As many labels as the genuine file has, so that only the content gives it away.
    impostor = write_file(source / f"{IDX_FILES[3]}.gz", idx_bytes(np.arange(10_000) % 10))
    with pytest.raises(DigitstudyError, match=re.escape(str(impostor)) + ".*SHA-256"):
        copy_verified(source, tmp_path / "out")


@pytest.mark.parametrize("get", [copy_verified, acquire])
def test_missing_folder_is_named(tmp_path, get):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(DigitstudyError, match=re.escape(str(missing)) + " does not exist"):
        get(missing, tmp_path / "out")


def test_missing_file_in_folder_is_named(tmp_path):
    source = fake_mnist_folder(tmp_path / "source")
    (source / f"{IDX_FILES[2]}.gz").unlink()
    message = f"MNIST folder {source}: neither {IDX_FILES[2]} nor {IDX_FILES[2]}.gz"
    with pytest.raises(DigitstudyError, match=re.escape(message)):
        find_source_file(source, IDX_FILES[2])


def test_plain_file_wins_over_gz(tmp_path):
    for candidate in ("labels", "labels.gz"):
        write_file(tmp_path / candidate, idx_bytes(np.array([1])))
    assert find_source_file(tmp_path, "labels") == tmp_path / "labels"
    (tmp_path / "labels").unlink()
    assert find_source_file(tmp_path, "labels") == tmp_path / "labels.gz"


# --- the mnist_dir fixture's rule: skip on a developer machine, fail in CI -----------------------------


def test_mnist_dir_is_taken_from_environment(tmp_path):
    assert mnist_dir_from({"MNIST_DIR": str(tmp_path), "CI": "true"}) == tmp_path


def test_missing_mnist_dir_skips_outside_ci():
    with pytest.raises(pytest.skip.Exception):
        mnist_dir_from({"CI": "false"})


def test_missing_mnist_dir_fails_in_ci():
    with pytest.raises(pytest.fail.Exception, match="MNIST_DIR"):
        mnist_dir_from({"CI": "true"})


# --- real MNIST ----------------------------------------------------------------------------------


def assert_genuine_copy(sums, out_dir):
    assert sums == MNIST_SHA256
    # The files on disk, decompressed, are what the sums describe.
    assert {path.name for path in out_dir.iterdir()} == set(IDX_FILES)
    for name in IDX_FILES:
        assert sha256_file(out_dir / name) == MNIST_SHA256[name]


def test_real_mnist_is_copied_decompressed(tmp_path, mnist_dir):
    out_dir = tmp_path / "raw"
    assert_genuine_copy(acquire(str(mnist_dir), out_dir), out_dir)


def test_real_mnist_already_decompressed_is_accepted(tmp_path, mnist_dir):
    # Some mirrors (and torchvision's raw folder) hold the files decompressed.
    plain = tmp_path / "plain"
    plain.mkdir()
    for name in IDX_FILES:
        (plain / name).write_bytes(read_bytes(find_source_file(mnist_dir, name)))
    out_dir = tmp_path / "raw"
    assert_genuine_copy(copy_verified(plain, out_dir), out_dir)


# --- a declared base dataset: its own checksums, its mirrors -------------------------------------------


def tiny_source(tmp_path, mirrors=()):
    """A small IDX dataset written to tmp_path/tiny, and its IdxSource as declared in a config."""
    sha256 = write_idx_dataset(tmp_path / "tiny")
    return declared_source("tiny", {"sha256": sha256, "mirrors": list(mirrors)})


def test_a_declared_dataset_is_downloaded_from_the_first_mirror_that_serves_it(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    source = tiny_source(tmp_path, [empty.as_uri() + "/", (tmp_path / "tiny").as_uri() + "/"])
    out_dir = tmp_path / "raw"
    assert acquire("", out_dir, source) == source.sha256
    assert sorted(path.name for path in out_dir.iterdir()) == sorted(IDX_FILES)


def test_no_mirror_serving_a_file_is_one_line_naming_each_mirror(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    source = tiny_source(tmp_path, [empty.as_uri() + "/"])
    message = f"could not download dataset 'tiny' {IDX_FILES[0]} ({empty.as_uri()}/: "
    with pytest.raises(DigitstudyError, match=re.escape(message) + r".*\); set datasets.tiny.idx.folder to a folder"):
        acquire("", tmp_path / "raw", source)


def test_a_declared_dataset_is_checked_against_its_declared_checksums(tmp_path):
    source = tiny_source(tmp_path)
    assert copy_verified(tmp_path / "tiny", tmp_path / "raw", source) == source.sha256
    wrong = declared_source("tiny", {"sha256": {**source.sha256, IDX_FILES[1]: "0" * 64}})
    path = tmp_path / "tiny" / f"{IDX_FILES[1]}.gz"
    message = (
        f"{path}: content SHA-256 {source.sha256[IDX_FILES[1]][:16]}... does not match datasets.tiny.idx.sha256 of"
    )
    with pytest.raises(DigitstudyError, match=re.escape(message) + ".*corrupt or not dataset 'tiny'"):
        copy_verified(tmp_path / "tiny", tmp_path / "raw2", wrong)
    with pytest.raises(DigitstudyError, match=re.escape("(check datasets.tiny.idx.folder)")):
        copy_verified(tmp_path / "gone", tmp_path / "raw2", source)


def test_mnist_comes_from_torchvisions_mirrors():
    """Written beside the checksums, and the same list as the installed torchvision's."""
    import torchvision

    assert MNIST_MIRRORS == tuple(torchvision.datasets.MNIST.mirrors)
    assert MNIST.mirrors == MNIST_MIRRORS
