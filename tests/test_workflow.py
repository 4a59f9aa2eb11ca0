"""The real `snakemake` on config/quick.yaml, from raw MNIST to results/summary.md, in a temporary copy."""

import json
import os
import re
import subprocess
import sys

import h5py
import pandas as pd
import pytest

from conftest import REPO
from helpers import copy_study, quick_config, snakemake


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


def test_data_files_are_rebuilt_byte_for_byte(study, mnist_dir):
    files = [study / "data" / "processed" / f"{dataset}.h5" for dataset in ("mnist", "twodigit")]
    before = [path.read_bytes() for path in files]
    times = [(path.stat().st_atime_ns, path.stat().st_mtime_ns) for path in files]
    benchmarks = {
        path: (path.read_bytes(), path.stat().st_mtime_ns) for path in (study / "benchmarks" / "data").iterdir()
    }
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
    for path, (accessed, modified) in zip(files, times):
        os.utime(path, ns=(accessed, modified))  # so the later tests see the study as finished
    for path, (content, modified) in benchmarks.items():  # the cost table reads them
        path.write_bytes(content)
        os.utime(path, ns=(modified, modified))


def chosen(study, dataset, model):
    return json.loads((study / "results" / "tables" / dataset / model / "choice.json").read_text())["chosen"]


def test_every_run_is_in_runs_csv_with_its_hyperparameters(study):
    runs = pd.read_csv(study / "results" / "runs.csv")
    per_experiment = {(1, 0.01, 0.9, 0), (66, 0.01, 0.9, 0), (1, 0.1, 0.9, 0)}  # shared run trained once
    assert len(runs) == len(EXPERIMENTS) * (len(per_experiment) + QUICK["confirm"]["replicates"] - 1)
    for (dataset, model), group in runs.groupby(["dataset", "model"]):
        choice = chosen(study, dataset, model)
        replicate = (2, choice["lr"], choice["momentum"], 1)  # grid seed + 1, split seed + 1
        assert set(zip(group["seed"], group["lr"], group["momentum"], group["split_seed"])) == per_experiment | {
            replicate
        }
        assert f"seed2_lr{choice['lr']:g}_mom{choice['momentum']:g}_split1" in set(group["run"])
        assert (group["epochs"] == QUICK["training"]["epochs"]).all()
        assert (group["batch_size"] == QUICK["experiments"][dataset][model]["batch_size"]).all()
    mnist = runs[runs["dataset"] == "mnist"]
    assert (mnist["valid_error"] < 0.3).all(), "every MNIST model learns in two epochs"


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
    errors = [f"{100 * value:.2f}" for value in (seeds["valid_error"].mean(), seeds["valid_error"].std(ddof=1))]
    rows = {line.split("|")[1].strip(): line for line in (folder / "seeds.md").read_text().splitlines() if "|" in line}
    assert f" {errors[0]} " in rows["mean"] and f" {errors[1]} " in rows["sd"]
    assert [name in (folder / "seeds.html").read_text() for name in ("mean", "sd", "min", "max")] == [True] * 4


def test_replicates_share_the_test_images_and_each_split_is_built_once(study):
    processed = sorted(path.name for path in (study / "data" / "processed").iterdir())
    assert processed == ["mnist.h5", "mnist_split1.h5", "twodigit.h5", "twodigit_split1.h5"]
    for dataset in ("mnist", "twodigit"):
        with h5py.File(study / "data" / "processed" / f"{dataset}.h5") as own:
            with h5py.File(study / "data" / "processed" / f"{dataset}_split1.h5") as other:
                assert (own["test"]["images"][()] == other["test"]["images"][()]).all()
                assert (own["test"]["labels"][()] == other["test"]["labels"][()]).all()
                assert not (own["train"]["labels"][()] == other["train"]["labels"][()]).all()
                assert (other.attrs["split_seed"], other.attrs["test_seed"]) == (1, 0)
                assert own.attrs["split_seed"] == 0 and "test_seed" not in own.attrs


def test_the_replicates_of_each_choice_are_tabulated_and_compared(study):
    for dataset, models in QUICK["experiments"].items():
        replicates = pd.read_csv(study / "results" / "tables" / dataset / "replicates.csv")
        assert list(replicates["model"]) == [model for model in models for _ in range(QUICK["confirm"]["replicates"])]
        first = replicates[replicates["replicate"] == 0]
        assert [chosen(study, dataset, model)["test_error"] for model in models] == list(first["test_error"])
        variance = pd.read_csv(study / "results" / "tables" / dataset / "variance.csv").set_index("model")
        for model in models:
            errors = replicates[replicates["model"] == model]["test_error"]
            assert variance.loc[model, "test_error_mean"] == pytest.approx(errors.mean())
            assert variance.loc[model, "test_error_low"] < errors.mean() < variance.loc[model, "test_error_high"]
        pairwise = pd.read_csv(study / "results" / "tables" / dataset / "pairwise.csv")
        assert len(pairwise) == len(models) * (len(models) - 1) // 2
        for row in pairwise.itertuples():
            assert row.replicates == QUICK["confirm"]["replicates"]
            assert row.verdict.startswith(
                ("not decided: ", "mixed evidence: ", f"{row.model_a} is", f"{row.model_b} is")
            )


def test_summary_names_the_best_model_per_task_and_links_existing_files(study):
    summary = (study / "results" / "summary.md").read_text()
    for dataset in QUICK["experiments"]:
        assert f"## {dataset}" in summary
        best = re.search(
            rf"## {dataset}\n\n\*\*Best model: (\w+)\*\*.*mean validation error over the replicates ([\d.]+)%",
            summary,
        )
        assert best, f"no best model line for {dataset}"
        variance = pd.read_csv(study / "results" / "tables" / dataset / "variance.csv")
        lowest = variance.sort_values("valid_error_mean").iloc[0]
        assert best.group(1) == lowest["model"]
        assert float(best.group(2)) == pytest.approx(100 * lowest["valid_error_mean"], abs=0.005)
    for link in re.findall(r"\]\(([^)]+)\)", summary):
        target = study / "results" / link
        assert target.exists(), link
        if target.suffix == ".png":
            assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_finished_study_has_nothing_left_to_do(study, mnist_dir):
    dry = snakemake(study, "--dry-run", mnist_dir=mnist_dir)
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "Nothing to be done" in dry.stdout + dry.stderr


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
    assert re.search(r"mnist / ann \d+\.\d\d \(\d+\.\d\d to \d+\.\d\d\)", split), split
    assert "over 2 replicates (95% interval of the mean" in findings[0] and "McNemar" in findings[0]
    stuck = next(finding for finding in findings if "**Runs that did not learn**" in finding)
    assert "twodigit / cnn_dropout: all 4 runs" in stuck, "two epochs on 3,000 pairs teach nothing"
    assert f"Study '{QUICK['study']}': {QUICK['data']['n_train']:,} train" in summary  # which study produced it


def test_load_run_reproduces_a_recorded_test_error_as_the_readme_shows(study):
    """The example of docs/output.md, run as a user would: in the study folder, with workflow/scripts on the path."""
    readme = (REPO / "docs" / "output.md").read_text()
    example = re.search(r"<!-- load-run-example -->\n```python\n(.*?)```", readme, re.DOTALL).group(1)
    done = subprocess.run([sys.executable, "-c", example], cwd=study, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    computed, recorded = (float(value) for value in done.stdout.split())
    assert computed == recorded
