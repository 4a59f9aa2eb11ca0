"""Rule plot_pair_samples: a few training images of a pairs dataset with their labels."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.figures import plot_pair_samples
from digitstudy.scripting import logged


with logged(snakemake.log[0]) as log:
    plot_pair_samples(
        dataset=snakemake.wildcards.dataset,
        data_path=snakemake.input[0],
        out_path=snakemake.output[0],
        dpi=snakemake.params.dpi,
    )
