"""The one module that reads Snakemake's internals: its version check, and its reads against the
installed Snakemake (a tiny workflow under the slurm executor that stops before any sbatch; no Slurm
needed)."""

import json
import re
import subprocess
import sys

import pytest
import snakemake

from digitstudy import snakemake_internals
from digitstudy.snakemake_internals import WRITTEN_FOR, dry_run, version_warning, warn_on_other_version
from helpers import project_pins


def test_the_version_written_for_says_nothing():
    assert version_warning("9.27.1") is None
    assert version_warning("9.27.0") is None and version_warning("9.27") is None


@pytest.mark.parametrize("found", ["9.28.0", "9.26.3", "10.0.0", "9.270.1"])
def test_another_version_is_named_in_one_line(found):
    warning = version_warning(found)
    assert "\n" not in warning
    assert f"Snakemake {found}" in warning and "Snakemake 9.27.x" in warning
    assert "the checks before the first sbatch (group sizes, jobs no node can run) may fail" in warning


def test_the_warning_comes_once_per_run(monkeypatch):
    monkeypatch.setattr(snakemake_internals, "WARNED", [])
    said = []
    warn_on_other_version("9.28.0", say=said.append)
    warn_on_other_version("9.28.0", say=said.append)
    assert said == [version_warning("9.28.0")]
    warn_on_other_version("9.27.1", say=said.append)
    assert len(said) == 1


def test_written_for_the_pinned_and_installed_snakemake():
    pinned = project_pins()["snakemake"]
    assert version_warning(pinned) is None and version_warning(snakemake.__version__) is None, WRITTEN_FOR


# onstart of a group of three jobs under the slurm executor: what SnakemakeRun reads, before and after
# lowering the group limits; then a stop, so that nothing is submitted.
SNAKEFILE = """
import json
import sys

from snakemake.exceptions import WorkflowError

from digitstudy.snakemake_internals import (
    SnakemakeRun,
    command_line_configfiles,
    replaces_workflow_config,
    slurm_executor,
)


rule all:
    input:
        expand("out/{{n}}.txt", n=[1, 2, 3]),


rule make:
    output:
        "out/{{n}}.txt",
    group:
        "g"
    resources:
        mem_mb=100,
        runtime=5,
    shell:
        "touch {{output}}"


onstart:
    run = SnakemakeRun(workflow)
    before = run.group_limits()
    (group,) = run.group_jobs()
    wide = group.threads, group.resources["mem_mb"]
    run.set_group_limits(1, 500)
    (group,) = run.group_jobs()
    found = dict(
        slurm=slurm_executor(workflow),
        jobs=len(run.jobs()),
        before=before,
        after=run.group_limits(),
        name=run.group_name(group),
        size=len(group.jobs),
        wide=wide,
        narrow=(group.threads, group.resources["mem_mb"], group.resources["runtime"]),
        wildcards=sorted(run.wildcards(next(iter(group.jobs)))),
        partition_config=run.executor_settings().partition_config,
        configfiles=[str(path) for path in command_line_configfiles(workflow)],
        replaces=replaces_workflow_config(workflow),
        run_id=run.slurm_run_id(),
    )
    print("INTERNALS " + json.dumps(found), file=sys.stderr)
    raise WorkflowError("stopped before sbatch")
"""


@pytest.mark.workflow
def test_the_internals_read_and_change_this_snakemakes_run(tmp_path):
    (tmp_path / "mine.yaml").write_text("key: value\n")
    (tmp_path / "Snakefile").write_text(SNAKEFILE.format())
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--executor", "slurm", "--jobs", "1", "--cores", "3"]
        + ["--group-components", "g=3", "--configfile", "mine.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "stopped before sbatch" in output, output[-3000:]
    (line,) = re.findall(r"^INTERNALS (.*)$", output, re.MULTILINE)
    (run_id,) = re.findall(r"SLURM run ID: (\S+)", output)  # the name the plugin gives every job it submits
    assert json.loads(line) == {
        "slurm": True,
        "jobs": 3,  # `all` runs here
        "before": [3, None],
        "after": [1, 500],
        "name": "g",
        "size": 3,
        "wide": [3, 300],  # three side by side
        "narrow": [1, 100, 15],  # one after another: the group's runtime adds up
        "wildcards": ["n"],
        "partition_config": None,
        "configfiles": [str(tmp_path / "mine.yaml")],  # absolute
        "replaces": False,
        "run_id": run_id,
    }
    assert "has been submitted" not in output and not (tmp_path / "out").exists()


def test_a_dry_run_is_told_from_the_command_line_while_the_snakefile_is_parsed():
    class Parsing:  # Snakemake 9 chooses its executor, the dry run one, after parsing
        dryrun = False

    for argv in (
        ["snakemake", "-n"],
        ["snakemake", "-np", "all"],
        ["snakemake", "--dry-run"],
        ["snakemake", "--dryrun"],
    ):
        assert dry_run(Parsing(), argv), argv
    for argv in (["snakemake", "--cores", "2"], ["snakemake", "--configfile", "config/quick.yaml", "-p"]):
        assert not dry_run(Parsing(), argv), argv
