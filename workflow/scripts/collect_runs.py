"""Rule collect_runs: results/runs.csv, one tidy row per training run, and its browsable HTML form."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.aggregate import write_runs_table
from digitstudy.scripting import logged


with logged(snakemake.log[0]) as log:
    runs = write_runs_table(
        metric_paths=list(snakemake.input), csv_path=snakemake.output.csv, html_path=snakemake.output.html
    )
    log(f"{len(runs)} runs, {int((runs['status'] != 'ok').sum())} diverged")
