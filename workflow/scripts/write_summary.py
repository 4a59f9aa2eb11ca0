"""Rule write_summary: results/summary.md, the best model per task with links to tables and plots."""

import json

import pandas as pd
from digitstudy.files import write_text_atomic
from digitstudy.scripting import logged
from digitstudy.summary import summary_markdown


def write_summary(choice_paths, grid_paths, seed_study, out_path):
    choices = [json.loads(open(path).read()) for path in choice_paths]
    grids = {(c["dataset"], c["model"]): pd.read_csv(path) for c, path in zip(choices, grid_paths)}
    write_text_atomic(out_path, summary_markdown(choices, grids, seed_study))


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    write_summary(choice_paths=list(snakemake.input.choices), grid_paths=list(snakemake.input.grids),
                  seed_study=snakemake.params.seed_study, out_path=snakemake.output[0])
