"""Rule plot_pair_samples: a few training images of a pairs dataset with their labels."""

from digitstudy.datasets import read_splits
from digitstudy.plots import pair_samples, save
from digitstudy.scripting import logged


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    splits, _ = read_splits(snakemake.input[0], names=("train",))
    figure = pair_samples(splits["train"].images, splits["train"].digits, snakemake.wildcards.dataset)
    save(figure, snakemake.output[0], snakemake.params.dpi)
