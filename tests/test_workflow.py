"""The real `snakemake` on config/quick.yaml, from raw MNIST to results/summary.md, in a temporary copy."""

import json
import re
import subprocess
import sys

import h5py
import pandas as pd
import pytest

from conftest import REPO
from helpers import copy_study, html_table, markdown_table, quick_config, snakemake


pytestmark = pytest.mark.workflow
QUICK = quick_config()
EXPERIMENTS = [(dataset, model) for dataset, models in QUICK["experiments"].items() for model in models]


@pytest.fixture(scope="module")
def study(quick_study, tmp_path_factory):
    """A copy of the workflow in which the quick study has run to the end."""
    return copy_study(quick_study, tmp_path_factory.mktemp("study") / "study")


def test_data_files_hold_the_configured_splits(study):
    sizes = {split: QUICK["data"][f"n_{split}"] for split in ("train", "valid", "test")}
    for dataset, shape, classes in (("mnist", (1, 28, 28), 10), ("twodigit", (1, 28, 56), 19)):
        with h5py.File(study / "data" / "processed" / f"{dataset}.h5") as handle:
            assert handle.attrs["n_classes"] == classes
            assert 0.12 < handle.attrs["pixel_mean"] < 0.14 and 0.29 < handle.attrs["pixel_std"] < 0.32
            for split, size in sizes.items():
                assert handle[split]["images"].shape == (size, *shape)
                assert handle[split]["images"].dtype == "uint8"
                assert handle[split]["labels"].dtype == "int64"
                assert handle[split]["labels"][()].max() < classes


