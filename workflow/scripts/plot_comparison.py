"""Rule plot_comparison: the chosen models of every task side by side, a panel per task on its own scale:
each replicate's test error and each model's mean with its 95% interval."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.figures import plot_comparison
from digitstudy.scripting import logged


with logged(snakemake.log[0]) as log:
    plot_comparison(
        replicates_paths=list(snakemake.input.replicates),
        variance_paths=list(snakemake.input.variance),
        out_path=snakemake.output[0],
        dpi=snakemake.params.dpi,
    )
