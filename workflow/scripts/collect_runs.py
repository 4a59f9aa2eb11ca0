"""Rule collect_runs: results/runs.csv, one tidy row per training run."""

from digitstudy.aggregate import runs_table
from digitstudy.files import write_text_atomic
from digitstudy.scripting import logged


def collect_runs(metric_paths, out_path, log):
    runs = runs_table(metric_paths)
    write_text_atomic(out_path, runs.to_csv(index=False))
    log(f"{len(runs)} runs, {int((runs['status'] != 'ok').sum())} diverged")


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    collect_runs(metric_paths=list(snakemake.input), out_path=snakemake.output[0], log=log)
