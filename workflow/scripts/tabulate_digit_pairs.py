"""Rule tabulate_digit_pairs: the digit pairs whose two-digit test images the chosen run gets wrong most."""

import pandas as pd

from digitstudy.error_analysis import digit_pair_table
from digitstudy.scripting import logged
from digitstudy.tables import write_table


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    experiment = f"{snakemake.wildcards.dataset} / {snakemake.wildcards.model}"
    pairs = digit_pair_table(pd.read_csv(snakemake.input[0]))
    write_table(
        pairs,
        *snakemake.output,
        f"{experiment}: digit pairs most often wrong (test)",
        "Test images by their (left, right) digits, ranked by the chosen run's errors; the sum it "
        "predicted most often for the misclassified ones.",
    )
    log(f"{len(pairs)} pairs listed")
