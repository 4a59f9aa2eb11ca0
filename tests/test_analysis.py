"""Error analysis, the comparison of a task's models, cost and problem runs, the tables' forms and the
summary's findings, on hand-made predictions and runs."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from digitstudy.aggregate import choose, learned, seed_table, seed_test_errors
from digitstudy.compare import CHOSEN_UNITS, PAIRWISE_UNITS, chosen_models_table, pairwise_table
from digitstudy.confirm import VARIANCE_UNITS, decisions_record, variance_table, variance_view
from digitstudy.costs import COST_UNITS, cost_table, problem_runs_table, read_benchmark, run_costs
from digitstudy.datasets import read_splits, write_splits
from digitstudy.error_analysis import class_error_table, confusion, digit_pair_table, worst_predictions
from digitstudy.links import linked_files
from digitstudy.models import build_model
from digitstudy.paths import TRAIN_BENCHMARK, named_run_path
from digitstudy.predictions import chosen_model_path, predict_test
from digitstudy.reportpage import without_links
from digitstudy.summary import findings, not_learned_note
from digitstudy.tables import number_text, shown_table
from digitstudy.training import evaluate, on_device, to_tensor_split
from helpers import learnable_split, predictions


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
    shown = shown_table(table.reset_index(), CHOSEN_UNITS).set_index("model")
    assert shown.loc["ann", ["test errors", "test error (%)", "seed test mean (%)"]].tolist() == ["100", "5.00", "5.03"]


IMAGES = 2000
SETTINGS = {"first": 5, "step": 5, "max": 20, "alpha": 0.05, "delta": 0.5}


def wrong_of(errors, images=IMAGES, seed=0):
    """A model's replicates x test images, True where wrong: replicate i wrong on round(errors[i] * images)
    images drawn by a seeded generator (each replicate errs on images of its own)."""
    rng = np.random.default_rng(seed)
    wrong = np.zeros((len(errors), images), dtype=bool)
    for row, error in zip(wrong, errors):
        row[rng.permutation(images)[: round(error * images)]] = True
    return wrong


def replicates_of(wrong_by_model, dataset="mnist"):
    """A task's replicates table (confirm.replicates_table) of these replicates x images per model."""
    return pd.DataFrame(
        [
            {
                "dataset": dataset,
                "model": model,
                "replicate": index,
                "round": 1,
                "seed": 1 + index,
                "split_seed": index,
                "lr": 0.1,
                "momentum": 0.5,
                "status": "ok",
                "train_error": 0.0,
                "valid_error": row.mean(),
                "test_error": row.mean(),
                "learned": True,
            }
            for model, wrong in wrong_by_model.items()
            for index, row in enumerate(wrong, 1)
        ]
    )


def compared(errors_by_model, frames, settings=SETTINGS):
    """(pairwise table, decisions, replicates, wrong) of a task whose replicates have these test errors."""
    wrong = {model: wrong_of(errors, seed=index) for index, (model, errors) in enumerate(errors_by_model.items())}
    named = {model: ([f"run{i}" for i in range(len(matrix))], matrix) for model, matrix in wrong.items()}
    decisions = decisions_record("mnist", 1, named, settings)
    replicates = replicates_of(wrong)
    return pairwise_table("mnist", decisions, frames, replicates), decisions, replicates, wrong


CLEAR = {"ann": [0.050, 0.052, 0.049, 0.051, 0.053], "cnn": [0.020, 0.021, 0.019, 0.022, 0.023]}


