"""Rule fetch_idx: a declared base dataset's four IDX files, verified against its declared checksums."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from pathlib import Path

from digitstudy.fetch import fetch_dataset
from digitstudy.scripting import logged
from digitstudy.study import dataset_source


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
