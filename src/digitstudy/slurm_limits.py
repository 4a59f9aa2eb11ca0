"""What a Slurm partition can run, and whether a job fits it, read before the first sbatch.

A job that asks for more than any node of its partition has, or for longer than the partition's
MaxTime, is accepted by sbatch and then pends for ever (reason PartitionConfig, PartitionTimeLimit).
"""

import re
from dataclasses import dataclass

from .process import run_command
from .snakemake_internals import scontrol_partitions


@dataclass(frozen=True)
class PartitionLimits:
    name: str
    cpus: int  # the most CPUs a job can get on one node (MaxCPUsPerNode applied)
    mem_mb: int  # the most memory a job can get on one node (MaxMemPerNode applied)
    gpus: int  # the most GPUs of one node
    max_minutes: int | None  # MaxTime; None: unlimited


def slurm_minutes(text):
    """Slurm's time ([days-]hours:minutes:seconds, minutes:seconds, minutes) in whole minutes, rounded
    down; None for UNLIMITED / infinite."""
    # Not the plugin's parse_time_to_minutes: it reads "M:S" as hours:minutes (for its partition
    # file) and rounds up, where a limit must round down.
    text = text.strip()
    if text.lower() in ("unlimited", "infinite", "none", ""):
        return None
    days, _, clock = text.rpartition("-")
    parts = [int(part) for part in clock.split(":")]
    if "-" in text:  # days-hours[:minutes[:seconds]]
        parts += [0] * (3 - len(parts))
        hours, minutes, seconds = parts
    elif len(parts) == 3:
        hours, minutes, seconds = parts
    elif len(parts) == 2:
        hours, (minutes, seconds) = 0, parts
    else:
        hours, minutes, seconds = 0, parts[0], 0
    return (int(days or 0) * 24 + hours) * 60 + minutes + seconds // 60


def gpu_count(gres):
    """GPUs in a node's GRES string, e.g. 'gpu:a100:4(S:0-1),shard:8' -> 4; '(null)' -> 0."""
    return sum(int(count) for count in re.findall(r"(?:^|,)gpu(?::[^:,(]+)?:(\d+)", gres))


def slurm_partitions(partition=None, run=run_command):
    """{name: fields of `scontrol show partition`} of `partition` (None: of every partition), read
    by the slurm plugin's own parser; {} where Slurm cannot say."""
    shown = run(["scontrol", "show", "partition", *([partition] if partition else [])])
    return scontrol_partitions(shown) if shown else {}


def limited(value, limit):
    """`value` capped by a Slurm limit that may read UNLIMITED."""
    return min(value, int(limit)) if limit and limit.isdigit() else value


def partition_limits(partition, run=run_command):
    """The PartitionLimits of `partition` (None: the default one), or None where Slurm cannot say."""
    # Per node, from sinfo: the plugin's limits from scontrol (generate-slurm-partition-config)
    # average the CPUs over the nodes, take the partition's GPU total and know no node memory.
    shown = slurm_partitions(partition, run)
    name = partition or next((name for name, fields in shown.items() if fields.get("Default") == "YES"), None)
    if name not in shown:
        return None
    fields = shown[name]
    nodes = run(["sinfo", "-h", "-N", "-p", name, "-o", "%c|%m|%G"])
    rows = [line.split("|") for line in (nodes or "").splitlines() if line.count("|") == 2]
    if not rows:
        return None
    return PartitionLimits(
        name=name,
        cpus=limited(max(int(cpus.rstrip("+")) for cpus, _, _ in rows), fields.get("MaxCPUsPerNode")),
        mem_mb=limited(max(int(mem.rstrip("+")) for _, mem, _ in rows), fields.get("MaxMemPerNode")),
        gpus=max(gpu_count(gres) for _, _, gres in rows),
        max_minutes=slurm_minutes(fields.get("MaxTime", "UNLIMITED")),
    )


def misfits(asks, limits):
    """'what is asked > what is offered' for each request of a job that no node of the partition
    can meet; asks: {'cpus', 'mem_mb', 'gpus', 'runtime'} (runtime in minutes)."""
    problems = []
    if asks["cpus"] > limits.cpus:
        problems.append(f"{asks['cpus']} CPUs, the largest node has {limits.cpus}")
    if asks["mem_mb"] > limits.mem_mb:
        problems.append(f"{asks['mem_mb']} MB of memory, the largest node has {limits.mem_mb} MB")
    if asks["gpus"] > limits.gpus:
        problems.append(f"{asks['gpus']} GPU(s), the nodes have {limits.gpus}")
    if limits.max_minutes is not None and asks["runtime"] > limits.max_minutes:
        problems.append(f"{asks['runtime']} minutes, the partition's MaxTime is {limits.max_minutes}")
    return problems


def misfit_message(job_name, problems, partition, remedy):
    """One line: the job, what it asks against what partition offers, and the option to change."""
    return f"Slurm: {job_name} cannot start in partition {partition}: it asks for {'; '.join(problems)}. {remedy}"
