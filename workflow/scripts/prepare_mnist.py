"""Rule prepare_mnist: MNIST as HDF5 train / valid / test splits."""

import os

from digitstudy.datasets import load_mnist, mnist_digit_pools, source_checksums, write_splits
from digitstudy.scripting import logged


def prepare_mnist(raw_dir, out_path, sizes, split_seed, log):
    splits = mnist_digit_pools(load_mnist(raw_dir), sizes, split_seed)
    write_splits(out_path, splits, n_classes=10,
                 attributes={"dataset": "mnist", "source_sha256": source_checksums(raw_dir),
                             "split_seed": split_seed})
    log(f"wrote {out_path}: " + ", ".join(f"{name} {len(split.labels)}" for name, split in splits.items()))


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    prepare_mnist(raw_dir=os.path.dirname(snakemake.input[0]), out_path=snakemake.output[0],
                  sizes=snakemake.params.sizes, split_seed=snakemake.params.split_seed, log=log)
