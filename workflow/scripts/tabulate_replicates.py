"""Rule tabulate_replicates: every replicate of a task's chosen configurations, and each model's spread
of test error over replicates beside its spread over the seed study, with the interval of their ratio."""

from digitstudy.confirm import write_replicate_tables
from digitstudy.scripting import logged


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    variance = write_replicate_tables(
        dataset=snakemake.wildcards.dataset,
        metric_paths=list(snakemake.input.replicates),
        seed_metric_paths=list(snakemake.input.seeds),
        outputs=snakemake.output,
    )
    log(variance.to_string(index=False))
