"""Rule plot_comparison: the chosen models of the two tasks side by side."""

import json

from digitstudy.plots import comparison, save
from digitstudy.scripting import logged

# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    choices = [json.loads(open(path).read()) for path in snakemake.input]
    save(comparison(choices), snakemake.output[0], snakemake.params.dpi)
