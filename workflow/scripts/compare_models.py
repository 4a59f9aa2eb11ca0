"""Rule compare_models: a task's chosen models side by side, with intervals and pairwise tests."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.compare import write_comparison
from digitstudy.scripting import logged


with logged(snakemake.log[0]) as log:
    pairwise = write_comparison(
        dataset=snakemake.wildcards.dataset,
        choice_paths=list(snakemake.input.choices),
        seed_paths=list(snakemake.input.seeds),
        prediction_paths=list(snakemake.input.predictions),
        replicates_path=snakemake.input.replicates,
        decisions_path=snakemake.input.decisions,
        outputs=snakemake.output,
    )
    for verdict in pairwise["verdict"]:
        log(verdict)
