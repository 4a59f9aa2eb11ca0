"""Rule plot_grid: heatmap of validation error over learning rate x momentum."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.figures import plot_grid
from digitstudy.scripting import logged


with logged(snakemake.log[0]) as log:
    plot_grid(
        experiment=f"{snakemake.wildcards.dataset} / {snakemake.wildcards.model}",
        grid_path=snakemake.input[0],
        out_path=snakemake.output[0],
        dpi=snakemake.params.dpi,
    )
