"""Tables, the choice of a configuration, and the summary, on hand-made run records."""

import math

import pandas as pd
import pytest

from digitstudy.aggregate import (
    choice_record,
    choose,
    far_worse,
    grid_table,
    grid_view,
    runs_table,
    seed_summary_rows,
    seed_table,
    seed_view,
    write_runs_table,
)
from digitstudy.errors import DigitstudyError
from digitstudy.scripting import ERROR_PREFIX, logged
from digitstudy.summary import ranked_models
from digitstudy.tables import markdown_table


def run(lr, momentum, valid_error, test_error, valid_loss=0.1, status="ok", seed=1, train_error=0.01):
    return {
        "run": f"seed{seed}_lr{lr}_mom{momentum}",
        "seed": seed,
        "lr": lr,
        "momentum": momentum,
        "status": status,
        "reason": None if status == "ok" else "non-finite loss",
        "diverged_epoch": None if status == "ok" else 3,
        "train_error": train_error,
        "valid_error": valid_error,
        "test_error": test_error,
        "valid_loss": valid_loss,
        "test_loss": 0.1,
        "best_epoch": 4,
        "best_valid_error": valid_error,
        "epochs_completed": 5,
    }


def test_choice_is_made_on_validation_never_on_test():
    runs = pd.DataFrame(
        [run(0.01, 0.9, valid_error=0.020, test_error=0.030), run(0.1, 0.9, valid_error=0.025, test_error=0.010)]
    )
    assert choose(runs)["lr"] == 0.01


def test_ties_on_validation_error_go_to_the_lower_validation_loss():
    runs = pd.DataFrame([run(0.01, 0.9, 0.02, 0.02, valid_loss=0.09), run(0.1, 0.5, 0.02, 0.02, valid_loss=0.07)])
    assert choose(runs)["lr"] == 0.1


def test_diverged_runs_are_never_chosen_and_all_diverged_gives_none():
    runs = pd.DataFrame(
        [
            run(0.5, 0.9, math.nan, math.nan, status="diverged"),
            run(0.2, 0.9, 0.001, 0.5, status="diverged"),
            run(0.01, 0.0, 0.05, 0.05),
        ]
    )
    assert choose(runs)["lr"] == 0.01
    assert choose(runs[runs["status"] == "diverged"]) is None


def test_seed_table_mean_and_sd_skip_diverged_seeds():
    runs = pd.DataFrame(
        [
            run(0.01, 0.9, 0.02, 0.03, seed=1),
            run(0.01, 0.9, 0.04, 0.05, seed=2),
            run(0.01, 0.9, math.nan, math.nan, status="diverged", seed=3),
        ]
    )
    assert list(seed_table(runs)["seed"]) == [1, 2, 3]  # one row per seed, nothing else
    table = seed_summary_rows(seed_table(runs)).set_index("seed")
    assert table.loc["mean", "valid_error"] == pytest.approx(0.03)
    assert table.loc["sd", "valid_error"] == pytest.approx(0.0141421, rel=1e-4)
    assert (table.loc["min", "valid_error"], table.loc["max", "valid_error"]) == (0.02, 0.04)
    assert table.loc["mean", "status"] == "2/3 ok"


def test_seed_table_states_the_generalisation_gap_and_best_epoch():
    runs = pd.DataFrame(
        [run(0.01, 0.9, 0.05, 0.05, seed=1, train_error=0.01), run(0.01, 0.9, 0.04, 0.05, seed=2, train_error=0.03)]
    )
    assert seed_table(runs).set_index("seed").loc[1, "gap"] == pytest.approx(0.04)  # 0.05 valid - 0.01 train
    table = seed_view(seed_table(runs)).set_index("seed")
    assert table.loc["mean", "gap"] == pytest.approx(0.025)  # (0.04 + 0.01) / 2
    assert table.loc["mean", "best_epoch"] == 4 and table.loc["max", "epochs_completed"] == 5


