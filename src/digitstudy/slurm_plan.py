"""Before the first sbatch: whether this Slurm site and its partitions can run every Slurm job to come.

The slurm executor plugin picks a job's partition and account only as it submits the job, and sbatch
accepts a job that no node can run, which then pends for ever. What the plugin decides comes from
its own functions (cpus and GPUs of a job, the partition file, the default partition, the guessed
account; snakemake_internals reads them, only when asked), so that the check agrees with what it will
submit; stopping before any sbatch, with one line naming the job, what it asks, what the partition
offers and the option to change, is ours. slurm.smk's start_slurm() runs prepare_slurm().
"""

import functools
import getpass
import os
from dataclasses import dataclass

from snakemake_interface_common.exceptions import WorkflowError

from .process import run_command
from .slurm_limits import misfit_message, misfits, partition_limits, slurm_partitions
from .snakemake_internals import (
    slurm_account_guess,
    slurm_best_partition,
    slurm_default_partition,
    slurm_job_cpus,
    slurm_job_gpus,
    slurm_partition_file,
)


def slurm_asks(job):
    """What the plugin will ask Slurm for on behalf of a job or group job (cpus, mem_mb, gpus,
    runtime in minutes)."""
    gpus = slurm_job_gpus(job)
    cpus, per = slurm_job_cpus(job)  # --cpus-per-task, or --cpus-per-gpu
    cpus *= max(gpus, 1) if per == "gpu" else 1
    resources = job.resources
    mem_mb = int(resources.get("mem_mb_per_cpu") or 0) * cpus or int(resources.get("mem_mb") or 0)
    return {"cpus": int(cpus), "mem_mb": mem_mb, "gpus": int(gpus), "runtime": int(resources.get("runtime") or 0)}


def plugin_partitions(settings, environ=os.environ):
    """The partitions of the plugin's partition file (--slurm-partition-config, else the file that
    SNAKEMAKE_SLURM_PARTITIONS names), read as the plugin reads it; None without one."""
    path = getattr(settings, "partition_config", None) or environ.get("SNAKEMAKE_SLURM_PARTITIONS")
    return slurm_partition_file(path) if path else None


def chosen_partition(job, partitions):
    """The partition the plugin submits `job` to: its slurm_partition, else the best fit of the
    partition file; None: the cluster's default partition."""
    named = job.resources.get("slurm_partition")
    if named or not partitions:
        return named or None
    return slurm_best_partition(partitions, job)


# --- the site: a partition and an account for jobs that name none ---------------------------------


def plugin_default_partition():
    """Where the plugin sends a job that names no partition: the cluster's default partition; ''
    when the cluster has none (the plugin then submits without one, and sbatch fails); None when
    sinfo does not answer."""
    try:
        return slurm_default_partition()
    except (WorkflowError, OSError):
        return None


def plugin_account():
    """The account the plugin guesses for a job that names none; None: it submits without one."""
    try:
        return slurm_account_guess() or None
    except OSError:
        return None


def enforces_associations(scontrol_config):
    """True when `scontrol show config` says every job must run under a valid account."""
    for line in scontrol_config.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "AccountingStorageEnforce":
            return "associations" in value.lower()
    return False


def account_required(run=run_command, user=None):
    """True when this site requires an account for every job and the user has no default one."""
    config = run(["scontrol", "show", "config"])
    if config is None or not enforces_associations(config):
        return False
    default = run(["sacctmgr", "-n", "-P", "show", "user", user or getpass.getuser(), "format=DefaultAccount"])
    return default is not None and not default.strip()


def site_problems(
    jobs, partition_of, run=run_command, user=None, default=plugin_default_partition, guess=plugin_account
):
    """Messages for each setting this Slurm site needs and the profile lacks; [] when all is well.

    partition_of: a job's partition as chosen_partition() gives it; default, guess: the plugin's
    default partition and account guess, replaceable in tests, as `run` (command -> stdout or None).
    """
    problems = []
    if any(partition_of(job) is None for job in jobs) and default() == "":
        problems.append(
            "this cluster has no default partition, so every job must name one. Set `slurm_partition` "
            "under `default-resources` in slurm/config.yaml to one of: "
            + ", ".join(sorted(slurm_partitions(run=run)))
            + " (or give the plugin a partition file, --slurm-partition-config, to choose from)"
        )
    if not all(job.resources.get("slurm_account") for job in jobs) and account_required(run, user) and not guess():
        problems.append(
            "this cluster requires an account for every job and you have no default account. Set "
            "`slurm_account` under `default-resources` in slurm/config.yaml (`sacctmgr show "
            "associations user=$USER` lists yours)"
        )
    return problems


