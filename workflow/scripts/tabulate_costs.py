"""Rule tabulate_costs: the study's compute per run, experiment and in all, and its problem runs."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.costs import write_cost_tables
from digitstudy.scripting import logged
from digitstudy.tables import number_text


with logged(snakemake.log[0]) as log:
    cost, problems = write_cost_tables(
        runs_path=snakemake.input.runs,
        choice_paths=list(snakemake.input.choices),
        data_benchmarks=list(snakemake.input.data_benchmarks),
        outputs=snakemake.output,
    )
    log(f"{len(problems)} problem runs; study {number_text(cost.iloc[-1]['cpu_hours'], 2)} CPU hours")
