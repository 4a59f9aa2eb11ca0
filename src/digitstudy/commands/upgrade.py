"""Bring the study in this folder, made by an earlier version of digitstudy, over to this version
without training anything again. Every snakemake command prints this command, with the options that
select the study, when it meets such a study; run it in the study's folder:

    digitstudy-upgrade --configfile config/quick.yaml

It moves the files this version names otherwise, checks each data file and each trained run against
the config, marks the unchanged ones done with `snakemake --touch`, and records the new layout.
"""

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

from ..config import load_config
from ..errors import DigitstudyError
from ..record import (
    LAYOUT,
    RECORD,
    layout_of,
    other_study_error,
    read_record,
    relative_configfiles,
    selection_options,
    write_record,
)
from ..snakemake_internals import LOCKS, lock_time, remove_locks
from ..upgrade import apply_moves, complete_records, plan_lines, touch_command, upgrade_plan


def stop(problem):
    print(f"upgrade error: {problem}", file=sys.stderr)
    raise SystemExit(1)


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--configfile", nargs="+", default=[], action="extend", help="as given to snakemake")
    parser.add_argument("--replace-workflow-config", action="store_true", help="as given to snakemake")
    parser.add_argument(
        "--unlock", action="store_true", help="first remove the lock of a snakemake that was killed here"
    )
    return parser.parse_args()


def locked_error(unlock_command):
    """One line when a snakemake holds this folder's lock, else None. `snakemake --unlock` cannot remove the
    lock of a killed run here: it stops, like every snakemake command, on the study's older layout."""
    if lock_time(".") is None:
        return None
    return (
        f"a snakemake holds this folder's lock ({LOCKS}): wait until it ends; if none is running (one was "
        f"killed), remove its lock and upgrade with: {unlock_command}"
    )


def touch(plan, options, old_record):
    """snakemake --touch over the plan's runs; on failure the old record is put back (or none)."""
    command = [sys.executable, "-m", *touch_command(plan, options)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        if old_record is None:
            Path(RECORD).unlink()
        else:
            Path(RECORD).write_text(old_record)
        stop(f"snakemake --touch failed, nothing is recorded as upgraded:\n{done.stderr[-3000:]}")


def main():
    given = arguments()
    configfiles = relative_configfiles(given.configfile, Path.cwd())
    try:
        record = read_record(RECORD)
        config = load_config(configfiles, given.replace_workflow_config)
    except (ValueError, OSError, DigitstudyError) as error:
        stop(error)
    layout = layout_of(record)
    if layout in (None, LAYOUT):
        print(f"nothing to upgrade: {'no study here' if layout is None else f'this study is of layout {LAYOUT}'}")
        return
    if given.unlock:
        remove_locks(".")
    options = selection_options(configfiles, given.replace_workflow_config)
    locked = locked_error(shlex.join(["digitstudy-upgrade", *options, "--unlock"]))
    if locked:
        stop(locked)
    stop_if_other = other_study_error(record, config["study"], configfiles, given.replace_workflow_config)
    if stop_if_other:
        stop(stop_if_other)
    plan = upgrade_plan(layout, config)
    apply_moves(plan)
    complete_records(plan)
    old_record = Path(RECORD).read_text() if Path(RECORD).exists() else None
    write_record(RECORD, config["study"], configfiles, given.replace_workflow_config, config)
    if plan.targets:
        touch(plan, options, old_record)
    print("\n".join([f"upgraded the study '{config['study']}' from layout {layout} to {LAYOUT}:", *plan_lines(plan)]))


if __name__ == "__main__":
    main()