def test_a_clear_difference_is_decided_with_the_winner_named_and_the_same_pairs_described():
    _, frames, _ = task()
    table, decisions, _, wrong = compared(CLEAR, frames)
    row = table.iloc[0]
    assert (row["decision"], row["round"], row["replicates"]) == ("b", 1, 5)
    assert row["difference_low"] > 0  # ann - cnn: cnn better
    assert row["difference"] == pytest.approx(wrong["ann"].mean() - wrong["cnn"].mean())
    # Means, difference and wins come from the same five pairs of replicates.
    assert row["replicate_mean_a"] - row["replicate_mean_b"] == pytest.approx(row["difference"])
    assert (row["a_wins"], row["b_wins"], row["ties"]) == (0, 5, 0)
    assert row["p_a_beats_b"] == 0 and row["p_a_beats_b_high"] == pytest.approx(1 - 0.025 ** (1 / 5))
    assert row["verdict"].startswith("**cnn is better than ann** (decided in round 1): ann - cnn = 3.00 points")
    assert "which holds jointly over the rounds and the task's one comparison" in row["verdict"]
    assert row["description"].startswith("cnn was better in 5 of 5")
    assert "the two chosen grid runs alone (two trained networks, not part of the verdict)" in row["description"]
    # Markdown and HTML: fractions in percent, differences in points, counts whole, p-values in words.
    shown = shown_table(table, PAIRWISE_UNITS).iloc[0]
    assert shown["replicate mean a (%)"] == f"{100 * wrong['ann'].mean():.2f}"
    assert (shown["p a beats b (%)"], shown["difference (points)"], shown["b wins"]) == ("0.00", "3.00", "5")
    assert shown["mcnemar p value"].startswith("p ")


def test_an_open_pair_asks_for_another_round_and_at_the_budget_is_not_decided_with_its_floor():
    _, frames, _ = task(wrong_a=50, wrong_b=50)
    close = {"ann": [0.050, 0.030, 0.041, 0.060, 0.045], "cnn": [0.045, 0.040, 0.038, 0.052, 0.047]}
    table, decisions, _, _ = compared(close, frames)
    assert table.iloc[0]["decision"] is None and decisions["next"] == ["ann", "cnn"]
    budget = {**SETTINGS, "max": 5}
    table, decisions, _, _ = compared(close, frames, budget)
    row = table.iloc[0]
    assert row["decision"] == "not decided" and decisions["next"] == []
    # The floor is the half-width the test images alone would leave: below the interval's own.
    assert 0 < row["difference_floor"] < (row["difference_high"] - row["difference_low"]) / 2
    assert row["verdict"].startswith("**not decided within the budget of 5 replicates** (the test set alone allows")
    assert row["difference_floor"] > 0 and row["difference_low"] < 0 < row["difference_high"]


def test_equal_models_are_declared_equal_within_delta():
    _, frames, _ = task(wrong_a=50, wrong_b=50)
    same = {"ann": [0.030] * 5, "cnn": [0.030] * 5}
    wide = {**SETTINGS, "delta": 3.0}
    row = compared(same, frames, wide)[0].iloc[0]
    assert row["decision"] == "equal" and -0.03 < row["difference_low"] < row["difference_high"] < 0.03
    assert row["verdict"].startswith("**ann and cnn are equal within 3 points** (decided in round 1)")
    assert row["description"].startswith("ann was better in 0 of 5, 5 tied") or row["ties"] < 5


def test_the_variance_table_sets_the_replicates_spread_beside_the_seeds():
    wrong = {"ann": wrong_of([0.05, 0.06, 0.055]), "cnn": wrong_of([0.02, 0.02, 0.02], seed=1)}
    replicates = replicates_of(wrong)
    table = variance_table("mnist", replicates, wrong, {"ann": [0.05, 0.051], "cnn": [0.02, 0.03]}).set_index("model")
    assert table.loc["ann", "n"] == 3 and table.loc["ann", "test_error_mean"] == pytest.approx(0.055)
    ratio = np.std([0.05, 0.06, 0.055], ddof=1) / np.std([0.05, 0.051], ddof=1)
    assert table.loc["ann", "sd_ratio"] == pytest.approx(ratio)
    # No spread over cnn's replicates bounds nothing, and its interval still holds the test images' sampling.
    assert table.loc["cnn", "test_error_sd"] == 0 and math.isnan(table.loc["cnn", "sd_ratio"])
    assert table.loc["cnn", "test_error_low"] < 0.02 < table.loc["cnn", "test_error_high"]
    assert table.loc["cnn", "test_error_se_images"] > 0
    assert 0 <= table.loc["ann", "test_error_low"] and (table.loc["ann", "learned"], table.loc["ann", "n"]) == (3, 3)
    shown = shown_table(variance_view(table.reset_index()), VARIANCE_UNITS).set_index("model")
    assert shown.loc["ann", ["n", "learned", "test error mean (%)"]].tolist() == ["3", "3 of 3", "5.50"]
    assert shown.loc["ann", "sd ratio"] == number_text(ratio, 2) and shown.loc["cnn", "sd ratio"] == "-"


