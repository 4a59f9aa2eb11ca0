"""The upgrade's plan (digitstudy.upgrade) on a small study laid out on disk: which runs it marks done,
which it leaves to rerun and why, and which files it moves. The real upgrade of a real study, through
the command the workflow prints, is tests/test_upgrade.py."""

import copy

import pytest

from digitstudy.config import resolve_config
from digitstudy.datasets import build_base, build_pairs
from digitstudy.files import read_json, write_json_atomic
from digitstudy.paths import RAW_DIR, REPLICATE_PLAN, RUN_DIR, dataset_file, run_name, run_path
from digitstudy.upgrade import (
    Plan,
    apply_moves,
    complete_records,
    file_moves,
    obsolete_files,
    plan_lines,
    touch_command,
    upgrade_plan,
)
from helpers import run_settings, train_into, write_idx_dataset


SIZES = {"train": 150, "valid": 50, "test": 40}


def small_config(sha256):
    return resolve_config(
        {
            "study": "small",
            "data": {"n_train": 150, "n_valid": 50, "n_test": 40, "split_seed": 3},
            "training": {"epochs": 1, "chance_patience": 5},
            "datasets": {"tiny": {"idx": {"sha256": sha256}}, "tinypairs": {"pairs": "tiny", "seed": 9}},
            "experiments": {"tiny": {"ann": {"batch_size": 32}}, "tinypairs": {"ann": {"batch_size": 32}}},
            "seed_study": {"seeds": [1], "lr": 0.01, "momentum": 0.9},
            "grid": {"seed": 1, "lr": [0.01, 0.1], "momentum": [0.9]},
        }
    )


def build_study(folder):
    """Data and trained runs of small_config in `folder`, as the workflow lays them out."""
    config = small_config(write_idx_dataset(folder / RAW_DIR.format(dataset="tiny"), counts=(220, 60), suffix=""))
    raw = folder / RAW_DIR.format(dataset="tiny")
    build_base(raw, folder / dataset_file("tiny"), "tiny", SIZES, 3)
    build_pairs(raw, folder / dataset_file("tinypairs"), "tinypairs", "tiny", SIZES, 3, 9)
    for dataset in ("tiny", "tinypairs"):
        for seed, lr, momentum in ((1, 0.01, 0.9), (1, 0.1, 0.9)):
            settings = run_settings(model="ann", seed=seed, lr=lr, momentum=momentum, batch_size=32, epochs=1)
            out_dir = folder / run_path(RUN_DIR, dataset, "ann", (seed, lr, momentum))
            train_into(folder / dataset_file(dataset), out_dir, settings, lambda message: None, dataset=dataset)
            as_layout_2(out_dir / "metrics.json")
    return config


def as_layout_2(metrics):
    """A run's record as layouts 1 and 2 wrote it: without its run name and split seed."""
    record = read_json(metrics)
    write_json_atomic(metrics, {key: value for key, value in record.items() if key not in ("run", "split_seed")})


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    return folder, build_study(folder)


def test_an_unchanged_study_is_marked_done_whole(study):
    folder, config = study
    plan = upgrade_plan(1, config, folder)
    assert plan.changed == [] and plan.unchanged_runs == 4
    assert plan.targets[0] == "results/runs/tiny/ann/seed1_lr0.01_mom0.9/metrics.json"
    command = touch_command(plan, ["--configfile", "config/small.yaml"])
    assert command[:5] == ["snakemake", *plan.targets[:4]]
    assert command[5:] == [
        "--touch",
        "--cores",
        "1",
        "--allowed-rules",
        "fetch_idx",
        "prepare_idx",
        "make_pairs",
        "train_run",
        "--configfile",
        "config/small.yaml",
    ]
    assert plan_lines(plan) == [
        "4 trained runs unchanged: marked done with their data, nothing retrains",
        "4 run records completed with their run name and split seed",
    ]


def test_records_of_layout_2_gain_their_run_name_and_split_seed(tmp_path):
    config = build_study(tmp_path)
    plan = upgrade_plan(2, config, tmp_path)
    assert plan.records[1] == (
        "results/runs/tiny/ann/seed1_lr0.1_mom0.9/metrics.json",
        {"run": "seed1_lr0.1_mom0.9", "split_seed": 3},
    )
    complete_records(plan, tmp_path)
    record = read_json(tmp_path / plan.records[1][0])
    assert record["run"] == "seed1_lr0.1_mom0.9" and record["split_seed"] == 3 and record["model"] == "ann"
    assert upgrade_plan(2, config, tmp_path).records == []


