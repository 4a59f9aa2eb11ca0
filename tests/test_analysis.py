"""Error analysis, the comparison of a task's models, cost and problem runs, the tables' forms and the
summary's findings, on hand-made predictions and runs."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from digitstudy.aggregate import choose, seed_table
from digitstudy.compare import chosen_models_table, pairwise_table, seed_test_errors
from digitstudy.costs import cost_table, problem_runs_table, read_benchmark, run_costs
from digitstudy.datasets import read_splits, write_splits
from digitstudy.error_analysis import class_error_table, confusion, digit_pair_table, worst_predictions
from digitstudy.models import build_model
from digitstudy.predictions import chosen_model_path, predict_test
from digitstudy.summary import best_of_task, findings, linked_files, without_links
from digitstudy.tables import shown_table, table_html
from digitstudy.training import evaluate, on_device, to_tensor_split
from helpers import learnable_split


def predictions(labels, predicted, digits=None):
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    frame = pd.DataFrame(
        {
            "index": np.arange(len(labels)),
            "label": labels,
            "prediction": predicted,
            "correct": (labels == predicted).astype(int),
            "p_label": np.linspace(0.1, 0.9, len(labels)),
            "p_prediction": 0.9,
        }
    )
    if digits is not None:
        frame["digit_left"], frame["digit_right"] = np.asarray(digits).T
    return frame


def test_class_errors_and_confusion_count_each_true_class():
    frame = predictions([0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 2, 2])
    table = class_error_table(frame, n_classes=4).set_index("class")
    assert list(table["n"]) == [2, 3, 1, 0] and list(table["errors"]) == [1, 1, 0, 0]
    assert table.loc[1, "error"] == pytest.approx(1 / 3)
    assert table.loc[0, "low"] < 0.5 < table.loc[0, "high"]
    assert np.isnan(table.loc[3, "error"])  # no test image of class 3: no error, no interval
    assert confusion(frame, 3).tolist() == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]


def test_digit_pairs_rank_the_pairs_most_often_wrong():
    digits = [(5, 6), (5, 6), (5, 6), (9, 9), (1, 2), (1, 2)]
    frame = predictions([11, 11, 11, 18, 3, 3], [2, 2, 11, 17, 3, 4], digits)
    table = digit_pair_table(frame)
    assert list(zip(table["digit_left"], table["digit_right"])) == [(5, 6), (9, 9), (1, 2)]
    first = table.iloc[0]
    assert (first["sum"], first["n"], first["errors"], first["most_common_prediction"]) == (11, 3, 2, 2)


def test_worst_predictions_are_the_wrong_ones_least_sure_of_their_label():
    frame = predictions([0, 1, 2, 3], [1, 1, 0, 0])
    assert list(worst_predictions(frame)["index"]) == [0, 2, 3]  # p_label rises with the index


def seeds_of(test_errors):
    return seed_table(
        pd.DataFrame(
            [
                {
                    "run": f"s{seed}",
                    "seed": seed,
                    "status": "ok",
                    "train_error": 0.0,
                    "valid_error": error,
                    "test_error": error,
                    "valid_loss": 0.1,
                    "test_loss": 0.1,
                    "best_epoch": 1,
                    "best_valid_error": error,
                    "epochs_completed": 1,
                }
                for seed, error in enumerate(test_errors, 1)
            ]
        )
    )


def task(n=2000, wrong_a=100, wrong_b=40):
    """Two models on the same n test images: a wrong on the first wrong_a, b on the first wrong_b."""
    labels = np.zeros(n, dtype=int)
    frames = {
        model: predictions(labels, np.where(np.arange(n) < wrong, 1, 0))
        for model, wrong in (("ann", wrong_a), ("cnn", wrong_b))
    }
    choices = [
        {
            "dataset": "mnist",
            "model": model,
            "chosen": {"lr": 0.1, "momentum": 0.5, "valid_error": error, "valid_loss": 0.1, "seed": 1},
        }
        for model, error in (("ann", 0.05), ("cnn", 0.02))
    ]
    seeds = {
        "ann": seed_test_errors(seeds_of([0.050, 0.052, 0.049])),
        "cnn": seed_test_errors(seeds_of([0.020, 0.021, 0.019])),
    }
    return choices, frames, seeds


def test_chosen_models_table_gives_test_errors_with_exact_intervals():
    choices, frames, seeds = task()
    table = chosen_models_table(choices, frames, seeds).set_index("model")
    assert table.loc["ann", "test_errors"] == 100 and table.loc["ann", "test_error"] == 0.05
    assert table.loc["ann", "low"] < 0.05 < table.loc["ann", "high"]
    assert table.loc["cnn", "seed_test_mean"] == pytest.approx(0.02)
    assert table.loc["cnn", "experiment"] == "mnist / cnn"


def test_paired_comparison_says_which_model_is_better_and_why():
    choices, frames, seeds = task()
    row = pairwise_table("mnist", ["ann", "cnn"], frames, seeds).iloc[0]
    assert (row["only_a_wrong"], row["only_b_wrong"]) == (60, 0)
    assert row["difference"] == pytest.approx(0.03) and row["low"] > 0
    assert row["mcnemar_p_value"] < 1e-10 and row["welch_p_value"] < 0.01
    assert row["verdict"].startswith("cnn errs on fewer test images than ann")
    assert "larger than the seed-to-seed spread" in row["verdict"]
    same = pairwise_table("mnist", ["ann", "cnn"], *task(wrong_a=50, wrong_b=50)[1:]).iloc[0]
    assert same["verdict"].startswith("no difference beyond chance")


def test_the_seed_study_says_why_it_cannot_test_a_difference():
    _, frames, _ = task()
    verdicts = {
        cause: pairwise_table("mnist", ["ann", "cnn"], frames, seeds).iloc[0]["verdict"]
        for cause, seeds in (
            ("one seed", {"ann": pd.Series([0.05]), "cnn": pd.Series([0.02, 0.03])}),
            ("no spread", {"ann": pd.Series([0.0, 0.0]), "cnn": pd.Series([0.0, 0.0])}),
        )
    }
    assert verdicts["one seed"].endswith("the seed study cannot test it (fewer than two healthy seeds per model)")
    assert verdicts["no spread"].endswith(
        "the seed study cannot test it (every seed of both models has the same test error)"
    )


def benchmark(path, seconds, cpu):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"s\th:m:s\tmax_rss\tcpu_time\n{seconds}\t0:00:01\t100\t{cpu}\n")
    return str(path)


def study_runs():
    base = {"dataset": "mnist", "model": "ann", "seed": 1, "momentum": 0.9, "epochs": 40, "reason": None}
    return pd.DataFrame(
        [
            {
                **base,
                "run": "seed1_lr0.01_mom0.9",
                "lr": 0.01,
                "status": "ok",
                "valid_error": 0.02,
                "epochs_completed": 40,
                "wall_seconds": 400.0,
            },
            {
                **base,
                "run": "seed1_lr0.1_mom0.9",
                "lr": 0.1,
                "status": "ok",
                "valid_error": 0.72,
                "epochs_completed": 40,
                "wall_seconds": 400.0,
            },
            {
                **base,
                "run": "seed1_lr0.5_mom0.9",
                "lr": 0.5,
                "status": "diverged",
                "valid_error": 0.9,
                "reason": "validation error at chance level (0.887) for 5 epochs",
                "epochs_completed": 10,
                "wall_seconds": 100.0,
            },
        ]
    )


def test_costs_add_up_per_experiment_and_count_what_early_stopping_saved(tmp_path):
    runs = study_runs()
    paths = [benchmark(tmp_path / "train" / f"{index}.tsv", 450, 440) for index in range(len(runs))]
    costs = run_costs(runs, paths, [("mnist", "ann", run) for run in runs["run"]])
    assert list(costs["saved_seconds"]) == [0, 0, 300.0]  # 30 epochs left at 10 s each
    table = cost_table(costs, [benchmark(tmp_path / "data.tsv", 36, 36)]).set_index("part")
    assert table.loc["mnist / ann", "cpu_hours"] == pytest.approx(3 * 440 / 3600)
    assert table.loc["whole study", "cpu_hours"] == pytest.approx((3 * 440 + 36) / 3600)
    assert table.loc["whole study", "saved_hours"] == pytest.approx(300 / 3600)
    assert read_benchmark(paths[0]) == {"seconds": 450.0, "cpu_seconds": 440.0}


def test_problem_runs_list_diverged_and_far_worse_runs(tmp_path):
    runs = study_runs()
    paths = [benchmark(tmp_path / f"{index}.tsv", 1, 1) for index in range(len(runs))]
    costs = run_costs(runs, paths, [("mnist", "ann", run) for run in runs["run"]])
    table = problem_runs_table(costs, {("mnist", "ann"): 0.02})
    assert list(table["problem"]) == ["far worse", "diverged: chance level"]
    assert list(table["lr"]) == [0.1, 0.5]


def test_tables_show_percent_and_p_values_for_readers():
    frame = pd.DataFrame({"model": ["ann"], "test_error": [0.0123], "p_value": [0.0001], "test_errors": [123]})
    shown = shown_table(frame)
    assert list(shown.columns) == ["model", "test error (%)", "p value", "test errors"]
    assert list(shown.iloc[0]) == ["ann", "1.23", "p < 0.001", "123"]
    page = table_html(frame, "A title", "what it shows")
    assert '<th onclick="sortBy(this)">test error (%)</th>' in page and "filterRows" in page


def test_predictions_from_saved_weights_reproduce_the_evaluated_test_error(tmp_path):
    splits = {
        name: learnable_split(count, seed)
        for seed, (name, count) in enumerate((("train", 64), ("valid", 32), ("test", 300)))
    }
    data = tmp_path / "data.h5"
    write_splits(data, splits, n_classes=10, attributes={"dataset": "mnist"})
    torch.manual_seed(0)
    model = build_model("cnn", (1, 28, 28), 10)
    run_dir = tmp_path / "seed1_lr0.1_mom0.5"
    run_dir.mkdir()
    torch.save(model.state_dict(), run_dir / "model.pt")
    choice = {"model": "cnn", "chosen": {"run": "seed1_lr0.1_mom0.5"}}
    models = {"seed1_lr0.01_mom0.5": "elsewhere/model.pt", "seed1_lr0.1_mom0.5": str(run_dir / "model.pt")}
    assert chosen_model_path(choice, models) == str(run_dir / "model.pt")
    frame = predict_test(choice, models, data)
    read, attributes = read_splits(data, names=("test",))
    tensors = to_tensor_split(read["test"], float(attributes["pixel_mean"]), float(attributes["pixel_std"]), "cpu")
    assert 1 - frame["correct"].mean() == evaluate(on_device(model, "cpu"), tensors)["error"]
    assert len(frame) == 300 and (frame["p_prediction"] >= frame["p_label"]).all()
    assert predict_test({"model": "cnn", "chosen": None}, {}, data).empty


def test_no_choice_reads_a_test_value():
    """Perturb every test number at random: the chosen configuration and the best model stay."""
    rng = np.random.default_rng(0)
    runs = pd.DataFrame(
        [
            {
                "run": f"r{i}",
                "lr": lr,
                "momentum": m,
                "status": "ok",
                "valid_error": v,
                "valid_loss": 0.1 + v,
                "test_error": v,
                "test_loss": 0.1,
            }
            for i, (lr, m, v) in enumerate([(0.01, 0.0, 0.03), (0.1, 0.5, 0.02), (0.5, 0.9, 0.04)])
        ]
    )
    before = choose(runs)["run"]
    for _ in range(20):
        perturbed = runs.assign(test_error=rng.random(len(runs)), test_loss=rng.random(len(runs)) * 10)
        assert choose(perturbed)["run"] == before
    choices = [
        {"dataset": "mnist", "model": m, "chosen": {"valid_error": v, "valid_loss": 0.1, "test_error": t}}
        for m, v, t in (("ann", 0.03, 0.001), ("cnn", 0.02, 0.9))
    ]
    assert best_of_task(choices)["model"] == "cnn"


def test_summary_links_and_report_form():
    links = linked_files([("mnist", "ann"), ("twodigit", "lenet5")], ["twodigit"])
    assert "results/tables/twodigit/lenet5/digit_pairs.md" in links
    assert "results/tables/mnist/ann/digit_pairs.md" not in links
    assert "results/plots/comparison.png" in links and "results/tables/mnist/chosen.md" in links
    assert (
        without_links("see [the grid](tables/grid.md) and ![x](a.png)")
        == "see the grid and (figure: see the report's study section)"
    )


def test_findings_state_numbers_with_their_uncertainty():
    choices, frames, seeds = task()
    for choice in choices:
        choice["seed_study"] = json.loads(
            json.dumps(
                {
                    "n_ok": "3/3 ok",
                    "gap_mean": 0.01,
                    "gap_sd": 0.002,
                    "gap_min": 0.008,
                    "gap_max": 0.012,
                    "best_epoch_mean": 30.0,
                    "epochs_completed_mean": 40.0,
                    "valid_error_mean": 0.03,
                    "best_valid_error_mean": 0.028,
                }
            )
        )
    chosen = {"mnist": chosen_models_table(choices, frames, seeds)}
    paired = {"mnist": pairwise_table("mnist", ["ann", "cnn"], frames, seeds)}
    costs = pd.DataFrame(
        [{"part": "whole study", "runs": 3, "diverged": 1, "wall_hours": 2.0, "cpu_hours": 1.5, "saved_hours": 0.25}]
    )
    problems = problem_runs_table(
        run_costs(study_runs(), [], []).assign(seconds=1.0, cpu_seconds=1.0), {("mnist", "ann"): 0.02}
    )
    items = findings(choices, chosen, paired, problems, costs, total_runs=3)
    assert 3 <= len(items) <= 5
    assert "**cnn**, with test error 2.00% (95% interval" in items[0]
    assert "McNemar p < 0.001" in items[0]
    assert "1 of 3 runs diverged (1 chance level) and 1 more" in items[-1] and "72.00% validation error" in items[-1]
    assert "0.25 hours" in items[-1]


def test_a_task_of_one_model_has_an_empty_pairwise_table_with_its_columns():
    _, frames, seeds = task()
    table = pairwise_table("mnist", ["ann"], frames, seeds)
    assert table.empty and "verdict" in table.columns and "mcnemar_p_value" in table.columns
