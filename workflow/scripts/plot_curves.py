"""Rule plot_curves: train and validation loss and misclassification per epoch, a line per seed."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.figures import plot_curves
from digitstudy.scripting import logged


with logged(snakemake.log[0]) as log:
    plot_curves(
        experiment=f"{snakemake.wildcards.dataset} / {snakemake.wildcards.model}",
        model=snakemake.wildcards.model,
        seeds=snakemake.params.seeds,
        history_paths=list(snakemake.input),
        out_path=snakemake.output[0],
        dpi=snakemake.params.dpi,
    )
