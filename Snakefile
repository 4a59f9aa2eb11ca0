# digitstudy: a reproducible deep-learning study on MNIST and two-digit sums.
#
# Path scheme (one path segment per wildcard; logs/ and benchmarks/ mirror it):
#   data/raw/{dataset}/<IDX file>                      a base dataset's verified, decompressed IDX files
#   data/processed/{dataset}.h5                        train / valid / test splits
#   results/runs/{dataset}/{model}/seed{seed}_lr{lr}_mom{momentum}/
#       history.csv  metrics.json  model.pt            one training run
#   results/tables/{dataset}/{model}/                  seed-study and grid tables, the chosen run
#   results/plots/...                                  learning curves, grids, weights, comparison
#   results/predictions/{dataset}/{model}/test.csv     the chosen run's prediction per test image
#   results/tables/{dataset}/{chosen,paired}.*         a task's chosen models with intervals, paired tests
#   results/tables/{cost,problem_runs}.*               compute; diverged and far-worse runs
#   results/runs.csv, results/summary.md               every run; the findings, best model per task
#   results/report/                                    the summary as HTML for snakemake --report
#   logs/tensorboard/{dataset}/{model}/seed..._lr..._mom.../   a run's TensorBoard events (not outputs)

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


# `snakemake --report results/report.html` opens on the findings (results/report/findings.html).
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/slurm.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/summary.smk"


rule all:
    input:
        rules.write_summary.output,
        rules.collect_runs.output,
