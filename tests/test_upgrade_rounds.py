"""A study finished by version 3.2.0 (layout 3: replicate 0 the chosen grid run, a fixed number of
replicates), then this workflow laid over it as `git pull` would: no upgrade command is asked for, and
the next `snakemake` keeps the data, the seed-study and grid runs and every replicate whose seed and
split the rounds plan too; it trains only the replicates the rounds add."""

import pandas as pd
import pytest

from helpers import copy_workflow, quick_config, snakemake
from test_rerun import planned_jobs
from test_upgrade import OLD_LIBRARY, extract_commit, lay_over, trained_files


pytestmark = pytest.mark.workflow
# The last main of 3.2.0, before the rounds.
LAYOUT_3 = "7bb6881"
# The quick study less three experiments (both datasets stay): mnist / ann and twodigit / lenet5.
SMALLER = ("config/quick.yaml", "config/two.yaml")
EXPERIMENTS = (("mnist", "ann"), ("twodigit", "lenet5"))


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory, mnist_dir):
    """(the study after this workflow's run over 3.2.0's study, 3.2.0's trained files, the jobs that ran)."""
    study = tmp_path_factory.mktemp("old") / "study"
    tracked = extract_commit(LAYOUT_3, study, ("workflow", "config", "slurm", "scripts"))
    (study / SMALLER[1]).write_text(
        "experiments: {mnist: {cnn: null, cnn_dropout: null}, twodigit: {cnn_dropout: null}}\n"
    )
    finished = snakemake(study, mnist_dir=mnist_dir, configfile=SMALLER, library=study / OLD_LIBRARY)
    assert finished.returncode == 0, finished.stderr[-3000:]
    before = trained_files(study)
    lay_over(copy_workflow(tmp_path_factory.mktemp("new") / "workflow"), study, tracked)
    rerun = snakemake(study, mnist_dir=mnist_dir, configfile=SMALLER)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    return study, before, planned_jobs(rerun)


def test_nothing_that_exists_trains_again_and_only_the_new_replicates_train(upgraded):
    study, before, ran = upgraded
    first = quick_config()["confirm"]["first"]
    trained = {
        (job.wildcards["dataset"], job.wildcards["model"], job.wildcards["split"])
        for job in ran
        if job.rule == "train_run"
    }
    # 3.2.0 trained replicate 1 (split 1) besides the grid run; round 1 adds replicates 2 to `first`.
    assert trained == {(dataset, model, f"_split{i}") for dataset, model in EXPERIMENTS for i in range(2, first + 1)}
    built = {
        (job.wildcards["dataset"], job.wildcards["split"]) for job in ran if job.rule in ("prepare_idx", "make_pairs")
    }
    assert built == {(dataset, f"_split{i}") for dataset, _ in EXPERIMENTS for i in range(2, first + 1)}
    after = trained_files(study)
    assert {path: after[path] for path in before} == before  # not one byte of a run or data file rewritten


def test_the_grid_run_leaves_the_replicates_and_the_old_replicate_stays(upgraded):
    study, _, _ = upgraded
    for dataset, model in EXPERIMENTS:
        replicates = pd.read_csv(study / "results" / "tables" / dataset / "replicates.csv")
        assert list(replicates["replicate"]) == list(range(1, len(replicates) + 1))
        assert list(replicates["split_seed"]) == list(range(1, len(replicates) + 1))
        assert (replicates["seed"] == replicates["split_seed"] + 1).all()
