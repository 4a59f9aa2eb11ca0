"""What jobs ask a cluster for, the Slurm profile and the conda environment (the site checks are in
test_slurm_plan.py)."""

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from digitstudy.cluster import training_gpus, training_mem_mb, training_runtime_minutes
from digitstudy.study import dataset_pixels
from helpers import REPO, copy_workflow, project_pins, snakemake, workflow_config, write_config


PROFILE = yaml.safe_load((REPO / "slurm" / "config.yaml").read_text())
FULL = workflow_config()


def test_runtime_grows_with_epochs_data_and_model():
    base = dict(model="cnn", pixels=28 * 28, epochs=10, n_train=50000, n_valid=10000)
    runtime = training_runtime_minutes(**base)
    assert training_runtime_minutes(**{**base, "epochs": 40}) > runtime
    assert training_runtime_minutes(**{**base, "n_train": 100000}) > runtime
    assert training_runtime_minutes(**{**base, "model": "ann"}) < runtime
    assert training_runtime_minutes(**{**base, "pixels": 28 * 56}) > runtime
    assert training_runtime_minutes(**{**base, "epochs": 1, "n_train": 10, "n_valid": 10}) >= 5


def test_every_full_study_run_fits_a_day_and_a_modest_node():
    data = FULL["data"]
    for dataset, models in FULL["experiments"].items():
        pixels = dataset_pixels(FULL, dataset, folder="no-such-folder", environ={})
        assert pixels == {"mnist": 28 * 28, "twodigit": 28 * 56}[dataset]
        for model in models:
            minutes = training_runtime_minutes(
                model, pixels, FULL["training"]["epochs"], data["n_train"], data["n_valid"]
            )
            assert 5 < minutes < 24 * 60, (dataset, model, minutes)
            assert 1500 < training_mem_mb(pixels, data["n_train"], data["n_valid"], data["n_test"]) < 8000


def test_only_cuda_asks_for_a_gpu():
    assert training_gpus("cuda") == 1 and training_gpus("cpu") == 0


def workflow_rules():
    """The names of the workflow's rules and checkpoints."""
    files = [REPO / "workflow" / "Snakefile", *(REPO / "workflow" / "rules").glob("*.smk")]
    pattern = re.compile(r"^(?:rule|checkpoint) (\w+):", re.MULTILINE)
    return {name for path in files for name in pattern.findall(path.read_text())}


def test_the_profile_groups_rules_of_the_workflow_and_keeps_the_choices_readers_apart():
    """A renamed rule would leave its group unnoticed (a Slurm job of its own again). The jobs that read
    every run or replicate wait for the choices (a checkpoint) and must stay out of the aggregate group
    (snakemake/snakemake#823); each group that group-components sizes is one the profile forms."""
    groups = PROFILE["groups"]
    assert set(groups) <= workflow_rules(), f"no such rule: {set(groups) - workflow_rules()}"
    assert {"collect_runs", "tabulate_costs", "tabulate_replicates"} <= workflow_rules() - set(groups)
    assert set(PROFILE["group-components"]) <= set(groups.values())
    assert "gpu" not in PROFILE["default-resources"], "only training jobs may ask for a GPU"


def test_snakemake_finds_this_profile_by_the_name_the_readme_gives(monkeypatch):
    """`snakemake --profile slurm` in the repository root reads slurm/config.yaml, and no other file of
    the folder (a profile.v9+.yaml beside it would win)."""
    from snakemake.cli import get_profile_dir

    name = re.search(r"snakemake --profile (\S+)", (REPO / "README.md").read_text()).group(1)
    monkeypatch.chdir(REPO)
    _, found = get_profile_dir(name)
    assert found.resolve() == (REPO / "slurm" / "config.yaml").resolve()


def pins(lines):
    return dict(re.match(r"([A-Za-z0-9_.-]+)==(\S+)$", line.strip()).groups() for line in lines)


def environment_pins(name):
    environment = yaml.safe_load((REPO / "workflow" / "envs" / name).read_text())
    (pip,) = [entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict)]
    return pins(pip)


def test_conda_environment_pins_equal_the_packages():
    """The conda environments pin what pyproject.toml pins; jsonschema and PyYAML, imported where
    Snakemake plans, not in a job, are left out."""
    pins = {name: version for name, version in project_pins().items() if name not in ("jsonschema", "PyYAML")}
    assert environment_pins("report.yaml") == pins
    # The training environment lacks only what the analysis and summary jobs need.
    assert environment_pins("digitstudy.yaml") == {
        name: version for name, version in pins.items() if name not in ("scipy", "markdown")
    }


def post_deploy(script, python_folder):
    """Run a conda environment's post-deploy script as Snakemake does, with the environment's bin
    folder (here a fresh venv's) first on PATH."""
    environment = {**os.environ, "PATH": os.pathsep.join([str(python_folder), os.environ["PATH"]])}
    return subprocess.run(["bash", str(script)], env=environment, capture_output=True, text=True, timeout=600)


@pytest.mark.workflow
@pytest.mark.parametrize("name", ["digitstudy", "report"])
def test_the_conda_environments_install_the_clones_package(name, tmp_path):
    environment = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(environment)], check=True)
    done = post_deploy(REPO / "workflow" / "envs" / f"{name}.post-deploy.sh", environment / "bin")
    assert done.returncode == 0, done.stderr[-2000:]
    found = subprocess.run(
        [environment / "bin" / "python", "-c", "import digitstudy; print(digitstudy.__file__)"],
        capture_output=True,
        text=True,
    )
    assert found.stdout.strip() == str(REPO / "src" / "digitstudy" / "__init__.py"), found.stderr


def test_without_a_clone_the_conda_environment_says_so_in_one_line(tmp_path):
    """Snakemake writes a remote module's post-deploy script to a temporary file: no clone beside it."""
    script = tmp_path / "envs" / "digitstudy.post-deploy.sh"
    script.parent.mkdir()
    shutil.copy(REPO / "workflow" / "envs" / "digitstudy.post-deploy.sh", script)
    done = post_deploy(script, tmp_path)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("digitstudy: --software-deployment-method conda installs the package from the clone")


@pytest.mark.workflow
def test_cuda_training_jobs_and_only_they_ask_for_one_gpu(tmp_path):
    workdir = copy_workflow(tmp_path)
    write_config(workdir, lambda config: config["training"].update(device="cuda"), name="config/quick.yaml")
    dry = snakemake(workdir, "--profile", "slurm", "--dry-run", mnist_dir="", cores=None)
    assert dry.returncode == 0, dry.stderr[-2000:]
    jobs = re.findall(r"rule (\w+):\n(?:    .*\n)*?\s+resources: (.*)", dry.stdout + dry.stderr)
    assert {rule for rule, _ in jobs} >= {"train_run", "prepare_idx", "make_tables", "write_summary"}
    for rule, resources in jobs:
        gpus = re.search(r"\bgpu=(\d+)", resources)
        assert (int(gpus.group(1)) if gpus else 0) == (1 if rule == "train_run" else 0), (rule, resources)
