"""Checkpoint decide_round: after a round of the confirmation, every pair of a task's models judged on
all their replicates so far, and the models that train another round."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.confirm import prediction_files_by_model, write_round_decisions
from digitstudy.scripting import file_list, logged


with logged(snakemake.log[0]) as log:
    decisions = write_round_decisions(
        dataset=snakemake.wildcards.dataset,
        round_number=int(snakemake.wildcards.round),
        prediction_files=prediction_files_by_model(file_list(snakemake.input.predictions), snakemake.params.models),
        settings=snakemake.params.settings,
        out_path=snakemake.output[0],
    )
    for pair in decisions["pairs"]:
        log(
            f"{pair['model_a']} vs {pair['model_b']}: {pair['verdict'] or 'open'} after {pair['replicates']} replicates"
        )
    log(f"next round: {', '.join(decisions['next']) or 'none, the confirmation is done'}")
