"""A study finished by version 4.0.0 (layout 3: its library beside the rule scripts, no results
versions), then this workflow laid over it as `git pull` would: every command stops with one line
giving the upgrade command; that command, run as printed, marks every run done, the replicates of the
rounds included, and the next `snakemake` trains nothing and rebuilds no data."""

import pytest

from helpers import copy_workflow, snakemake, workflow_error
from test_rerun import planned_jobs
from test_upgrade import OLD_LIBRARY, extract_commit, lay_over, run_printed_command, trained_files


pytestmark = [pytest.mark.workflow, pytest.mark.slow]
# The last main of 4.0.0: replicates in rounds, the library in workflow/scripts.
VERSION_4 = "fa85fec"
# The quick study less three experiments (both datasets stay: mnist / ann and twodigit / lenet5), with
# one seed-study and grid run each: three runs an experiment with its two replicates.
SMALLER = ("config/quick.yaml", "config/two.yaml")
SMALLER_CONFIG = """\
experiments: {mnist: {cnn: null, cnn_dropout: null}, twodigit: {cnn_dropout: null}}
seed_study: {seeds: [1]}
grid: {lr: [0.01]}
"""
TRAINING_AND_DATA = {"train_run", "prepare_idx", "make_pairs", "fetch_idx"}


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory, mnist_dir):
    """(the study after the upgrade and the next run, 4.0.0's trained files, the line that stopped the
    first command, the jobs the next run ran)."""
    study = tmp_path_factory.mktemp("old") / "study"
    tracked = extract_commit(VERSION_4, study, ("workflow", "config", "slurm", "scripts"))
    (study / SMALLER[1]).write_text(SMALLER_CONFIG)
    finished = snakemake(study, mnist_dir=mnist_dir, configfile=SMALLER, library=study / OLD_LIBRARY)
    assert finished.returncode == 0, finished.stderr[-3000:]
    before = trained_files(study)
    lay_over(copy_workflow(tmp_path_factory.mktemp("new") / "workflow"), study, tracked)
    refused = snakemake(study, "--dry-run", mnist_dir=mnist_dir, configfile=SMALLER)
    assert refused.returncode == 1
    [line] = workflow_error(refused)
    done = run_printed_command(line, study, mnist_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    rerun = snakemake(study, mnist_dir=mnist_dir, configfile=SMALLER)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    return study, before, line, planned_jobs(rerun)


def test_one_line_names_the_upgrade(upgraded):
    _, _, line, _ = upgraded
    assert line.startswith("study error: results/study.yaml: this study was made by an earlier version")
    assert line.endswith("with: digitstudy-upgrade --configfile config/quick.yaml config/two.yaml")


def test_nothing_trains_again_and_no_data_is_rebuilt(upgraded):
    study, before, _, ran = upgraded
    assert not [job for job in ran if job.rule in TRAINING_AND_DATA], [job.rule for job in ran]
    assert any(job.rule == "write_summary" for job in ran)  # the tables and figures follow the new code
    after = trained_files(study)
    assert {path: after[path] for path in before} == before  # not one byte of a run or data file rewritten
    assert any("_split" in str(path) for path in before)  # the rounds' replicates are among them
