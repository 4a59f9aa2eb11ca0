"""Rule make_pairs: pairs of a base dataset's images side by side, labelled with the sum of their
classes, as HDF5 train / valid / test splits."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from pathlib import Path

from digitstudy.datasets import build_pairs, splits_line
from digitstudy.scripting import logged


with logged(snakemake.log[0]) as log:
    splits = build_pairs(
        raw_dir=Path(snakemake.input[0]).parent,
        out_path=snakemake.output[0],
        name=snakemake.wildcards.dataset,
        base=snakemake.params.base,
        sizes=snakemake.params.sizes,
        split_seed=snakemake.params.split_seed,
        test_seed=snakemake.params.test_seed,
        pair_seed=snakemake.params.pair_seed,
    )
    log(splits_line(snakemake.output[0], splits))
