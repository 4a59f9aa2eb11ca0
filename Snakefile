# digitstudy: a reproducible deep-learning study on MNIST and two-digit sums.
#
# Path scheme (one path segment per wildcard; logs/ and benchmarks/ mirror it):
#   data/raw/mnist/<IDX file>                          verified, decompressed MNIST
#   data/processed/{dataset}.h5                        train / valid / test splits
#   results/runs/{dataset}/{model}/seed{seed}_lr{lr}_mom{momentum}/
#       history.csv  metrics.json  model.pt            one training run
#   results/tables/{dataset}/{model}/                  seed-study and grid tables, the chosen run
#   results/plots/...                                  learning curves, grids, weights, comparison
#   results/runs.csv, results/summary.md               every run; the best model per task

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"


rule all:
    input:
        "results/summary.md",
        "results/runs.csv",