def test_runs_whose_settings_changed_are_left_to_retrain(study):
    folder, config = study
    changed = copy.deepcopy(config)
    changed["experiments"]["tinypairs"]["ann"]["epochs"] = 2
    changed["grid"]["lr"] = [0.01, 0.2]
    plan = upgrade_plan(1, changed, folder)
    assert plan.changed == [
        "tiny/ann/seed1_lr0.2_mom0.9: not trained",
        "tinypairs/ann/seed1_lr0.01_mom0.9: trained with another epochs",
        "tinypairs/ann/seed1_lr0.2_mom0.9: not trained",
    ]
    assert plan.targets == ["results/runs/tiny/ann/seed1_lr0.01_mom0.9/metrics.json"]


def test_data_made_otherwise_leaves_its_runs_to_rerun(study):
    folder, config = study
    changed = copy.deepcopy(config)
    changed["datasets"]["tinypairs"]["seed"] = 10
    assert upgrade_plan(1, changed, folder).changed == [
        "tinypairs: data/processed/tinypairs.h5 was made with another pair_seed"
    ]
    changed["data"]["split_seed"] = 4
    assert [item.split(":")[0] for item in upgrade_plan(1, changed, folder).changed] == ["tiny", "tinypairs"]
    changed = copy.deepcopy(config)
    changed["datasets"]["tiny"]["idx"]["sha256"]["t10k-labels-idx1-ubyte"] = "0" * 64
    assert upgrade_plan(1, changed, folder).changed == [
        "tiny: data/raw/tiny/t10k-labels-idx1-ubyte is not the file datasets.tiny.idx.sha256 declares",
        "tinypairs: data/raw/tiny/t10k-labels-idx1-ubyte is not the file datasets.tiny.idx.sha256 declares",
    ]


def test_files_of_layout_1_move_to_their_new_names(tmp_path):
    for old in ("benchmarks/data/prepare_mnist.tsv", "logs/data/make_two_digit.log", "results/tables/tiny/paired.md"):
        (tmp_path / old).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / old).write_text(old)
    config = {"experiments": {"tiny": {"ann": {}}}, "datasets": {}}
    moves = file_moves(1, tmp_path)
    assert moves == [
        ("benchmarks/data/prepare_mnist.tsv", "benchmarks/data/mnist.tsv"),
        ("logs/data/make_two_digit.log", "logs/data/twodigit.log"),
    ]
    removals = obsolete_files(1, config, tmp_path)
    assert removals == ["results/tables/tiny/paired.md"]

    apply_moves(Plan(moves=moves, removals=removals), tmp_path)
    assert (tmp_path / "benchmarks/data/mnist.tsv").read_text() == "benchmarks/data/prepare_mnist.tsv"
    assert not (tmp_path / "benchmarks/data/prepare_mnist.tsv").exists()
    assert not (tmp_path / "results/tables/tiny/paired.md").exists()
    assert file_moves(2, tmp_path) == []


def test_the_replicates_a_plan_lists_are_checked_on_their_own_splits(tmp_path):
    """A study of layout 3 with a replicate plan: its trained replicate on split 4 (and that split's
    data) is marked done; one trained on another split's data, and one not trained, are not."""
    config = build_study(tmp_path)
    raw = tmp_path / RAW_DIR.format(dataset="tiny")
    replicates = [(2, 0.01, 0.9, 4), (3, 0.01, 0.9, 5), (4, 0.01, 0.9, 6)]
    write_json_atomic(
        tmp_path / REPLICATE_PLAN.format(dataset="tiny", model="ann"),
        {"runs": [list(run) for run in replicates], "names": [run_name(*run) for run in replicates]},
    )
    for split_seed in (4, 5):
        build_base(raw, tmp_path / dataset_file("tiny", split_seed), "tiny", SIZES, split_seed)
    for seed, lr, momentum, split_seed in replicates[:2]:
        settings = run_settings(model="ann", seed=seed, lr=lr, momentum=momentum, batch_size=32, epochs=1)
        out_dir = tmp_path / run_path(RUN_DIR, "tiny", "ann", (seed, lr, momentum, split_seed))
        train_into(tmp_path / dataset_file("tiny", 4), out_dir, settings, lambda message: None, dataset="tiny")
    plan = upgrade_plan(3, config, tmp_path)
    assert "results/runs/tiny/ann/seed2_lr0.01_mom0.9_split4/metrics.json" in plan.targets
    assert plan.unchanged_runs == 5
    assert plan.changed == ["tiny/ann/seed3_lr0.01_mom0.9_split5: trained on other data"]
