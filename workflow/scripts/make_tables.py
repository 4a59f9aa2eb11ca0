"""Rule make_tables: an experiment's seed-study and grid tables (CSV, Markdown, HTML)."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.aggregate import write_experiment_tables
from digitstudy.scripting import logged


with logged(snakemake.log[0]) as log:
    write_experiment_tables(
        dataset=snakemake.wildcards.dataset,
        model=snakemake.wildcards.model,
        seed_metrics=list(snakemake.input.seeds),
        grid_metrics=list(snakemake.input.grid),
        choice_path=snakemake.input.choice,
        outputs=snakemake.output,
    )
