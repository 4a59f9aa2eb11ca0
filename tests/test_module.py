"""The workflow used as a module of a user's own workflow, as docs/usage.md ("Use it as a module")
shows it: a folder with a copy of config/ and the example's workflow/Snakefile, whose module
Snakemake fetches over HTTP from a local web server (standing in for `github(...)`), with the
installed package and no checkout of this repository beside the study."""

import contextlib
import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

import digitstudy
from digitstudy.record import RECORD, read_record
from helpers import QUICK_CONFIG, REPO, copy_workflow, snakemake, workflow_error
from test_add_model import DECLARED, MODEL_FILE
from test_rerun import planned_jobs


pytestmark = pytest.mark.workflow
GITHUB_SOURCE = 'github("<owner>/digitstudy", path="workflow/Snakefile", tag="v5.2.0")'
# The quick study through the module, made smaller for the run: mnist's ann beside the model of the user's
# own (a study made by a clone would not do: Snakemake records a rule's `script:` line where the
# Snakefile is local and nothing where it is fetched, so each reruns the other's jobs).
SMALLER = {"mnist": {"cnn": None, "cnn_dropout": None}, "twodigit": None}
# The quick study with the model of the user's own.
MINE = (QUICK_CONFIG, "config/mine.yaml")


def module_example():
    usage = (REPO / "docs" / "usage.md").read_text()
    return re.search(r"<!-- module-example -->\n```python\n(.*?)```", usage, re.DOTALL).group(1)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def module_url(tmp_path_factory):
    """The URL of the module's Snakefile, served from a copy of the repository's workflow/ (its files'
    times kept: Snakemake compares a script's time, from the server's Last-Modified, with its outputs')."""
    root = tmp_path_factory.mktemp("served")
    shutil.copytree(REPO / "workflow", root / "workflow", ignore=shutil.ignore_patterns("__pycache__"))
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(root)]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as server:
        url = f"http://127.0.0.1:{port}/workflow/Snakefile"
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url, timeout=5).close()
                break
            assert time.monotonic() < deadline and server.poll() is None, "the local web server did not start"
            time.sleep(0.2)
        yield url
        server.terminate()


def own_workflow(folder, module_url, experiments=None):
    """The user's folder: config/ copied from the repository, workflow/Snakefile the example's with the
    module at `module_url`, and a model of their own (mymodels/tiny.py, declared in config/mine.yaml
    with `experiments`, merged over the quick study's)."""
    shutil.copytree(REPO / "config", folder / "config")
    example = module_example()
    assert GITHUB_SOURCE in example
    (folder / "workflow").mkdir()
    (folder / "workflow" / "Snakefile").write_text(example.replace(GITHUB_SOURCE, f'"{module_url}"'))
    (folder / "mymodels").mkdir()
    (folder / "mymodels" / "tiny.py").write_text(MODEL_FILE)
    mine = {"models": DECLARED, "experiments": {"mnist": {"tiny_mlp": {"batch_size": 32}}}}
    for dataset, models in (experiments or {}).items():
        mine["experiments"][dataset] = None if models is None else {**mine["experiments"].get(dataset, {}), **models}
    (folder / MINE[1]).write_text(yaml.safe_dump(mine))
    return folder


def test_the_module_plans_the_quick_study_with_a_model_of_the_users_own(module_url, mnist_dir, tmp_path):
    folder = own_workflow(tmp_path / "mystudy", module_url)
    dry = snakemake(folder, "--dry-run", mnist_dir=mnist_dir, configfile=MINE)
    assert dry.returncode == 0, (dry.stdout + dry.stderr)[-3000:]  # a dry run's errors go to stdout
    trained = [job.wildcards["model"] for job in planned_jobs(dry) if job.rule == "train_run"]
    assert len(trained) == 18 and trained.count("tiny_mlp") == 3, trained
    assert not (folder / RECORD).exists()
    assert not list(folder.glob("**/digitstudy/**/*.py"))  # no code of the workflow's beside the study


@pytest.mark.slow
def test_the_module_runs_the_quick_study_and_trains_the_users_model(module_url, mnist_dir, tmp_path):
    """The quick study (smaller: mnist's ann and the model of the user's own) run to its summary
    through the module: the user's model trains its runs and replicates and meets ann in the task's
    decisions."""
    folder = own_workflow(tmp_path / "mystudy", module_url, experiments=SMALLER)
    done = snakemake(folder, mnist_dir=mnist_dir, configfile=MINE)
    assert done.returncode == 0, done.stderr[-3000:]
    trained = {job.wildcards["model"] for job in planned_jobs(done) if job.rule == "train_run"}
    assert trained == {"ann", "tiny_mlp"}
    assert len(list((folder / "results" / "runs" / "mnist" / "tiny_mlp").glob("*/model.pt"))) >= 4  # and replicates
    decisions = json.loads((folder / "results" / "tables" / "mnist" / "decisions.json").read_text())
    assert "tiny_mlp" in decisions["runs"]
    assert "tiny_mlp" in (folder / "results" / "summary.md").read_text()
    assert read_record(folder / RECORD)["study"] == "quick"


def test_a_module_of_another_version_than_the_package_stops_in_one_line(mnist_dir, tmp_path):
    """The workflow (here a copy that calls itself 0.9.0) and the installed package disagree."""
    study = copy_workflow(tmp_path / "study")
    common = study / "workflow" / "rules" / "common.smk"
    common.write_text(
        re.sub(r'^WORKFLOW_VERSION = ".*"$', 'WORKFLOW_VERSION = "0.9.0"', common.read_text(), flags=re.M)
    )
    dry = snakemake(study, "--dry-run", mnist_dir=mnist_dir)
    assert dry.returncode == 1
    assert workflow_error(dry) == [
        f"digitstudy error: the installed digitstudy is {digitstudy.__version__}, this workflow is 0.9.0 (pip install "
        "-r requirements.txt in a clone of this workflow, docs/usage.md)"
    ]
