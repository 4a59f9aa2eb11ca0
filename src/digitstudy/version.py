"""Which version of the workflow made a result: the git commit of the project's checkout, and whether
its files differed from that commit; where the project is no git checkout (a copy, an unpacked
release), the package version alone."""

from pathlib import Path

from . import __version__
from .process import run_command
from .versions import RESULTS_VERSIONS


# The project's root where the package is a clone's (src/digitstudy/ lies two folders below it); an
# installed package's lies in no checkout of ours, and workflow_version then gives the version alone.
PROJECT = Path(__file__).resolve().parents[2]


def git(folder, *arguments):
    """git's output in `folder`, stripped, or None where git is missing or says no."""
    output = run_command(["git", "-C", str(folder), *arguments])
    return None if output is None else output.strip()


def workflow_version(project=PROJECT):
    """{'version', 'results_versions', 'git_commit', 'git_dirty'}: results_versions, each stage's
    (versions.py); the commits are None where `project` is not itself the top of a git checkout (a
    folder inside someone else's repository is not ours to describe)."""
    record = {"version": __version__, "results_versions": dict(RESULTS_VERSIONS), "git_commit": None, "git_dirty": None}
    top = git(project, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != Path(project).resolve():
        return record
    commit = git(project, "rev-parse", "HEAD")
    changes = git(project, "status", "--porcelain")
    if commit is None or changes is None:
        return record
    return {**record, "git_commit": commit, "git_dirty": bool(changes)}
