"""Rule plot_comparison: the chosen models of every task side by side, test errors with intervals."""

from digitstudy.figures import plot_comparison
from digitstudy.scripting import logged


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    plot_comparison(chosen_paths=list(snakemake.input), out_path=snakemake.output[0], dpi=snakemake.params.dpi)
