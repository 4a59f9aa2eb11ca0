"""Rule plot_two_digit_samples: a few training images of the two-digit dataset with their labels."""

from digitstudy.datasets import read_splits
from digitstudy.plots import save, two_digit_samples
from digitstudy.scripting import logged


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    splits, _ = read_splits(snakemake.input[0], names=("train",))
    save(two_digit_samples(splits["train"].images, splits["train"].digits), snakemake.output[0], snakemake.params.dpi)
