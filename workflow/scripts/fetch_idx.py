"""Rule fetch_idx: a declared base dataset's four IDX files, verified against its declared checksums."""

from pathlib import Path

from digitstudy.fetch import acquire
from digitstudy.scripting import logged
from digitstudy.study import dataset_source, idx_source


def fetch_idx(config, dataset, out_dir, log):
    source = idx_source(config, dataset)
    folder = dataset_source(config, dataset)
    log(f"{source.label} from {folder or ', '.join(source.mirrors)}")
    for name, digest in acquire(folder, out_dir, source).items():
        log(f"verified {name} {digest}")


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    fetch_idx(snakemake.config, snakemake.wildcards.dataset, out_dir=Path(snakemake.output[0]).parent, log=log)
