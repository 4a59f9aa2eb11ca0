# Before the first sbatch (onstart, in common.smk): the site's settings, and every job and group job
# against what its partition's nodes and limits offer. While the study runs: a watch on pending jobs.
# Nothing here runs without the slurm executor.

from digitstudy.cluster import slurm_settings_problems
from digitstudy.slurm_limits import misfit_message, misfits, partition_limits
from digitstudy.slurm_watch import PendingWatch


def on_slurm():
    return workflow.executor_plugin is not None and workflow.executor_plugin.name == "slurm"


def check_slurm_site(jobs):
    """Stop before the first sbatch when this Slurm site needs a partition or account that the
    profile does not set (the plugin would otherwise guess, and every submission fail)."""
    partition = all(job.resources.get("slurm_partition") for job in jobs)
    account = all(job.resources.get("slurm_account") for job in jobs)
    problems = slurm_settings_problems(partition, account)
    if problems:
        raise WorkflowError("Slurm: " + "; ".join(problems))


def slurm_asks(job):
    """What the plugin will ask Slurm for on behalf of a job or group job."""
    resources = job.resources
    return {
        "cpus": int(job.threads),
        "mem_mb": int(resources.get("mem_mb") or 0),
        "gpus": int(resources.get("gpu") or 0),
        "runtime": int(resources.get("runtime") or 0),
    }


def job_remedy(job):
    name = job.rule.name
    advice = f"Change it with --set-resources {name}:mem_mb=N, {name}:runtime=MINUTES"
    if name == "train_run":
        advice += " (a run stopped at its time limit resumes from its checkpoint: add --retries 3), training.threads"
    return advice + f", or another partition with --set-resources {name}:slurm_partition=NAME"


def group_remedy(group):
    name = next(iter(group.jobs)).rule.group
    return (
        f"Put fewer jobs in one Slurm job (--group-components {name}=N, or remove the group from "
        "slurm/config.yaml), give its jobs less time with --set-resources RULE:runtime=MINUTES, or "
        "another partition with --set-resources RULE:slurm_partition=NAME"
    )


def cap_group_size(limits):
    """A group job runs its members side by side up to the global `cores` and `mem_mb`: cap both at
    the smallest partition's largest node, so that no group asks for more than a node has."""
    cores, mem = workflow.global_resources["_cores"].value, workflow.global_resources.get("mem_mb")
    cpus, mem_mb = min(limit.cpus for limit in limits), min(limit.mem_mb for limit in limits)
    if cores is None or cores > cpus:
        workflow.global_resources["_cores"] = cpus
        print(
            f"Slurm: a group job asks for at most {cpus} CPUs, what the largest node of partition "
            f"{', '.join(sorted({limit.name for limit in limits}))} has (cores: {cores}); its other runs "
            "wait for a free CPU inside the allocation",
            file=sys.stderr,
        )
    if mem is None or mem.value is None or mem.value > mem_mb:
        workflow.global_resources["mem_mb"] = mem_mb


def slurm_units(jobs, limits):
    """(what the user reads as its name, what it asks, its partition's limits, the remedy) of every
    Slurm job to come: each group job, and each job outside a group."""
    partition_of = lambda job: limits[job.resources.get("slurm_partition") or None]
    units, grouped = [], set()
    # dag._group (job -> its group job) and a group job's cached _resources are internals of the
    # pinned Snakemake (9.27); no public call lists the group jobs before they are scheduled.
    for group in set(workflow.dag._group.values()):
        group._resources = None  # computed again under the caps of cap_group_size
        try:
            asks = slurm_asks(group)
        except WorkflowError:  # a member larger than any node: named on its own below
            continue
        grouped.update(group.jobs)
        label = f"group job {group.groupid} ({len(group.jobs)} jobs)"
        units.append((label, asks, partition_of(next(iter(group.jobs))), group_remedy(group)))
    for job in jobs:
        if job not in grouped:
            label = f"{job.rule.name} ({', '.join(f'{k}={v}' for k, v in job.wildcards_dict.items())})"
            units.append((label.replace(" ()", ""), slurm_asks(job), partition_of(job), job_remedy(job)))
    return units


def fit_slurm_partitions(jobs):
    """Size groups to the partitions' nodes, then stop with one line on the first Slurm job to come
    that no node of its partition can run."""
    limits = {}
    for job in jobs:
        partition = job.resources.get("slurm_partition") or None
        if partition not in limits:
            limits[partition] = partition_limits(partition)
    if None in limits.values():
        return  # a site whose scontrol or sinfo does not answer: the pending watch still guards
    cap_group_size(list(limits.values()))
    for label, asks, found, remedy in slurm_units(jobs, limits):
        problems = misfits(asks, found)
        if problems:
            raise WorkflowError(misfit_message(label, problems, found.name, remedy))


def prepare_slurm():
    """onstart under the slurm executor: site settings, partition fit, then the pending watch."""
    if not on_slurm():
        return None
    jobs = [job for job in workflow.dag.needrun_jobs() if not job.is_local]  # localrules stay here
    if not jobs:
        return None
    check_slurm_site(jobs)
    fit_slurm_partitions(jobs)
    return PendingWatch(Path.cwd()).start()
