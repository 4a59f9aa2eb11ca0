"""Rule prepare_mnist: MNIST as HDF5 train / valid / test splits."""

from digitstudy.datasets import load_mnist, mnist_digit_pools, write_splits
from digitstudy.files import sha256_file
from digitstudy.mnist import MNIST_FILES
from digitstudy.scripting import logged


def prepare_mnist(raw_files, out_path, sizes, split_seed, log):
    splits = mnist_digit_pools(load_mnist(raw_files[0].rsplit("/", 1)[0]), sizes, split_seed)
    sources = {name: sha256_file(path) for name, path in zip(MNIST_FILES, raw_files)}
    write_splits(out_path, splits, n_classes=10,
                 attributes={"dataset": "mnist", "source_sha256": sources, "split_seed": split_seed})
    log(f"wrote {out_path}: " + ", ".join(f"{name} {len(split.labels)}" for name, split in splits.items()))


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    prepare_mnist(raw_files=list(snakemake.input), out_path=snakemake.output[0],
                  sizes=snakemake.params.sizes, split_seed=snakemake.params.split_seed, log=log)
