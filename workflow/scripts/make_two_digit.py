"""Rule make_two_digit: 28 x 56 images of two MNIST digits labelled with their sum, as HDF5 splits."""

import os

from digitstudy.datasets import (load_mnist, mnist_digit_pools, source_checksums, two_digit_splits,
                                 write_splits)
from digitstudy.scripting import logged


N_SUMS = 19


def make_two_digit(raw_dir, out_path, sizes, split_seed, pair_seed, log):
    pools = mnist_digit_pools(load_mnist(raw_dir), sizes, split_seed)
    splits = two_digit_splits(pools, sizes, pair_seed)
    write_splits(out_path, splits, n_classes=N_SUMS,
                 attributes={"dataset": "twodigit", "source_sha256": source_checksums(raw_dir),
                             "split_seed": split_seed, "pair_seed": pair_seed})
    log(f"wrote {out_path}: " + ", ".join(f"{name} {len(split.labels)}" for name, split in splits.items()))


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    make_two_digit(raw_dir=os.path.dirname(snakemake.input[0]), out_path=snakemake.output[0],
                   sizes=snakemake.params.sizes, split_seed=snakemake.params.split_seed,
                   pair_seed=snakemake.params.pair_seed, log=log)