def test_a_run_within_the_margin_of_chance_did_not_learn():
    runs = pd.DataFrame(
        {"status": ["ok", "ok", "diverged"], "valid_error": [0.50, 0.82, 0.3], "chance_error": [0.9, 0.9, 0.9]}
    )
    assert list(learned(runs)) == [True, False, False]


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


def run_benchmarks(runs, seconds, cpu):
    """A benchmark file for each run, where paths.TRAIN_BENCHMARK puts it (in the current folder)."""
    for row in runs.itertuples():
        benchmark(Path(named_run_path(TRAIN_BENCHMARK, row.dataset, row.model, row.run)), seconds, cpu)


def test_costs_add_up_per_experiment_and_count_what_early_stopping_saved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runs = study_runs()
    run_benchmarks(runs, 450, 440)
    costs = run_costs(runs)
    assert list(costs["saved_seconds"]) == [0, 0, 300.0]  # 30 epochs left at 10 s each
    table = cost_table(costs, [benchmark(tmp_path / "data.tsv", 36, 36)]).set_index("part")
    assert table.loc["mnist / ann", "cpu_hours"] == pytest.approx(3 * 440 / 3600)
    assert table.loc["whole study", "cpu_hours"] == pytest.approx((3 * 440 + 36) / 3600)
    assert table.loc["whole study", "saved_hours"] == pytest.approx(300 / 3600)
    assert table["runs"].tolist() == [3, 0, 3] and table["diverged"].dtype == int  # counts stay whole
    shown = shown_table(table.reset_index(), COST_UNITS).set_index("part")
    assert shown.loc["whole study"].tolist() == ["3", "1", "0.39", "0.38", "0.083"]  # hours: two digits
    path = named_run_path(TRAIN_BENCHMARK, "mnist", "ann", "seed1_lr0.01_mom0.9")
    assert path == "benchmarks/train/mnist/ann/seed1_lr0.01_mom0.9.tsv"
    assert read_benchmark(path) == {"seconds": 450.0, "cpu_seconds": 440.0}


def test_problem_runs_list_diverged_and_far_worse_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runs = study_runs()
    run_benchmarks(runs, 1, 1)
    table = problem_runs_table(run_costs(runs), {("mnist", "ann"): 0.02})
    assert list(table["problem"]) == ["far worse", "diverged: chance level"]
    assert list(table["lr"]) == [0.1, 0.5]


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


def test_summary_links_and_report_form():
    links = linked_files([("mnist", "ann"), ("twodigit", "lenet5")], ["twodigit"])
    assert "results/tables/twodigit/lenet5/digit_pairs.md" in links
    assert "results/tables/mnist/ann/digit_pairs.md" not in links
    assert "results/plots/comparison.png" in links and "results/tables/mnist/chosen.md" in links
    assert (
        without_links("see [the grid](tables/grid.md) and ![x](a.png)")
        == "see the grid and (figure: see the report's study section)"
    )


def seed_study_record(gap):
    return {
        "n_ok": "3/3 ok",
        "gap_mean": gap,
        "gap_sd": 0.002,
        "gap_min": gap - 0.002,
        "gap_max": gap + 0.002,
        "best_epoch_mean": 30.0,
        "epochs_completed_mean": 40.0,
        "valid_error_mean": 0.03,
        "best_valid_error_mean": 0.028,
    }


