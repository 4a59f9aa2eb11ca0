"""Rule plot_errors: an experiment's chosen run on the test images: error per class, the confusion
matrix, and the worst-predicted images."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.figures import plot_errors
from digitstudy.scripting import logged


with logged(snakemake.log[0]) as log:
    plot_errors(
        dataset=snakemake.wildcards.dataset,
        model=snakemake.wildcards.model,
        inputs=snakemake.input,
        outputs=snakemake.output,
        dpi=snakemake.params.dpi,
        class_names=snakemake.params.classes,
    )
