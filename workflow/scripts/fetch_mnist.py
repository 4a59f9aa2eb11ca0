"""Rule fetch_mnist: the four MNIST IDX files, verified against the genuine release's checksums."""

import os

from digitstudy.mnist import acquire
from digitstudy.scripting import logged
from digitstudy.study import mnist_source


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    # The source is deliberately not a rule parameter: the files are verified to be the same bytes
    # wherever they come from, so switching between a local folder and the download reruns nothing.
    source = mnist_source(snakemake.config)
    log(f"MNIST from {source or 'the internet (torchvision downloader)'}")
    sums = acquire(source, out_dir=os.path.dirname(snakemake.output[0]))
    for name, digest in sums.items():
        log(f"verified {name} {digest}")
