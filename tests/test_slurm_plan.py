"""The checks before the first sbatch, on fake jobs, group jobs and partitions (no Slurm needed; the
live Slurm is in test_slurm.py)."""

from types import SimpleNamespace

import pytest
from snakemake_interface_common.exceptions import WorkflowError

from digitstudy.slurm_limits import PartitionLimits
from digitstudy.slurm_plan import (
    account_required,
    chosen_partition,
    enforces_associations,
    first_misfit,
    group_caps,
    plugin_account,
    plugin_default_partition,
    plugin_partitions,
    prepare_slurm,
    site_problems,
    slurm_asks,
    slurm_jobs,
)
from test_slurm_limits import fake_site


class FakeJob:
    """A job as the plugin sees one (resources, threads, rule, name)."""

    def __init__(self, rule, threads=1, wildcards=None, **resources):
        self.rule, self.name, self.threads = SimpleNamespace(name=rule), rule, threads
        self.resources, self.wildcards = resources, wildcards or {}


class FakeGroup:
    """A group job: its members run side by side up to `threads` CPUs, one after another in time."""

    def __init__(self, groupid, jobs, threads, too_large=False, **resources):
        self.groupid, self.name, self.jobs, self.threads = groupid, groupid, frozenset(jobs), threads
        self.too_large, self.own_resources = too_large, resources

    @property
    def resources(self):
        if self.too_large:
            raise WorkflowError(f"Error grouping resources in group '{self.groupid}'")
        return self.own_resources


class FakeRun:
    """What snakemake_internals.SnakemakeRun offers, for a run of `jobs` in `groups`."""

    def __init__(self, jobs, groups=(), cores=4, mem_mb=None, partition_config=None):
        self.planned, self.groups, self.limits = jobs, groups, (cores, mem_mb)
        self.settings = SimpleNamespace(partition_config=partition_config)

    def jobs(self):
        return self.planned

    def executor_settings(self):
        return self.settings

    def group_limits(self):
        return self.limits

    def set_group_limits(self, cores, mem_mb):
        self.limits = (cores, mem_mb)

    def group_jobs(self):
        return self.groups

    @staticmethod
    def group_name(group):
        return "train_{dataset}_{model}"

    @staticmethod
    def wildcards(job):
        return job.wildcards


DEBUG = PartitionLimits("debug", cpus=2, mem_mb=24000, gpus=0, max_minutes=None)
SHORT = PartitionLimits("short", cpus=16, mem_mb=64000, gpus=4, max_minutes=30)
LIMITS = {None: DEBUG, "debug": DEBUG, "short": SHORT}


def train(seed, **resources):
    return FakeJob(
        "train_run", threads=1, wildcards={"dataset": "mnist", "seed": seed}, **{"mem_mb": 2000, **resources}
    )


def no_site_problems(jobs, partition_of):
    return []


# --- what a job asks for ------------------------------------------------------------------------------


def test_a_job_asks_for_what_the_plugin_submits():
    job = FakeJob("train_run", threads=2, mem_mb=3000, runtime=20)
    assert slurm_asks(job) == {"cpus": 2, "mem_mb": 3000, "gpus": 0, "runtime": 20}
    # --cpus-per-task over threads; --mem-per-cpu over mem_mb
    job = FakeJob("r", threads=2, cpus_per_task=4, mem_mb_per_cpu=1000, mem_mb=9)
    assert slurm_asks(job) == {"cpus": 4, "mem_mb": 4000, "gpus": 0, "runtime": 0}
    # --cpus-per-gpu times the GPUs; GPUs from `gpu` or from `gres`
    assert slurm_asks(FakeJob("r", gpu=2, cpus_per_gpu=3))["cpus"] == 6
    assert slurm_asks(FakeJob("r", gres="gpu:a100:2"))["gpus"] == 2


