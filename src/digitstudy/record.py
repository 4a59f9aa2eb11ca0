"""Which study a folder holds, made by which layout of this workflow, and with which config.

The quick and the full study share every path: a command that forgets `--configfile` (or adds one)
would plan one study over the other's results, retrain everything or report the wrong numbers.
Every run of a study records in results/study.yaml its name, the layout of the workflow that made
it, the options that selected its config, and the resolved config itself (what the progress command
reads); every later command must select the same name, and a folder of an older layout is brought
over by the upgrade command before anything else runs. A record whose study made nothing yet (its
first run failed in its data job) binds nothing: another study may start there and record itself."""

import os
import shlex
from pathlib import Path

import yaml

from .files import write_text_atomic
from .paths import STUDY_RECORD


RECORD = STUDY_RECORD
# Where a study's results lie, in every layout: its processed data and its results/ (the record aside).
# data/raw is left out (checked copies of the inputs, the same for every study), as are logs/ and
# benchmarks/ (they describe jobs) and empty folders (Snakemake makes a job's before it runs it).
RESULT_FOLDERS = ("data/processed", "results")
# The layout of what this version of the workflow writes: the rules that make each file, their
# paths and their scripts. A study of an older layout is upgraded once (digitstudy-upgrade).
LAYOUT = 4
HEADER = (
    "# The study whose results this folder holds, written by each run of it: its name, the layout of\n"
    "# the workflow that made it, and its config. Once the study has results (under data/processed or\n"
    "# results/), digitstudy refuses a command whose config names another study; delete this file with\n"
    "# the results to start anew.\n"
)


def read_record(path=RECORD):
    """The recorded {'study', 'layout', 'configfiles', 'replace', 'config'}, or None where the folder
    has none yet."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        record = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        record = None
    if not isinstance(record, dict) or not isinstance(record.get("study"), str):
        raise ValueError(f"{path}: not a study record (YAML with the key 'study'); delete it to record anew")
    return record


def relative_configfiles(configfiles, folder):
    """The --configfile paths as a user typed them in `folder`: relative where they lie inside it."""
    paths = []
    for configfile in configfiles:
        path = os.path.abspath(configfile)
        inside = os.path.commonpath([path, os.path.abspath(folder)]) == os.path.abspath(folder)
        paths.append(os.path.relpath(path, folder) if inside else str(configfile))
    return paths


def selection_options(configfiles, replace=False):
    """The options that select a study, as a command's arguments."""
    return (["--configfile", *configfiles] if configfiles else []) + (["--replace-workflow-config"] if replace else [])


def selection(configfiles, replace=False):
    """The options that select a study, as a user would type them."""
    return shlex.join(selection_options(configfiles, replace))


def described(configfiles, replace=False):
    return selection(configfiles, replace) or "no --configfile"


def first_result(folder=".", under=RESULT_FOLDERS):
    """The first file (by name, relative to `folder`) among the results of a study in `folder`, or
    None where it holds none."""
    for name in under:
        # Walked in name order, stopping at the first file: every command of a large study asks.
        for top, folders, files in os.walk(Path(folder) / name):
            folders.sort()
            found = [Path(top, file).relative_to(folder).as_posix() for file in sorted(files)]
            found = [path for path in found if path != RECORD]
            if found:
                return found[0]
    return None


def newer_layout(record):
    """A record of a newer layout counts as results: where that version writes them is unknown here."""
    return record is not None and record.get("layout", 1) > LAYOUT


def other_study_error(record, study, configfiles, replace=False, folder="."):
    """One line when `folder` holds results of another study than the config names, else None."""
    if record is None or record["study"] == study:
        return None
    example = first_result(folder)
    if example is None and not newer_layout(record):
        return None
    recorded, recorded_replace = record.get("configfiles") or [], bool(record.get("replace"))
    remedy = (
        f"add {selection(recorded, recorded_replace)} (after any targets) to work on it"
        if recorded
        else "leave out --configfile to work on it"
    )
    return (
        f"{RECORD} says this folder holds the study '{record['study']}' (made with "
        f"{described(recorded, recorded_replace)}{f'; its results include {example}' if example else ''}), "
        f"but this command selects '{study}' "
        f"({described(configfiles, replace)}): {remedy}, or run '{study}' in another clone, or remove "
        "data/processed, results, logs and benchmarks first"
    )


def layout_of(record, folder="."):
    """The layout of the study in `folder`: its record's; a record without one, or runs without a
    record, are of layout 1 (before layouts were recorded); None for a folder with no study yet, or
    whose recorded study made nothing yet."""
    if not newer_layout(record) and first_result(folder) is None:
        return None
    if record is not None:
        return record.get("layout", 1)
    return 1 if first_result(folder, under=["results/runs"]) else None


def layout_error(layout, configfiles, replace=False):
    """One line when the folder's study was made by another layout of the workflow, else None."""
    if layout is None or layout == LAYOUT:
        return None
    if layout > LAYOUT:
        return (
            f"{RECORD}: this study was made by a newer version of digitstudy (layout {layout}; this one "
            f"writes layout {LAYOUT}): use that version, or run this one in another folder"
        )
    command = " ".join(filter(None, ["digitstudy-upgrade", selection(configfiles, replace)]))
    return (
        f"{RECORD}: this study was made by an earlier version of digitstudy (layout {layout}; this one "
        f"writes layout {LAYOUT}): bring it over without training anything again with: {command}"
    )


def write_record(path, study, configfiles, replace, config):
    """Record the study of this folder as this command selects it: each run that selects it otherwise
    rewrites it, so that it holds the config of the latest one."""
    body = {"study": study, "layout": LAYOUT, "configfiles": list(configfiles), "replace": bool(replace)}
    text = HEADER + yaml.safe_dump({**body, "config": config}, sort_keys=False)
    if not Path(path).is_file() or Path(path).read_text() != text:
        write_text_atomic(path, text)
