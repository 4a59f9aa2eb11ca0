"""Which version of the workflow a run's record names: the git commit of the project's checkout and
whether it had uncommitted changes, else the package version alone."""

import shutil
import subprocess
from pathlib import Path

import pytest

from digitstudy import __version__
from digitstudy.version import PROJECT, workflow_version
from digitstudy.versions import RESULTS_VERSIONS
from helpers import REPO


pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(folder, *arguments):
    environment = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    done = subprocess.run(["git", "-C", str(folder), *arguments], capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def checkout(tmp_path):
    """A project checkout with one commit."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "Snakefile").write_text("rule all:\n")
    git(project, "init", "-q")
    git(project, "add", "Snakefile")
    git(project, "commit", "-q", "-m", "first")
    return project


def test_a_clean_checkout_names_its_commit(checkout):
    assert workflow_version(checkout) == {
        "version": __version__,
        "results_versions": RESULTS_VERSIONS,
        "git_commit": git(checkout, "rev-parse", "HEAD"),
        "git_dirty": False,
    }


def test_a_changed_or_added_file_makes_the_checkout_dirty(checkout):
    (checkout / "Snakefile").write_text("rule all:\n    input: []\n")
    assert workflow_version(checkout)["git_dirty"] is True
    git(checkout, "checkout", "Snakefile")
    (checkout / "new_model.py").write_text("")
    assert workflow_version(checkout)["git_dirty"] is True


def test_a_copy_or_a_folder_inside_another_repository_has_the_package_version_alone(checkout, tmp_path):
    alone = {"version": __version__, "results_versions": RESULTS_VERSIONS, "git_commit": None, "git_dirty": None}
    assert workflow_version(tmp_path / "elsewhere") == alone
    inside = checkout / "study"
    inside.mkdir()
    assert workflow_version(inside) == alone  # the user's own repository is not the workflow's version


def test_a_run_records_the_commit_of_the_clone_its_library_lies_in():
    """The library finds the project from its own place: run from this clone, the record names this
    clone's commit (a wrong PROJECT would name none, or another repository's)."""
    top = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if top.returncode or Path(top.stdout.strip()).resolve() != REPO.resolve():
        pytest.skip(f"{REPO} is not the top of a git checkout (an unpacked copy)")
    assert PROJECT.resolve() == REPO.resolve()
    assert workflow_version()["git_commit"] == git(REPO, "rev-parse", "HEAD")