def test_findings_rest_on_the_replicates_and_name_what_did_not_learn(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    choices, frames, _ = task()
    for choice, gap in zip(choices, (0.01, -0.004)):
        choice["seed_study"] = seed_study_record(gap)
    table, _, replicates, wrong = compared(CLEAR, frames)
    variance = {"mnist": variance_table("mnist", replicates, wrong, {"ann": [0.05, 0.051], "cnn": [0.02, 0.03]})}
    paired = {"mnist": table}
    costs = pd.DataFrame(
        [{"part": "whole study", "runs": 3, "diverged": 1, "wall_hours": 2.0, "cpu_hours": 1.5, "saved_hours": 0.25}]
    )
    runs = study_runs().assign(chance_error=0.887)
    run_benchmarks(runs, 1, 1)
    problems = problem_runs_table(run_costs(runs), {("mnist", "ann"): 0.02})
    items = findings(choices, variance, paired, runs, problems, costs)
    assert items[0].startswith("**mnist**: the best model is **cnn** (lr 0.1, momentum 0.5), better than every other")
    assert "with test error 2.10% over 5 replicates (95% interval" in items[0]
    assert "ann vs cnn: **cnn is better than ann** (decided in round 1)" in items[0]
    assert items[1].startswith("**What the split adds** (test-error sd over the replicates, which vary seed and")
    ann, cnn = (variance["mnist"].set_index("model").loc[model] for model in ("ann", "cnn"))
    assert ann["sd_ratio_low"] < 1 < ann["sd_ratio_high"] and cnn["sd_ratio_high"] < 1  # replicates 5, seeds 2
    ratios = [
        number_text(row[column], 2) for row in (ann, cnn) for column in ("sd_ratio", "sd_ratio_low", "sd_ratio_high")
    ]
    assert items[1].endswith(
        "mnist / ann {} ({} to {}); mnist / cnn {} ({} to {}): the spread over the replicates is smaller for mnist / "
        "cnn; the other intervals hold 1.".format(*ratios)
    )
    assert items[2].startswith("**Runs that did not learn** (final validation error within 10 points of chance")
    assert "1 of 3 runs; mnist / ann: 1 of 3 (seed1_lr0.5_mom0.9)" in items[2]
    assert "mnist / ann's, 1.00" in items[3] and "Other positive gaps (points): none" in items[3]
    assert "1 of 3 runs diverged (1 chance level) and 1 more" in items[-1] and "72.00% validation error" in items[-1]
    assert "0.25 hours" in items[-1]


def test_a_task_of_one_model_says_the_only_model_and_no_gap_means_no_overfitting_finding(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    choices, frames, _ = task()
    choices = choices[:1]
    choices[0]["seed_study"] = seed_study_record(-0.01)
    table, _, replicates, wrong = compared({"ann": CLEAR["ann"]}, frames)
    variance = {"mnist": variance_table("mnist", replicates, wrong, {"ann": [0.05, 0.051]})}
    paired = {"mnist": table}
    costs = pd.DataFrame([{"part": "whole study", "runs": 1, "cpu_hours": 1.0, "wall_hours": 1.0, "saved_hours": 0}])
    runs = study_runs().iloc[:1].assign(chance_error=0.887)
    run_benchmarks(runs, 1, 1)
    problems = problem_runs_table(run_costs(runs), {("mnist", "ann"): 0.02})
    items = findings(choices, variance, paired, runs, problems, costs)
    assert items[0].startswith("**mnist**: the only model, **ann** (lr 0.1, momentum 0.5), has test error 5.10")
    assert not any(item.startswith("**Over-fitting**") for item in items)
    assert items[1].endswith(
        ": every interval holds 1, so these runs cannot tell whether varying the split changes the spread."
    )
    assert items[2] == (
        "**Runs that did not learn** (final validation error within 10 points of chance, or diverged): none; "
        "every one of the 1 runs learned."
    )


def test_a_task_of_one_model_has_an_empty_pairwise_table_with_its_columns():
    _, frames, _ = task()
    table = compared({"ann": [0.05, 0.06]}, frames)[0]
    assert table.empty and "verdict" in table.columns and "mcnemar_p_value" in table.columns


def test_a_model_none_of_whose_replicates_learned_is_named_untrustworthy():
    variance = pd.DataFrame([{"model": "ann", "n": 5, "learned": 0}, {"model": "cnn", "n": 5, "learned": 2}])
    notes = [not_learned_note(row) for _, row in variance.iterrows()]
    assert notes[0].startswith(" None of its 5 replicates learned") and notes[1] == ""
