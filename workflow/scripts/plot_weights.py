"""Rule plot_weights: the first-layer weights of an experiment's chosen run, one tile per unit."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.figures import plot_weights
from digitstudy.models import use_declared_model
from digitstudy.scripting import logged


use_declared_model(snakemake.wildcards.model, snakemake.params.declared_model)
with logged(snakemake.log[0]) as log:
    shown = plot_weights(
        choice_path=snakemake.input.choice,
        model_paths=list(snakemake.input.models),
        runs=snakemake.params.runs,
        data_path=snakemake.input.data,
        out_path=snakemake.output[0],
        dpi=snakemake.params.dpi,
    )
    if not shown:
        log("every grid run diverged: no weights to show")