# --- the Slurm jobs to come against their partitions' nodes -----------------------------------------


@dataclass(frozen=True)
class SlurmJob:
    """One Slurm job to come: how the user reads it, what it asks, its partition, the remedy."""

    label: str
    asks: dict
    partition: str | None
    remedy: str


def job_label(rule, wildcards):
    values = ", ".join(f"{key}={value}" for key, value in wildcards.items())
    return f"{rule} ({values})" if values else rule


def job_remedy(rule):
    advice = f"Change it with --set-resources {rule}:mem_mb=N, {rule}:runtime=MINUTES"
    if rule == "train_run":
        advice += " (a run stopped at its time limit resumes from its checkpoint: add --retries 3), training.threads"
    return advice + f", or another partition with --set-resources {rule}:slurm_partition=NAME"


def group_remedy(group):
    return (
        f"Put fewer jobs in one Slurm job (--group-components {group}=N, or remove the group from "
        "slurm/config.yaml), give its jobs less time with --set-resources RULE:runtime=MINUTES, or "
        "another partition with --set-resources RULE:slurm_partition=NAME"
    )


def group_caps(limits, cores, mem_mb):
    """(cores, mem_mb, note): the limits up to which a group job runs its members side by side,
    capped at the smallest partition's largest node so that no group asks for more than a node has;
    note says so when the cores are lowered (else None). None: no limit."""
    cpus, node_mb = min(limit.cpus for limit in limits), min(limit.mem_mb for limit in limits)
    note = None
    if cores is None or cores > cpus:
        note = (
            f"Slurm: a group job asks for at most {cpus} CPUs, what the largest node of partition "
            f"{', '.join(sorted({limit.name for limit in limits}))} has (cores: {cores}); its other runs "
            "wait for a free CPU inside the allocation"
        )
    return min(cores or cpus, cpus), min(mem_mb or node_mb, node_mb), note


def slurm_jobs(jobs, groups, partition_of, group_name, wildcards):
    """Every Slurm job to come: each group job, and each job outside a group.

    group_name(group): its name as --group-components knows it; wildcards(job): a dict.
    """
    found, grouped = [], set()
    for group in groups:
        try:
            asks = slurm_asks(group)
        except WorkflowError:  # a member larger than any node: named on its own below
            continue
        grouped.update(group.jobs)
        label = f"group job {group.groupid} ({len(group.jobs)} jobs)"
        found.append(SlurmJob(label, asks, partition_of(group), group_remedy(group_name(group))))
    for job in jobs:
        if job not in grouped:
            rule = job.rule.name
            found.append(
                SlurmJob(job_label(rule, wildcards(job)), slurm_asks(job), partition_of(job), job_remedy(rule))
            )
    return found


def first_misfit(jobs, limits_of):
    """The line on the first SlurmJob that no node of its partition can run; None when all fit.
    limits_of(partition): its PartitionLimits, None where Slurm cannot say (not checked)."""
    for job in jobs:
        limits = limits_of(job.partition)
        problems = misfits(job.asks, limits) if limits else []
        if problems:
            return misfit_message(job.label, problems, limits.name, job.remedy)
    return None


def prepare_slurm(run, environ=os.environ, read_limits=partition_limits, site=site_problems):
    """Check the site, size the group jobs to the partitions' nodes and check every Slurm job to
    come, before the first sbatch. run: a snakemake_internals.SnakemakeRun (or a fake of it).
    Raises WorkflowError with one line; returns the lines to say."""
    jobs = run.jobs()
    if not jobs:
        return []
    partitions = plugin_partitions(run.executor_settings(), environ)
    partition_of = functools.partial(chosen_partition, partitions=partitions)
    problems = site(jobs, partition_of)
    if problems:
        raise WorkflowError("Slurm: " + "; ".join(problems))
    limits_of = functools.cache(read_limits)
    limits = [limits_of(partition) for partition in {partition_of(job) for job in jobs}]
    if None in limits:
        return []  # a site whose scontrol or sinfo does not answer: the pending watch still guards
    cores, mem_mb, note = group_caps(limits, *run.group_limits())
    run.set_group_limits(cores, mem_mb)
    misfit = first_misfit(slurm_jobs(jobs, run.group_jobs(), partition_of, run.group_name, run.wildcards), limits_of)
    if misfit:
        raise WorkflowError(misfit)
    return [note] if note else []
