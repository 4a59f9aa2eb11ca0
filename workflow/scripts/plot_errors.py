"""Rule plot_errors: an experiment's chosen run on the test images: error per class, the confusion
matrix, and the worst-predicted images."""

from digitstudy.figures import plot_errors
from digitstudy.scripting import logged


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    plot_errors(
        dataset=snakemake.wildcards.dataset,
        model=snakemake.wildcards.model,
        inputs=snakemake.input,
        outputs=snakemake.output,
        dpi=snakemake.params.dpi,
        class_names=snakemake.params.classes,
    )
