"""Rule collect_runs: results/runs.csv, one tidy row per training run, and its browsable HTML form."""

from digitstudy.aggregate import runs_table
from digitstudy.files import write_text_atomic
from digitstudy.scripting import logged
from digitstudy.tables import table_html


def collect_runs(metric_paths, csv_path, html_path, log):
    runs = runs_table(metric_paths)
    write_text_atomic(csv_path, runs.to_csv(index=False))
    write_text_atomic(
        html_path,
        table_html(
            runs,
            "Every training run",
            "One row per run: hyperparameters, status, final train and validation "
            "values, best validation epoch, test values, wall seconds.",
        ),
    )
    log(f"{len(runs)} runs, {int((runs['status'] != 'ok').sum())} diverged")


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    collect_runs(
        metric_paths=list(snakemake.input), csv_path=snakemake.output.csv, html_path=snakemake.output.html, log=log
    )