def test_far_worse_flags_healthy_runs_far_above_the_chosen_one():
    runs = pd.DataFrame(
        [
            run(0.01, 0.9, 0.02, 0.02),
            run(0.1, 0.9, 0.72, 0.7),
            run(0.1, 0.5, 0.11, 0.1),
            run(0.5, 0.9, 0.9, 0.9, status="diverged"),
        ]
    )
    flags = list(far_worse(runs, choose(runs)["valid_error"]))
    assert flags == [False, True, False, False]  # 0.11 is not > 0.02 + 0.10
    assert not far_worse(runs, None).any()
    assert grid_table(runs, choose(runs))["far_worse"].sum() == 1


def test_grid_view_marks_diverged_cells_and_the_chosen_one():
    runs = pd.DataFrame(
        [
            run(0.01, 0.0, 0.03, 0.03),
            run(0.01, 0.9, 0.02, 0.02),
            run(0.5, 0.0, 0.04, 0.04),
            run(0.5, 0.9, math.nan, math.nan, status="diverged"),
        ]
    )
    view = grid_view(grid_table(runs, choose(runs))).set_index("lr")
    assert list(view.columns) == ["momentum 0", "momentum 0.9"]
    assert (view.loc[0.01, "momentum 0.9"], view.loc[0.5, "momentum 0.9"]) == ("2.00 **chosen**", "diverged (epoch 3)")
    text = markdown_table(grid_view(grid_table(runs, choose(runs))))
    assert "diverged (epoch 3)" in text
    assert "2.00 **chosen**" in text
    assert text.count("**chosen**") == 1


def choice(model, valid_error, valid_loss=0.1):
    seeds = seed_table(pd.DataFrame([run(0.01, 0.9, 0.03, 0.03, seed=1), run(0.01, 0.9, 0.04, 0.05, seed=2)]))
    chosen = pd.Series({**run(0.01, 0.9, valid_error, 0.5, valid_loss), "best_epoch": 4, "epochs_completed": 5})
    return choice_record("mnist", model, chosen, seeds)


def test_choice_record_carries_the_seed_study_spread():
    record = choice("ann", 0.03)
    assert record["seed_study"]["n_ok"] == "2/2 ok"
    assert record["seed_study"]["test_error_mean"] == pytest.approx(0.04)
    assert record["seed_study"]["test_error_min"] == 0.03 and record["seed_study"]["test_error_max"] == 0.05
    assert record["chosen"]["train_error"] == 0.01


def test_best_model_of_a_task_is_the_lowest_mean_validation_error_over_its_replicates():
    variance = pd.DataFrame(
        {
            "model": ["ann", "cnn", "lenet5"],
            "n": [5, 5, 0],
            "valid_error_mean": [0.03, 0.02, None],
            "test_error_mean": [0.001, 0.9, None],
        }
    )
    assert list(ranked_models(variance)["model"]) == ["cnn", "ann"]  # the test error never ranks


@pytest.mark.parametrize("text", ['{"run": "seed1_lr0.1_mom0.9", "final": {"train_lo', ""])
def test_a_damaged_run_record_ends_the_job_with_one_line_naming_it_and_how_to_train_it_again(tmp_path, text):
    """A metrics.json cut short (by hand, or empty from a full disk): one line in the job's log, no traceback."""
    damaged = tmp_path / "results/runs/mnist/ann/seed1_lr0.1_mom0.9/metrics.json"
    damaged.parent.mkdir(parents=True)
    damaged.write_text(text)
    with pytest.raises(DigitstudyError, match="damaged"):
        runs_table([damaged])
    log = tmp_path / "collect_runs.log"
    with pytest.raises(SystemExit), logged(log):
        write_runs_table([damaged], tmp_path / "runs.csv", tmp_path / "runs.html")
    (line,) = log.read_text().splitlines()
    assert line.startswith(f"{ERROR_PREFIX}{damaged}: damaged, not a run's record (")
    assert line.endswith(f"train its run again with `snakemake --forcerun {damaged}` (and your usual options)")
