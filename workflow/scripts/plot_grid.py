"""Rule plot_grid: heatmap of validation error over learning rate x momentum."""

import pandas as pd

from digitstudy.plots import grid_heatmap, save
from digitstudy.scripting import logged


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    grid = pd.read_csv(snakemake.input[0])
    title = f"{snakemake.wildcards.dataset} / {snakemake.wildcards.model}: validation error"
    save(grid_heatmap(grid, title), snakemake.output[0], snakemake.params.dpi)
