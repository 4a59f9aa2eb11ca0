"""Rule plot_replicates: the replicates of a task's chosen models, each replicate's test error paired
across models, with each model's mean and 95% interval."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.figures import plot_replicates
from digitstudy.scripting import logged


with logged(snakemake.log[0]) as log:
    plot_replicates(
        dataset=snakemake.wildcards.dataset,
        replicates_path=snakemake.input.replicates,
        variance_path=snakemake.input.variance,
        out_path=snakemake.output[0],
        dpi=snakemake.params.dpi,
    )
