"""A folder holds one study: a command that selects another one stops with one line, before any job."""

import re
import shlex

import pytest
import yaml

from digitstudy.record import (
    LAYOUT,
    RECORD,
    first_result,
    layout_error,
    layout_of,
    other_study_error,
    read_record,
    relative_configfiles,
    write_record,
)
from helpers import (
    QUICK_CONFIG,
    REPO,
    copy_study,
    copy_workflow,
    quick_config,
    snakemake,
    workflow_config,
    workflow_error,
)


QUICK_RECORD = {"study": "quick", "configfiles": [QUICK_CONFIG]}


def put_file(folder, path):
    """An empty file at `path` in `folder` (its folders made); returns `folder`."""
    (folder / path).parent.mkdir(parents=True, exist_ok=True)
    (folder / path).touch()
    return folder


def test_a_folder_without_a_record_accepts_any_study(tmp_path):
    assert read_record(tmp_path / RECORD) is None
    assert other_study_error(None, "full", []) is None


def test_each_run_records_its_selection_layout_and_config(tmp_path):
    path = tmp_path / RECORD
    write_record(path, "quick", [QUICK_CONFIG], False, {"study": "quick", "grid": {"lr": [0.1]}})
    write_record(path, "quick", ["config/one.yaml"], True, {"study": "quick", "grid": {"lr": [0.01]}})
    assert read_record(path) == {
        "study": "quick",
        "layout": LAYOUT,
        "configfiles": ["config/one.yaml"],
        "replace": True,
        "config": {"study": "quick", "grid": {"lr": [0.01]}},
    }
    assert path.read_text().startswith("# The study whose results this folder holds")
    assert [file.name for file in path.parent.iterdir()] == ["study.yaml"]  # no temporary file left


def test_a_study_of_an_older_layout_is_sent_to_the_upgrade_with_its_options(tmp_path):
    assert layout_of(None, tmp_path) is None
    assert layout_error(None, []) is None and layout_error(LAYOUT, []) is None
    (tmp_path / "results" / "runs" / "mnist" / "ann").mkdir(parents=True)
    assert layout_of(None, tmp_path) is None  # folders Snakemake made for a job that wrote nothing
    put_file(tmp_path, "results/runs/mnist/ann/seed1_lr0.01_mom0.9/metrics.json")
    assert layout_of(None, tmp_path) == 1  # results from before studies were recorded
    assert layout_of(QUICK_RECORD, tmp_path) == 1  # a record from before layouts were recorded
    assert layout_error(1, [QUICK_CONFIG], replace=True) == (
        f"results/study.yaml: this study was made by an earlier version of digitstudy (layout 1; this one "
        f"writes layout {LAYOUT}): bring it over without training anything again with: "
        "digitstudy-upgrade --configfile config/quick.yaml --replace-workflow-config"
    )
    assert "made by a newer version of digitstudy" in layout_error(LAYOUT + 1, [])


@pytest.mark.parametrize("text", ["[quick]\n", "study: [1, 2\n", "configfiles: []\n"])
def test_a_damaged_record_is_named_in_one_line(tmp_path, text):
    path = tmp_path / "study.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as refused:
        read_record(path)
    assert str(refused.value) == (f"{path}: not a study record (YAML with the key 'study'); delete it to record anew")


def test_the_same_study_with_other_settings_is_accepted():
    """Changing a parameter of a study is the workflow's point: only the name must match."""
    assert other_study_error(QUICK_RECORD, "quick", ["config/quick-more-epochs.yaml"]) is None


def test_another_study_is_refused_with_the_options_that_select_the_recorded_one(tmp_path):
    put_file(tmp_path, "data/processed/mnist.h5")
    assert other_study_error(QUICK_RECORD, "full", [], folder=tmp_path) == (
        "results/study.yaml says this folder holds the study 'quick' (made with --configfile config/quick.yaml; "
        "its results include data/processed/mnist.h5), but this command selects 'full' (no --configfile): add "
        "--configfile config/quick.yaml (after any targets) to work on it, or run 'full' in another clone, or "
        "remove data/processed, results, logs and benchmarks first"
    )
    full = other_study_error({"study": "full", "configfiles": []}, "quick", [QUICK_CONFIG], folder=tmp_path)
    assert "holds the study 'full' (made with no --configfile; its results" in full
    assert "leave out --configfile to work on it" in full


# What a first run that failed before any result leaves behind (a job's log, the folders Snakemake made
# for its outputs, verified raw files of a fetch that succeeded), and the record itself.
NOT_RESULTS = [
    RECORD,
    "logs/data/fetch_mnist.log",
    "benchmarks/data/mnist.tsv",
    "data/raw/mnist/t10k-images-idx3-ubyte",
]


def test_a_record_whose_study_made_nothing_refuses_no_other_study(tmp_path):
    """A first run with a wrong MNIST_DIR fails in its data job after recording its study: the folder
    holds no result of it, so it binds no later command to that study, nor sends it to the upgrade."""
    for path in NOT_RESULTS:
        put_file(tmp_path, path)
    (tmp_path / "results" / "runs" / "mnist" / "ann" / "seed1_lr0.01_mom0.9").mkdir(parents=True)
    assert first_result(tmp_path) is None
    assert other_study_error(QUICK_RECORD, "full", [], folder=tmp_path) is None
    assert layout_of({**QUICK_RECORD, "layout": 1}, tmp_path) is None  # nothing to upgrade either


