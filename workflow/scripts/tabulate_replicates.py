"""Rule tabulate_replicates: every replicate of a task's chosen configurations, each model's test error
with its interval and its spread beside the seed study's, and the task's final decisions."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.confirm import prediction_files_by_model, write_replicate_tables
from digitstudy.scripting import file_list, logged


with logged(snakemake.log[0]) as log:
    variance = write_replicate_tables(
        dataset=snakemake.wildcards.dataset,
        metric_paths=file_list(snakemake.input.replicates),
        seed_metric_paths=list(snakemake.input.seeds),
        prediction_files=prediction_files_by_model(file_list(snakemake.input.predictions), snakemake.params.models),
        decisions_path=snakemake.input.decisions,
        outputs=snakemake.output,
    )
    log(variance.to_string(index=False))