def test_a_job_goes_to_its_partition_else_the_partition_files_best_fit_else_the_default(tmp_path):
    assert plugin_partitions(SimpleNamespace(partition_config=None), environ={}) is None
    assert chosen_partition(FakeJob("r"), None) is None
    assert chosen_partition(FakeJob("r", slurm_partition="short"), None) == "short"
    config = tmp_path / "partitions.yaml"
    config.write_text("partitions:\n  small: {max_mem_mb: 4000, max_runtime: 60}\n  large: {max_mem_mb: 64000}\n")
    for settings, environ in [(config, {}), (None, {"SNAKEMAKE_SLURM_PARTITIONS": str(config)})]:
        partitions = plugin_partitions(SimpleNamespace(partition_config=settings), environ=environ)
        assert [partition.name for partition in partitions] == ["small", "large"]
    assert chosen_partition(FakeJob("r", mem_mb=3000, runtime=30), partitions) == "small"
    assert chosen_partition(FakeJob("r", mem_mb=8000, runtime=30), partitions) == "large"
    assert chosen_partition(FakeJob("r", mem_mb=99000), partitions) is None  # the plugin falls back to the default
    assert chosen_partition(FakeJob("r", mem_mb=99000, slurm_partition="huge"), partitions) == "huge"


# --- the site ----------------------------------------------------------------------------------------


def fake_slurm(**outputs):
    """A run function that answers commands by their first word, and scontrol show partition as fake_site."""
    return lambda command: fake_site(command) if command[1:3] == ["show", "partition"] else outputs.get(command[0])


def problems(
    jobs, default="debug", guess=None, partition_of=lambda job: job.resources.get("slurm_partition"), **outputs
):
    return site_problems(
        jobs, partition_of, run=fake_slurm(**outputs), user="u", default=lambda: default, guess=lambda: guess
    )


def test_a_site_with_a_default_partition_and_no_account_enforcement_needs_no_settings():
    assert problems([train(1)], scontrol="AccountingStorageEnforce = none\n") == []
    assert problems([train(1)]) == []  # a site that does not answer


def test_a_site_without_default_partition_needs_one_for_jobs_that_name_none():
    (problem,) = problems([train(1), train(2, slurm_partition="short")], default="")
    assert "no default partition" in problem and "slurm_partition" in problem and "debug, short" in problem
    assert problems([train(1, slurm_partition="short")], default="") == []
    # the plugin's partition file gives every job a partition
    assert problems([train(1)], default="", partition_of=lambda job: "short") == []


def test_a_site_enforcing_accounts_needs_one_unless_the_user_has_a_default_or_the_plugin_guesses_one():
    site = {"scontrol": "AccountingStorageEnforce = associations,limits\n"}
    (problem,) = problems([train(1)], sacctmgr="\n", **site)
    assert "requires an account" in problem and "slurm_account" in problem
    assert problems([train(1)], sacctmgr="proj\n", **site) == []
    assert problems([train(1)], sacctmgr="\n", guess="proj", **site) == []
    assert problems([train(1, slurm_account="proj")], sacctmgr="\n", **site) == []


def test_association_enforcement_is_read_from_scontrol():
    assert enforces_associations("AccountingStorageEnforce = associations,limits,qos\n")
    assert not enforces_associations("AccountingStorageEnforce = none\nAccountingStorageType = x\n")
    assert not enforces_associations("ClusterName = digitstudy\n")
    assert not account_required(run=lambda command: None)


