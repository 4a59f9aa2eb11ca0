"""Rule plot_comparison: the chosen models of every task side by side, test errors with intervals."""

import pandas as pd

from digitstudy.plots import comparison, save
from digitstudy.scripting import logged


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    chosen = pd.concat([pd.read_csv(path) for path in snakemake.input], ignore_index=True)
    rows = chosen.astype(object).where(chosen.notna(), None).to_dict("records")
    save(comparison(rows), snakemake.output[0], snakemake.params.dpi)
