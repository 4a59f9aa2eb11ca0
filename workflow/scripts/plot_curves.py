"""Rule plot_curves: train and validation loss and misclassification per epoch, a line per seed."""

from digitstudy.figures import plot_curves
from digitstudy.scripting import logged


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    plot_curves(
        experiment=f"{snakemake.wildcards.dataset} / {snakemake.wildcards.model}",
        model=snakemake.wildcards.model,
        seeds=snakemake.params.seeds,
        history_paths=list(snakemake.input),
        out_path=snakemake.output[0],
        dpi=snakemake.params.dpi,
    )
