"""Which study a folder holds, so that a command written for another one stops before it mixes them.

The quick and the full study share every path: a command that forgets `--configfile` (or adds one)
would plan one study over the other's results, retrain everything or report the wrong numbers.
The first run of a study in a folder records its name in results/study.yaml; every later command
must select the same name (config key `study`)."""

import os
from pathlib import Path

import yaml


RECORD = "results/study.yaml"
HEADER = (
    "# The study whose results this folder holds (written by its first run). digitstudy refuses a\n"
    "# command whose config names another study; delete this file with the results to start anew.\n"
)


def read_record(path):
    """The recorded {'study', 'configfiles'}, or None where the folder has none yet."""
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


def selection(configfiles):
    """The options that select a study, as a user would type them."""
    return " ".join(f"--configfile {path}" for path in configfiles) if configfiles else "no --configfile"


def other_study_error(record, study, configfiles):
    """One line when the folder holds another study than the config names, else None."""
    if record is None or record["study"] == study:
        return None
    recorded = record.get("configfiles") or []
    remedy = (
        f"add {selection(recorded)} (after any targets) to work on it"
        if recorded
        else "leave out --configfile to work on it"
    )
    return (
        f"{RECORD} says this folder holds the study '{record['study']}' (made with {selection(recorded)}), "
        f"but this command selects '{study}' ({selection(configfiles)}): {remedy}, or run '{study}' in "
        f"another clone, or remove data/processed, results, logs and benchmarks first"
    )


def write_record(path, study, configfiles):
    """Record the study of this folder, once: a record already there stays as it is."""
    path = Path(path)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump({"study": study, "configfiles": list(configfiles)}, sort_keys=False)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(HEADER + body)
    temporary.rename(path)
