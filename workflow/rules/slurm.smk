# What a training job asks a cluster scheduler for (read by the slurm executor; slurm/config.yaml),
# and the Snakefile's Slurm handlers: start_slurm() before the first sbatch checks the site and every
# job against its partition's nodes (digitstudy.slurm_plan), then watches pending jobs;
# report_cancelled_jobs() repeats, on error, the jobs the watch cancelled. Neither does anything
# without the slurm executor.

import sys

from digitstudy.cluster import training_gpus, training_mem_mb, training_runtime_minutes
from digitstudy.snakemake_internals import SnakemakeRun, slurm_executor
from digitstudy.study import dataset_pixels, experiment_setting


def get_train_mem_mb(wildcards):
    data = config["data"]
    return training_mem_mb(dataset_pixels(config, wildcards.dataset), data["n_train"], data["n_valid"], data["n_test"])


def get_train_runtime(wildcards, threads):
    return training_runtime_minutes(
        wildcards.model,
        dataset_pixels(config, wildcards.dataset),
        experiment_setting(config, wildcards.dataset, wildcards.model, "epochs"),
        config["data"]["n_train"],
        config["data"]["n_valid"],
        threads=threads,
    )


TRAIN_GPUS = training_gpus(config["training"]["device"])

# The pending watch of this run (started by start_slurm), read again by report_cancelled_jobs.
PENDING_WATCH = None


def start_slurm():
    """onstart under the slurm executor: stop before any sbatch on a setting the site lacks or a job
    no node can run; then watch the pending jobs."""
    global PENDING_WATCH
    if not slurm_executor(workflow):
        return
    # Only under the slurm executor: a local run needs neither (snakemake_internals imports the plugin's
    # modules only when its Slurm functions run).
    from digitstudy.slurm_plan import prepare_slurm
    from digitstudy.slurm_watch import PendingWatch

    run = SnakemakeRun(workflow)
    for line in prepare_slurm(run):
        print(line, file=sys.stderr)
    PENDING_WATCH = PendingWatch(run.slurm_run_id()).start()


def report_cancelled_jobs():
    """onerror: the Slurm jobs the pending watch cancelled, again at the end, where a user looks."""
    if PENDING_WATCH is not None and PENDING_WATCH.cancelled:
        print("\n".join(PENDING_WATCH.cancelled), file=sys.stderr)
