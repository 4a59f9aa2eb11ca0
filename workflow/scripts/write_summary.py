"""Rule write_summary: results/summary.md (findings, best model per task, links to every table and
figure), and the same as HTML for `snakemake --report`, whose start page shows the findings."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.scripting import logged
from digitstudy.summary import write_summary


with logged(snakemake.log[0]) as log:
    write_summary(
        inputs=snakemake.input,
        study=snakemake.params.study,
        tasks=snakemake.params.tasks,
        pairs_datasets=snakemake.params.pairs_datasets,
        outputs=snakemake.output,
        report_href=snakemake.report_href,
    )