def test_data_files_are_rebuilt_byte_for_byte(quick_study, mnist_dir, tmp_path):
    study = copy_study(quick_study, tmp_path / "study")  # its own copy: the module's study stays as it was made
    files = [study / "data" / "processed" / f"{dataset}.h5" for dataset in ("mnist", "twodigit")]
    before = [path.read_bytes() for path in files]
    targets = [str(path.relative_to(study)) for path in files]  # Snakemake's own spelling of its outputs
    rebuilt = snakemake(
        study,
        *targets,
        "--forcerun",
        "prepare_idx",
        "make_pairs",
        "--allowed-rules",
        "prepare_idx",
        "make_pairs",
        mnist_dir=mnist_dir,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    assert [path.read_bytes() for path in files] == before


def chosen(study, dataset, model):
    return json.loads((study / "results" / "tables" / dataset / model / "choice.json").read_text())["chosen"]


def decisions(study, dataset):
    """A task's final decisions (decisions.json): every pair's verdict and each model's replicates."""
    return json.loads((study / "results" / "tables" / dataset / "decisions.json").read_text())


def test_every_run_is_in_runs_csv_with_its_hyperparameters(study):
    runs = pd.read_csv(study / "results" / "runs.csv")
    per_experiment = {(1, 0.01, 0.9, 0), (66, 0.01, 0.9, 0), (1, 0.1, 0.9, 0)}  # shared run trained once
    replicates = {(dataset, model): len(decisions(study, dataset)["runs"][model]) for dataset, model in EXPERIMENTS}
    assert len(runs) == len(EXPERIMENTS) * len(per_experiment) + sum(replicates.values())
    for (dataset, model), group in runs.groupby(["dataset", "model"]):
        choice = chosen(study, dataset, model)
        fresh = {(1 + i, choice["lr"], choice["momentum"], i) for i in range(1, replicates[dataset, model] + 1)}
        assert set(zip(group["seed"], group["lr"], group["momentum"], group["split_seed"])) == per_experiment | fresh
        assert f"seed2_lr{choice['lr']:g}_mom{choice['momentum']:g}_split1" in set(group["run"])
        assert (group["epochs"] == QUICK["training"]["epochs"]).all()
        assert (group["batch_size"] == QUICK["experiments"][dataset][model]["batch_size"]).all()
    mnist = runs[runs["dataset"] == "mnist"]
    assert (mnist["valid_error"] < 0.3).all(), "every MNIST model learns in two epochs"


def test_the_rounds_train_more_only_for_models_with_an_open_comparison(study):
    confirm = QUICK["confirm"]
    looks = [
        confirm["first"],
        *range(confirm["first"] + confirm["step"], confirm["max"], confirm["step"]),
        confirm["max"],
    ]
    for dataset, models in QUICK["experiments"].items():
        rounds = sorted((study / "results" / "tables" / dataset / "rounds").glob("round*.json"))
        decided = [json.loads(path.read_text()) for path in rounds]
        assert [path.name for path in rounds] == [f"round{r}.json" for r in range(1, len(rounds) + 1)]
        assert all(d["next"] for d in decided[:-1]) and decided[-1]["next"] == [] and len(decided) <= len(looks)
        assert decided[-1] == decisions(study, dataset)
        for model in models:  # round 1 for every model, a later round only where the previous one named it
            trained = 1 + sum(model in d["next"] for d in decided[:-1])
            assert len(decided[-1]["runs"][model]) == looks[trained - 1]
        for pair in decided[-1]["pairs"]:
            assert pair["verdict"] in ("a", "b", "equal", "not decided")
            assert pair["low"] <= pair["mean"] <= pair["high"] and pair["se_images"] > 0


def test_run_outputs_agree_with_each_other(study):
    run = study / "results" / "runs" / "mnist" / "ann" / "seed1_lr0.01_mom0.9"
    history = pd.read_csv(run / "history.csv")
    metrics = json.loads((run / "metrics.json").read_text())
    assert list(history["epoch"]) == [1, 2]
    assert metrics["final"]["valid_error"] == pytest.approx(history["valid_error"].iloc[-1])
    assert metrics["best_valid"]["valid_error"] == pytest.approx(history["valid_error"].min())
    assert metrics["status"] == "ok" and metrics["versions"]["torch"]
    assert len(metrics["data"]["source_sha256"]) == 4
    assert (run / "model.pt").stat().st_size > 300_000  # 79,510 float32 parameters
    assert (study / "logs" / "train" / "mnist" / "ann" / "seed1_lr0.01_mom0.9.log").exists()
    assert (study / "benchmarks" / "train" / "mnist" / "ann" / "seed1_lr0.01_mom0.9.tsv").exists()


def test_chosen_run_has_the_lowest_validation_error_of_its_grid(study):
    runs = pd.read_csv(study / "results" / "runs.csv")
    for dataset, model in EXPERIMENTS:
        choice = json.loads((study / "results" / "tables" / dataset / model / "choice.json").read_text())
        grid = runs[(runs["dataset"] == dataset) & (runs["model"] == model) & (runs["seed"] == 1)]
        assert choice["chosen"]["valid_error"] == pytest.approx(grid["valid_error"].min())
        chosen_row = grid[grid["run"] == choice["chosen"]["run"]].iloc[0]
        assert choice["chosen"]["test_error"] == pytest.approx(chosen_row["test_error"])


def test_seed_table_has_a_row_per_seed_and_its_views_the_mean_and_sd(study):
    folder = study / "results" / "tables" / "mnist" / "cnn"
    seeds = pd.read_csv(folder / "seeds.csv")
    assert list(seeds["seed"]) == QUICK["seed_study"]["seeds"]  # tidy: nothing but the seeds
    mean, sd = seeds["valid_error"].mean(), seeds["valid_error"].std(ddof=1)
    for rows in (markdown_table((folder / "seeds.md").read_text()), html_table((folder / "seeds.html").read_text())):
        by_seed = {row["seed"]: row for row in rows}
        assert list(by_seed) == [*map(str, QUICK["seed_study"]["seeds"]), "mean", "sd", "min", "max"]
        assert float(by_seed["mean"]["valid error (%)"]) == pytest.approx(100 * mean, abs=0.005)
        assert float(by_seed["sd"]["valid error (%)"]) == pytest.approx(100 * sd, abs=0.005)
        assert by_seed["mean"]["status"] == f"{len(seeds)}/{len(seeds)} ok"


def test_replicates_share_the_test_images_and_each_split_is_built_once(study):
    processed = sorted(path.name for path in (study / "data" / "processed").iterdir())
    splits = {
        dataset: max(len(runs) for runs in decisions(study, dataset)["runs"].values())
        for dataset in QUICK["experiments"]
    }
    assert processed == sorted(
        name
        for dataset, count in splits.items()
        for name in [f"{dataset}.h5"] + [f"{dataset}_split{i}.h5" for i in range(1, count + 1)]
    )
    for dataset in ("mnist", "twodigit"):
        with h5py.File(study / "data" / "processed" / f"{dataset}.h5") as own:
            with h5py.File(study / "data" / "processed" / f"{dataset}_split1.h5") as other:
                assert (own["test"]["images"][()] == other["test"]["images"][()]).all()
                assert (own["test"]["labels"][()] == other["test"]["labels"][()]).all()
                assert not (own["train"]["labels"][()] == other["train"]["labels"][()]).all()
                assert (other.attrs["split_seed"], other.attrs["test_seed"]) == (1, 0)
                assert own.attrs["split_seed"] == 0 and "test_seed" not in own.attrs


def test_the_replicates_of_each_choice_are_predicted_tabulated_and_compared(study):
    runs = pd.read_csv(study / "results" / "runs.csv").set_index(["dataset", "model", "run"])
    for dataset, models in QUICK["experiments"].items():
        decided = decisions(study, dataset)
        replicates = pd.read_csv(study / "results" / "tables" / dataset / "replicates.csv")
        assert list(replicates["model"]) == [model for model in models for _ in decided["runs"][model]]
        assert list(replicates["replicate"]) == [
            i for model in models for i in range(1, len(decided["runs"][model]) + 1)
        ]
        for row in replicates.itertuples():  # counted from the predictions of its saved weights, as trained
            recorded = runs.loc[(dataset, row.model, decided["runs"][row.model][row.replicate - 1]), "test_error"]
            assert row.test_error == pytest.approx(recorded, abs=1e-12) or row.status != "ok"
        variance = pd.read_csv(study / "results" / "tables" / dataset / "variance.csv").set_index("model")
        for model in models:
            errors = replicates[replicates["model"] == model]["test_error"]
            assert variance.loc[model, "test_error_mean"] == pytest.approx(errors.mean())
            assert (
                0 <= variance.loc[model, "test_error_low"] < errors.mean() < variance.loc[model, "test_error_high"] <= 1
            )
        pairwise = pd.read_csv(study / "results" / "tables" / dataset / "pairwise.csv")
        assert len(pairwise) == len(models) * (len(models) - 1) // 2
        for row, pair in zip(pairwise.itertuples(), decided["pairs"]):
            assert (row.model_a, row.model_b, row.replicates) == (pair["model_a"], pair["model_b"], pair["replicates"])
            assert row.verdict.startswith(
                (
                    "**not decided within the budget",
                    f"**{row.model_a} and {row.model_b} are equal",
                    f"**{row.model_a} is",
                    f"**{row.model_b} is",
                )
            )


def test_summary_names_a_best_model_only_where_it_is_decided_better_than_every_other(study):
    summary = (study / "results" / "summary.md").read_text()
    for dataset in QUICK["experiments"]:
        assert f"## {dataset}" in summary
        line = re.search(rf"## {dataset}\n\n(.*)\n", summary).group(1)
        pairwise = pd.read_csv(study / "results" / "tables" / dataset / "pairwise.csv")
        winners = {
            row.model_a if row.decision == "a" else row.model_b
            for row in pairwise.itertuples()
            if row.decision in ("a", "b")
        }
        losers = {
            row.model_b if row.decision == "a" else row.model_a
            for row in pairwise.itertuples()
            if row.decision in ("a", "b")
        }
        best = re.match(r"\*\*Best model: (\w+)\*\*", line)
        if best:
            assert (
                sum(best.group(1) in (row.model_a, row.model_b) for row in pairwise.itertuples())
                == len(QUICK["experiments"][dataset]) - 1
                and best.group(1) in winners
                and best.group(1) not in losers
            )
        else:
            assert line.startswith("**No single best model:**"), line
            variance = pd.read_csv(study / "results" / "tables" / dataset / "variance.csv")
            top = [model for model in variance.sort_values("valid_error_mean")["model"] if model not in losers]
            assert f"{top[0]} ranks first by mean validation error" in line
    for link in re.findall(r"\]\(([^)]+)\)", summary):
        target = study / "results" / link
        assert target.exists(), link
        if target.suffix == ".png":
            assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_finished_study_has_nothing_left_to_do(study, mnist_dir):
    dry = snakemake(study, "--dry-run", mnist_dir=mnist_dir)
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "Nothing to be done" in dry.stdout + dry.stderr
    # What a dry run cannot list of the confirmation, said in one line.
    confirm = QUICK["confirm"]
    assert (
        f"confirmation: its size is decided in rounds, between {confirm['first']} and {confirm['max']} fresh "
        "replicates per chosen model"
    ) in dry.stdout + dry.stderr


def test_predictions_from_saved_weights_reproduce_each_chosen_runs_test_error(study):
    for dataset, model in EXPERIMENTS:
        choice = json.loads((study / "results" / "tables" / dataset / model / "choice.json").read_text())
        predictions = pd.read_csv(study / "results" / "predictions" / dataset / model / "test.csv")
        assert len(predictions) == QUICK["data"]["n_test"]
        assert 1 - predictions["correct"].mean() == pytest.approx(choice["chosen"]["test_error"], abs=1e-12)
        chosen = pd.read_csv(study / "results" / "tables" / dataset / "chosen.csv").set_index("model")
        assert chosen.loc[model, "low"] <= chosen.loc[model, "test_error"] <= chosen.loc[model, "high"]


def test_summary_states_findings_with_numbers_and_uncertainty(study):
    summary = (study / "results" / "summary.md").read_text()
    findings = summary.split("## Findings\n\n")[1].split("\n\n")[0].splitlines()
    assert 4 <= len(findings) <= 7
    assert all(re.search(r"\d+\.\d\d", finding) for finding in findings[:2])
    split = next(finding for finding in findings if "**What the split adds**" in finding)
    ratios = re.findall(r"(\w+ / \w+) ([\d.]+) \(([\d.]+) to ([\d.]+)\)", split)  # ratio (low to high)
    assert [name for name, *_ in ratios] == [f"{d} / {m}" for d, m in EXPERIMENTS], split
    assert all(float(low) <= float(ratio) <= float(high) for _, ratio, low, high in ratios), split
    assert re.search(r"over [23] replicates \(95% interval", findings[0])
    assert "which holds jointly over the rounds and the task's 3 comparisons" in findings[0]
    stuck = next(finding for finding in findings if "**Runs that did not learn**" in finding)
    assert re.search(r"twodigit / cnn_dropout: all [56] runs", stuck), "two epochs on 3,000 pairs teach nothing"
    assert f"Study '{QUICK['study']}': {QUICK['data']['n_train']:,} train" in summary  # which study produced it


def test_load_run_reproduces_a_recorded_test_error_as_the_readme_shows(study):
    """The example of docs/output.md, run as a user would: in the study folder, with workflow/scripts on the path."""
    readme = (REPO / "docs" / "output.md").read_text()
    example = re.search(r"<!-- load-run-example -->\n```python\n(.*?)```", readme, re.DOTALL).group(1)
    done = subprocess.run([sys.executable, "-c", example], cwd=study, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    computed, recorded = (float(value) for value in done.stdout.split())
    assert computed == recorded