def test_without_slurm_commands_the_plugin_knows_no_default_partition_and_guesses_no_account(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert plugin_default_partition() is None and plugin_account() is None


# --- group jobs and partitions ----------------------------------------------------------------------


def test_groups_are_capped_at_the_smallest_partitions_largest_node():
    cores, mem_mb, note = group_caps([DEBUG, SHORT], cores=4, mem_mb=None)
    assert (cores, mem_mb) == (2, 24000)
    assert note.startswith(
        "Slurm: a group job asks for at most 2 CPUs, what the largest node of partition debug, short"
    )
    assert group_caps([SHORT], cores=4, mem_mb=8000) == (4, 8000, None)
    assert group_caps([SHORT], cores=None, mem_mb=None)[:2] == (16, 64000)


def test_every_group_job_and_every_job_outside_a_group_is_one_slurm_job():
    grouped, alone, large = train(1), FakeJob("make_tables"), train(3)
    groups = [
        FakeGroup("train_mnist_ann", [grouped], threads=2, mem_mb=4000, runtime=60, slurm_partition="short"),
        FakeGroup("train_mnist_cnn", [large], threads=2, too_large=True),
    ]
    found = slurm_jobs(
        [grouped, alone, large],
        groups,
        lambda job: job.resources.get("slurm_partition"),
        FakeRun.group_name,
        FakeRun.wildcards,
    )
    assert [(job.label, job.partition) for job in found] == [
        ("group job train_mnist_ann (1 jobs)", "short"),
        ("make_tables", None),
        ("train_run (dataset=mnist, seed=3)", None),  # its group is larger than any node: named on its own
    ]
    assert found[0].asks == {"cpus": 2, "mem_mb": 4000, "gpus": 0, "runtime": 60}
    assert "--group-components train_{dataset}_{model}=N" in found[0].remedy
    assert "--set-resources train_run:mem_mb=N" in found[2].remedy and "--retries 3" in found[2].remedy


def test_the_first_job_no_node_can_run_is_named_in_one_line():
    found = slurm_jobs(
        [train(1), train(2, gpu=1, runtime=40)],
        [],
        lambda job: job.resources.get("slurm_partition"),
        None,
        FakeRun.wildcards,
    )
    assert first_misfit(found[:1], LIMITS.get) is None
    message = first_misfit(found, LIMITS.get)
    assert message.startswith(
        "Slurm: train_run (dataset=mnist, seed=2) cannot start in partition debug: it asks for 1 GPU(s), the "
        "nodes have 0. Change it with --set-resources train_run:mem_mb=N"
    )
    assert "\n" not in message
    assert first_misfit(found, lambda partition: None) is None  # a site that does not answer


# --- the whole check ---------------------------------------------------------------------------------


def prepare(run, limits=LIMITS, site=no_site_problems):
    read = []
    notes = prepare_slurm(
        run, environ={}, read_limits=lambda partition: read.append(partition) or limits.get(partition), site=site
    )
    return notes, read


def test_a_run_that_fits_caps_its_groups_and_says_so():
    run = FakeRun([train(1), train(2)], [FakeGroup("train_mnist_ann", [], threads=2, mem_mb=4000)], cores=4)
    notes, read = prepare(run)
    assert run.limits == (2, 24000)
    assert len(notes) == 1 and "at most 2 CPUs" in notes[0]
    assert read == [None]  # each partition read once
    assert prepare(FakeRun([]))[0] == []


def test_a_group_longer_than_its_partitions_maxtime_stops_the_run():
    members = [train(seed, slurm_partition="short", runtime=20) for seed in (1, 2, 3)]
    group = FakeGroup("train_mnist_ann", members, threads=2, mem_mb=6000, runtime=60, slurm_partition="short")
    with pytest.raises(WorkflowError) as stopped:
        prepare(FakeRun(members, [group]))
    assert str(stopped.value).startswith(
        "Slurm: group job train_mnist_ann (3 jobs) cannot start in partition short: it asks for 60 minutes, the "
        "partition's MaxTime is 30. Put fewer jobs in one Slurm job (--group-components train_{dataset}_{model}=N"
    )


def test_a_site_problem_stops_the_run_before_any_partition_is_read():
    site = lambda jobs, partition_of: ["this cluster has no default partition", "an account"]  # noqa: E731
    with pytest.raises(WorkflowError, match="^Slurm: this cluster has no default partition; an account$"):
        prepare(FakeRun([train(1)]), site=site)


def test_a_site_that_does_not_answer_is_not_checked_further():
    run = FakeRun([train(1, mem_mb=10**9)], cores=4)
    assert prepare(run, limits={}) == ([], [None])
    assert run.limits == (4, None)
