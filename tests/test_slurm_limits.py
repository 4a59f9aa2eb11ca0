"""Partition limits read from scontrol and sinfo, jobs measured against them, and the pending watch,
against recorded Slurm output (the live Slurm is in test_slurm.py)."""

import pytest

from digitstudy.slurm_limits import (
    PartitionLimits,
    gpu_count,
    misfits,
    partition_limits,
    slurm_minutes,
    slurm_partitions,
)
from digitstudy.slurm_watch import SQUEUE_FORMAT, PendingWatch, never_starts, pending_jobs, squeue_command


# `scontrol show partition` as Slurm prints it (abridged).
SCONTROL = """PartitionName=debug
   AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL
   AllocNodes=ALL Default=YES QoS=N/A
   MaxNodes=UNLIMITED MaxTime=UNLIMITED MinNodes=0 LLN=NO MaxCPUsPerNode=UNLIMITED
   Nodes=vm
   State=UP TotalCPUs=2 TotalNodes=1 SelectTypeParameters=NONE
   DefMemPerNode=UNLIMITED MaxMemPerNode=UNLIMITED
   TRES=cpu=2,mem=24105M,node=1,billing=2

PartitionName=short
   AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL
   AllocNodes=ALL Default=NO QoS=N/A
   MaxNodes=UNLIMITED MaxTime=00:30:00 MinNodes=0 LLN=NO MaxCPUsPerNode=16
   Nodes=big[1-2]
   State=UP TotalCPUs=96 TotalNodes=2 SelectTypeParameters=NONE
   DefMemPerNode=UNLIMITED MaxMemPerNode=64000
"""
NODES = {"debug": "2|24105|(null)\n", "short": "32|128000|gpu:a100:4(S:0-1)\n64+|256000|(null)\n"}


def fake_site(command):
    """Answers `scontrol show partition [NAME]` and `sinfo -N -p NAME` as a Slurm with SCONTROL's
    partitions does."""
    if command[:3] == ["scontrol", "show", "partition"]:
        if len(command) == 3:
            return SCONTROL
        shown = [part for part in SCONTROL.split("\n\n") if part.startswith(f"PartitionName={command[3]}\n")]
        return shown[0] if shown else None
    if command[0] == "sinfo":
        return NODES[command[command.index("-p") + 1]]
    return None


@pytest.mark.parametrize(
    "text, minutes",
    [
        ("UNLIMITED", None),
        ("infinite", None),
        ("00:30:00", 30),
        ("1:00", 1),
        ("30", 30),
        ("2:00:00", 120),
        ("1-00:00:00", 1440),
        ("2-12", 3600),
        ("1-02:03", 1563),
        ("0:59", 0),
    ],
)
def test_slurm_times_are_read_in_minutes(text, minutes):
    assert slurm_minutes(text) == minutes


def test_gpus_are_counted_from_gres():
    assert gpu_count("(null)") == 0
    assert gpu_count("gpu:4") == 4
    assert gpu_count("gpu:a100:4(S:0-1)") == 4
    assert gpu_count("gpu:a100:2,gpu:v100:1,shard:8") == 3


def test_the_default_partition_and_a_named_one():
    assert partition_limits(None, run=fake_site) == PartitionLimits("debug", 2, 24105, 0, None)
    # The largest node, capped by the partition's per-node maxima.
    assert partition_limits("short", run=fake_site) == PartitionLimits("short", 16, 64000, 4, 30)


def test_a_site_that_does_not_answer_has_no_limits():
    assert partition_limits(None, run=lambda command: None) is None
    assert partition_limits("gone", run=fake_site) is None


def test_partitions_are_read_with_the_plugins_parser():
    shown = slurm_partitions(run=fake_site)
    assert list(shown) == ["debug", "short"]
    assert shown["debug"]["Default"] == "YES" and shown["short"]["MaxTime"] == "00:30:00"
    assert slurm_partitions(run=lambda command: None) == {}


def test_a_job_that_fits_and_one_that_does_not():
    limits = PartitionLimits("debug", 2, 24105, 0, 60)
    assert misfits({"cpus": 2, "mem_mb": 24105, "gpus": 0, "runtime": 60}, limits) == []
    assert misfits({"cpus": 3, "mem_mb": 30000, "gpus": 1, "runtime": 61}, limits) == [
        "3 CPUs, the largest node has 2",
        "30000 MB of memory, the largest node has 24105 MB",
        "1 GPU(s), the nodes have 0",
        "61 minutes, the partition's MaxTime is 60",
    ]


def test_never_starting_reasons():
    assert "MaxTime" in never_starts("PartitionTimeLimit")
    assert never_starts("PartitionConfig")
    assert never_starts("QOSMaxCpuPerJobLimit") and never_starts("AssocMaxWallDurationPerJobLimit")
    for reason in ("Resources", "Priority", "Dependency", "QOSGrpCpuLimit", "PartitionDown", "None"):
        assert never_starts(reason) is None, reason


def test_only_this_runs_pending_jobs_are_watched():
    """squeue is asked for the run's jobs alone (by the name the plugin gives them); of those, the
    pending ones."""
    assert squeue_command("8d0c-run") == ["squeue", "-h", "--me", "--name", "8d0c-run", "-o", SQUEUE_FORMAT]
    squeue = "7|PENDING|PartitionTimeLimit|rule_train_run\n8|RUNNING|None|rule_make_tables\n"
    assert pending_jobs(squeue) == [("7", "PartitionTimeLimit", "rule_train_run")]


def test_the_watch_cancels_what_never_starts_and_says_why_the_rest_waits():
    commands, said = [], []
    squeue = "7|PENDING|PartitionTimeLimit|group_train_mnist_ann\n8|PENDING|Resources|rule_make_tables\n"

    def run(command):
        commands.append(command)
        return squeue if command[0] == "squeue" else ""

    watch = PendingWatch("8d0c-run", report_minutes=5, run=run, say=said.append)
    watch.check(now=0)
    assert commands[0] == squeue_command("8d0c-run")
    assert ["scancel", "7"] in commands and ["scancel", "8"] not in commands
    assert (
        said
        == watch.cancelled
        == [
            "Slurm job 7 (group_train_mnist_ann) can never start: PartitionTimeLimit (the job's time limit exceeds "
            "the partition's MaxTime); cancelled. Change what it asks with --set-resources or its partition, then "
            "run again."
        ]
    )
    watch.check(now=299)
    assert len(said) == 2  # job 7 again (squeue still lists it here); job 8 not yet 5 minutes
    watch.check(now=300)
    assert said[-1] == "Slurm job 8 (rule_make_tables) has waited 5 min to start; Slurm says: Resources"
    watch.check(now=400)
    assert sum("job 8" in line for line in said) == 1  # once per 5 minutes
