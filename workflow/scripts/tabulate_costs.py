"""Rule tabulate_costs: the study's compute per run, experiment and in all, and its problem runs."""

from digitstudy.costs import write_cost_tables
from digitstudy.scripting import logged


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    cost, problems = write_cost_tables(
        runs_path=snakemake.input.runs,
        choice_paths=list(snakemake.input.choices),
        data_benchmarks=list(snakemake.input.data_benchmarks),
        outputs=snakemake.output,
    )
    log(f"{len(problems)} problem runs; study {cost.iloc[-1]['cpu_hours']:.2f} CPU hours")
