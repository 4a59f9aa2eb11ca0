"""Rule make_tables: an experiment's seed-study and grid tables (CSV, Markdown, HTML) and its chosen run."""

from digitstudy.aggregate import choice_record, choose, grid_markdown, grid_table, runs_table, seed_markdown, seed_table
from digitstudy.files import write_json_atomic, write_text_atomic
from digitstudy.scripting import logged
from digitstudy.tables import table_html


SEED_NOTE = (
    "Final train, validation and test error of each seed, the generalisation gap (final validation "
    "minus final train error), and the epoch of the best validation error beside the last epoch; "
    "mean, sd, min and max over the seeds that did not diverge."
)
GRID_NOTE = (
    "Final validation error over learning rate x momentum (one seed); chosen: the lowest validation "
    "error; far worse: did not diverge, yet ended far above the chosen run."
)


def make_tables(dataset, model, seed_metrics, grid_metrics, outputs, log):
    seeds = seed_table(runs_table(seed_metrics))
    grid_runs = runs_table(grid_metrics)
    chosen = choose(grid_runs)
    grid = grid_table(grid_runs, chosen)
    write_text_atomic(outputs.seeds_csv, seeds.to_csv(index=False))
    write_text_atomic(outputs.seeds_md, f"# {dataset} / {model}: seed study\n\n{SEED_NOTE}\n\n" + seed_markdown(seeds))
    write_text_atomic(outputs.seeds_html, table_html(seeds, f"{dataset} / {model}: seed study", SEED_NOTE))
    write_text_atomic(outputs.grid_csv, grid.to_csv(index=False))
    write_text_atomic(outputs.grid_md, f"# {dataset} / {model}: grid\n\n" + grid_markdown(grid))
    write_text_atomic(outputs.grid_html, table_html(grid, f"{dataset} / {model}: grid", GRID_NOTE))
    record = choice_record(dataset, model, chosen, seeds)
    write_json_atomic(outputs.choice, record)
    log(f"chosen: {record['chosen']}")


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    make_tables(
        dataset=snakemake.wildcards.dataset,
        model=snakemake.wildcards.model,
        seed_metrics=list(snakemake.input.seeds),
        grid_metrics=list(snakemake.input.grid),
        outputs=snakemake.output,
        log=log,
    )
