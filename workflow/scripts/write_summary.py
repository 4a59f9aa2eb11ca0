"""Rule write_summary: results/summary.md (findings, best model per task, links to every table and
figure), and the same as HTML for `snakemake --report`, whose start page shows the findings."""

import pandas as pd

from digitstudy.files import read_json, write_text_atomic
from digitstudy.scripting import logged
from digitstudy.summary import summary_markdown, without_links
from digitstudy.tables import markdown_fragment, markdown_html


def read_by_task(paths):
    """{dataset: table} of results/tables/{dataset}/<name>.csv files."""
    return {path.split("/")[-2]: pd.read_csv(path) for path in paths}


def write_summary(inputs, study, pairs_datasets, outputs):
    choices = [read_json(path) for path in inputs.choices]
    grids = {(c["dataset"], c["model"]): pd.read_csv(path) for c, path in zip(choices, inputs.grids)}
    text = summary_markdown(
        choices,
        grids,
        read_by_task(inputs.chosen),
        read_by_task(inputs.pairwise),
        pd.read_csv(inputs.problems),
        pd.read_csv(inputs.cost),
        study,
        pairs_datasets,
    )
    write_text_atomic(outputs.markdown, text)
    write_text_atomic(outputs.html, markdown_html(without_links(text), "digitstudy results"))
    write_text_atomic(outputs.findings, markdown_fragment(without_links(text)))


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    write_summary(
        inputs=snakemake.input,
        study=snakemake.params.study,
        pairs_datasets=snakemake.params.pairs_datasets,
        outputs=snakemake.output,
    )
