"""Rule plot_pair_samples: a few training images of a pairs dataset with their labels."""

from digitstudy.figures import plot_pair_samples
from digitstudy.scripting import logged


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    plot_pair_samples(
        dataset=snakemake.wildcards.dataset,
        data_path=snakemake.input[0],
        out_path=snakemake.output[0],
        dpi=snakemake.params.dpi,
    )
