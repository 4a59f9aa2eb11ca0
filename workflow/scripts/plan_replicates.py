"""Rule plan_replicates: the replicates an experiment's confirmation may train, from its choice."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.scripting import logged
from digitstudy.study import write_replicate_plan


with logged(snakemake.log[0]) as log:
    plan = write_replicate_plan(
        choice_path=snakemake.input[0],
        seed=snakemake.params.seed,
        split_seed=snakemake.params.split_seed,
        maximum=snakemake.params.maximum,
        out_path=snakemake.output[0],
    )
    log(f"replicates: {', '.join(plan['names']) or 'none (every grid run diverged)'}")
