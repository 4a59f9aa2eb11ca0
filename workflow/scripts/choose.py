"""Rule choose: an experiment's configuration, the grid run with the lowest validation error."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.aggregate import write_choice
from digitstudy.scripting import logged


with logged(snakemake.log[0]) as log:
    choice = write_choice(
        dataset=snakemake.wildcards.dataset,
        model=snakemake.wildcards.model,
        grid_metrics=list(snakemake.input.grid),
        seed_metrics=list(snakemake.input.seeds),
        out_path=snakemake.output[0],
    )
    log(f"chosen: {choice['chosen']}")
