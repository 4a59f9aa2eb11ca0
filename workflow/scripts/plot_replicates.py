"""Rule plot_replicates: the replicates of a task's chosen models, each replicate's test error paired
across models, with each model's mean and 95% interval."""

from digitstudy.figures import plot_replicates
from digitstudy.scripting import logged


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    plot_replicates(
        dataset=snakemake.wildcards.dataset,
        replicates_path=snakemake.input.replicates,
        variance_path=snakemake.input.variance,
        out_path=snakemake.output[0],
        dpi=snakemake.params.dpi,
    )