@pytest.mark.parametrize(
    "result",
    [
        "data/processed/mnist.h5",
        "results/runs/mnist/ann/seed1_lr0.01_mom0.9/checkpoint.pt",  # a run killed after its first epoch
        "results/runs.csv",
    ],
)
def test_any_result_of_the_recorded_study_keeps_the_folder_to_it(tmp_path, result):
    for path in [*NOT_RESULTS, result]:
        put_file(tmp_path, path)
    assert first_result(tmp_path) == result
    assert f"its results include {result})" in other_study_error(QUICK_RECORD, "full", [], folder=tmp_path)
    assert layout_of({**QUICK_RECORD, "layout": LAYOUT}, tmp_path) == LAYOUT


def test_a_record_of_a_newer_layout_counts_even_without_results_this_version_knows(tmp_path):
    newer = {**QUICK_RECORD, "layout": LAYOUT + 1}
    assert layout_of(newer, tmp_path) == LAYOUT + 1
    assert "holds the study 'quick' (made with --configfile config/quick.yaml)" in other_study_error(
        newer, "full", [], folder=tmp_path
    )


def test_configfiles_are_recorded_as_typed_in_the_folder(tmp_path):
    outside = tmp_path.parent / "elsewhere.yaml"
    assert relative_configfiles([tmp_path / "config" / "quick.yaml", outside], tmp_path) == [
        "config/quick.yaml",
        str(outside),
    ]


# --- the real snakemake on a copy of the finished quick study ----------------------------------------


@pytest.fixture(scope="module")
def study(quick_study, tmp_path_factory):
    return copy_study(quick_study, tmp_path_factory.mktemp("record") / "study")


@pytest.mark.workflow
def test_the_quick_study_recorded_its_name_and_config(study):
    assert read_record(study / RECORD) == {**QUICK_RECORD, "layout": LAYOUT, "replace": False, "config": quick_config()}


@pytest.mark.workflow
@pytest.mark.parametrize("command", [["--dry-run"], ["--report", "report.html"]])
def test_a_command_for_the_full_study_stops_on_the_quick_one(study, mnist_dir, command):
    """The documents' commands typed without --configfile in a quick study's folder: before, they planned
    the full study over the quick results or reported the wrong study."""
    before = sorted(path for path in study.rglob("*") if ".snakemake" not in path.parts)
    finished = snakemake(study, *command, mnist_dir=mnist_dir, configfile=None)
    assert finished.returncode == 1
    assert workflow_error(finished) == ["study error: " + other_study_error(QUICK_RECORD, "full", [], folder=study)]
    assert "Job stats" not in finished.stdout
    assert sorted(path for path in study.rglob("*") if ".snakemake" not in path.parts) == before


@pytest.mark.workflow
def test_a_first_run_that_failed_in_its_data_job_leaves_the_folder_to_any_study(tmp_path, mnist_dir):
    """The quick study started with MNIST_DIR naming a folder without MNIST: its fetch fails after its
    study is recorded. A command for the full study is planned all the same, and its first real job
    records the full study."""
    workdir = copy_workflow(tmp_path / "study")
    (tmp_path / "not_mnist").mkdir()
    failed = snakemake(workdir, mnist_dir=tmp_path / "not_mnist")
    assert failed.returncode == 1 and "digitstudy error: MNIST folder" in failed.stderr
    assert read_record(workdir / RECORD)["study"] == "quick" and first_result(workdir) is None
    planned = snakemake(workdir, "--dry-run", mnist_dir=mnist_dir, configfile=None)
    assert planned.returncode == 0, planned.stderr[-2000:]
    assert "study error" not in planned.stderr and "train_run" in planned.stdout
    fetched = snakemake(workdir, "data/raw/mnist/t10k-labels-idx1-ubyte", mnist_dir=mnist_dir, configfile=None)
    assert fetched.returncode == 0, fetched.stderr[-2000:]
    assert read_record(workdir / RECORD) == {
        "study": "full",
        "layout": LAYOUT,
        "configfiles": [],
        "replace": False,
        "config": workflow_config(),
    }


@pytest.mark.workflow
def test_a_dry_run_records_nothing(tmp_path, mnist_dir):
    workdir = copy_workflow(tmp_path / "fresh")
    dry = snakemake(workdir, "--dry-run", mnist_dir=mnist_dir)
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert not (workdir / RECORD).exists()
    assert yaml.safe_load((workdir / QUICK_CONFIG).read_text())["study"] == "quick"


def readme_commands(study_option):
    """Every `snakemake ...` command of README.md, config/README.md and docs/ with `study_option`."""
    readme = "".join(p.read_text() for p in [REPO / "README.md", REPO / "config/README.md", *REPO.glob("docs/*.md")])
    commands = re.findall(r"(?:^|`)(snakemake [^`\n]*)", readme, re.MULTILINE)
    return [shlex.split(command)[1:] for command in commands if study_option in command]


@pytest.mark.workflow
def test_the_readmes_quick_study_commands_work_on_the_quick_study(study, mnist_dir):
    """Typed as the documents show them (targets first, --configfile last): nothing to train, and the
    report is written. Slurm commands are left to test_slurm."""
    commands = [
        words
        for words in readme_commands("--configfile config/quick.yaml")
        if "--profile" not in words and "config/mine.yaml" not in words  # Slurm: test_slurm; mine: test_config
    ]
    assert len(commands) >= 3, commands
    for words in commands:
        planned = words if "--report" in words else ["--dry-run", *words]
        finished = snakemake(study, *planned, mnist_dir=mnist_dir, configfile=None, cores=None)
        assert finished.returncode == 0, (words, finished.stderr[-2000:])
        assert "train_run" not in finished.stdout, words
    assert (study / "results" / "report.html").stat().st_size > 100_000
