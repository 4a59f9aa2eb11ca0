"""Rule collect_runs: results/runs.csv, one tidy row per training run, and its browsable HTML form."""

from digitstudy.aggregate import write_runs_table
from digitstudy.scripting import logged


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    runs = write_runs_table(
        metric_paths=list(snakemake.input), csv_path=snakemake.output.csv, html_path=snakemake.output.html
    )
    log(f"{len(runs)} runs, {int((runs['status'] != 'ok').sum())} diverged")
