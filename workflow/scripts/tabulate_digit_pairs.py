"""Rule tabulate_digit_pairs: the digit pairs whose two-digit test images the chosen run gets wrong most."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.error_analysis import write_digit_pairs_table
from digitstudy.scripting import logged


with logged(snakemake.log[0]) as log:
    pairs = write_digit_pairs_table(
        experiment=f"{snakemake.wildcards.dataset} / {snakemake.wildcards.model}",
        predictions_path=snakemake.input[0],
        outputs=snakemake.output,
    )
    log(f"{len(pairs)} pairs listed")
