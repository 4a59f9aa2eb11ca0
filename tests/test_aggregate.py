"""Tables, the choice of a configuration, and the summary, on hand-made run records."""

import math

import pandas as pd
import pytest

from digitstudy.aggregate import choice_record, choose, grid_markdown, grid_table, seed_table
from digitstudy.summary import best_of_task, summary_markdown


def run(lr, momentum, valid_error, test_error, valid_loss=0.1, status="ok", seed=1):
    return {"run": f"seed{seed}_lr{lr}_mom{momentum}", "seed": seed, "lr": lr, "momentum": momentum,
            "status": status, "reason": None if status == "ok" else "non-finite loss",
            "diverged_epoch": None if status == "ok" else 3,
            "valid_error": valid_error, "test_error": test_error, "valid_loss": valid_loss, "test_loss": 0.1}


def test_choice_is_made_on_validation_never_on_test():
    runs = pd.DataFrame([run(0.01, 0.9, valid_error=0.020, test_error=0.030),
                         run(0.1, 0.9, valid_error=0.025, test_error=0.010)])
    assert choose(runs)["lr"] == 0.01


def test_ties_on_validation_error_go_to_the_lower_validation_loss():
    runs = pd.DataFrame([run(0.01, 0.9, 0.02, 0.02, valid_loss=0.09),
                         run(0.1, 0.5, 0.02, 0.02, valid_loss=0.07)])
    assert choose(runs)["lr"] == 0.1


def test_diverged_runs_are_never_chosen_and_all_diverged_gives_none():
    runs = pd.DataFrame([run(0.5, 0.9, math.nan, math.nan, status="diverged"),
                         run(0.2, 0.9, 0.001, 0.5, status="diverged"),
                         run(0.01, 0.0, 0.05, 0.05)])
    assert choose(runs)["lr"] == 0.01
    assert choose(runs[runs["status"] == "diverged"]) is None


def test_seed_table_mean_and_sd_skip_diverged_seeds():
    runs = pd.DataFrame([run(0.01, 0.9, 0.02, 0.03, seed=1), run(0.01, 0.9, 0.04, 0.05, seed=2),
                         run(0.01, 0.9, math.nan, math.nan, status="diverged", seed=3)])
    table = seed_table(runs).set_index("seed")
    assert table.loc["mean", "valid_error"] == pytest.approx(0.03)
    assert table.loc["sd", "valid_error"] == pytest.approx(0.0141421, rel=1e-4)
    assert table.loc["mean", "status"] == "2/3 ok"


def test_grid_markdown_marks_diverged_cells_and_the_chosen_one():
    runs = pd.DataFrame([run(0.01, 0.0, 0.03, 0.03), run(0.01, 0.9, 0.02, 0.02),
                         run(0.5, 0.0, 0.04, 0.04), run(0.5, 0.9, math.nan, math.nan, status="diverged")])
    text = grid_markdown(grid_table(runs, choose(runs)))
    assert "diverged (epoch 3)" in text
    assert "2.00 **chosen**" in text
    assert text.count("**chosen**") == 1


def choice(model, valid_error, valid_loss=0.1):
    seeds = pd.DataFrame([{"seed": "mean", "status": "5/5 ok", "valid_error": 0.03, "test_error": 0.03,
                           "valid_loss": 0.1, "test_loss": 0.1},
                          {"seed": "sd", "status": "", "valid_error": 0.002, "test_error": 0.002,
                           "valid_loss": 0.01, "test_loss": 0.01}])
    chosen = pd.Series({**run(0.01, 0.9, valid_error, 0.5, valid_loss), "best_epoch": 4, "epochs_completed": 5})
    return choice_record("mnist", model, chosen, seeds)


def test_best_model_of_a_task_is_chosen_by_validation():
    choices = [choice("ann", 0.03), choice("cnn", 0.02), choice("cnn_dropout", 0.02, valid_loss=0.05)]
    assert best_of_task(choices)["model"] == "cnn_dropout"
    grids = {("mnist", c["model"]): pd.DataFrame({"status": ["ok", "diverged"]}) for c in choices}
    text = summary_markdown(choices, grids, {"seeds": [1, 2], "lr": 0.01, "momentum": 0.9, "grid_seed": 1})
    assert "**Best model: cnn_dropout**" in text
    assert "| ann | lr 0.01, momentum 0.9 | 3.00 | 50.00 | 3.00 ± 0.20 |" in text
    assert "1/2 |" in text
