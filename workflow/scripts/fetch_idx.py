"""Rule fetch_idx: a declared base dataset's four IDX files, verified against its declared checksums."""

from pathlib import Path

from digitstudy.fetch import fetch_dataset
from digitstudy.scripting import logged
from digitstudy.study import dataset_source


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    fetch_dataset(
        name=snakemake.wildcards.dataset,
        # Where the files come from (folder, mirrors) is read from the config, not a rule parameter:
        # the same bytes from elsewhere rerun nothing.
        idx=snakemake.config["datasets"][snakemake.wildcards.dataset]["idx"],
        folder=dataset_source(snakemake.config, snakemake.wildcards.dataset),
        out_dir=Path(snakemake.output[0]).parent,
        log=log,
    )
