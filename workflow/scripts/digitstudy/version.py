"""Which version of the workflow made a result: the git commit of the project's checkout, and whether
its files differed from that commit; where the project is no git checkout (a copy, an unpacked
release), the package version alone."""

import subprocess
from pathlib import Path

from . import __version__


# The project's root: workflow/scripts/digitstudy/ lies three folders below it.
PROJECT = Path(__file__).resolve().parents[3]


def git(folder, *arguments):
    """git's output in `folder`, or None where git is missing or says no."""
    try:
        done = subprocess.run(["git", "-C", str(folder), *arguments], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def workflow_version(project=PROJECT):
    """{'version', 'git_commit', 'git_dirty'}: the commits are None where `project` is not itself the
    top of a git checkout (a folder inside someone else's repository is not ours to describe)."""
    record = {"version": __version__, "git_commit": None, "git_dirty": None}
    top = git(project, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != Path(project).resolve():
        return record
    commit = git(project, "rev-parse", "HEAD")
    changes = git(project, "status", "--porcelain")
    if commit is None or changes is None:
        return record
    return {**record, "git_commit": commit, "git_dirty": bool(changes)}
