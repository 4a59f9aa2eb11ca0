"""Where the study in this folder stands: runs done, running and waiting, each running run's epoch, and
the training time left. Run it in the study's folder (beside a running `snakemake`, or after it):

    python scripts/progress.py              # once
    python scripts/progress.py --watch 30   # again every 30 s, until Ctrl-C
"""

import argparse
import os
import shlex
import sys
import time
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))


def arguments():
    # Parsed before the project's packages are imported: --help needs none of them.
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", default=".", help="the study's folder (default: here)")
    parser.add_argument("--watch", type=float, metavar="SECONDS", help="show it again every SECONDS")
    return parser.parse_args()


def stop(problem):
    print(f"progress error: {problem}", file=sys.stderr)
    raise SystemExit(1)


def venv_activate():
    """The command that activates the project's venv (README.md, Install), its path as typed here:
    relative inside this folder, absolute elsewhere."""
    script = REPO / ".venv" / "bin" / "activate"
    inside = Path.cwd().resolve() in script.parents
    return ". " + shlex.quote(os.path.relpath(script) if inside else str(script))


def study_reader():
    """digitstudy's (read_study, report); one line where the project's packages are missing (a second
    terminal without the venv active) instead of a traceback."""
    try:
        from digitstudy.progress import read_study, report
    except ImportError as error:
        if (error.name or "").split(".")[0] == "digitstudy":
            raise  # the project's own code is broken: its traceback says where
        stop(
            f"{error}: {sys.executable} lacks the project's packages; activate their venv first "
            f"({venv_activate()}), as README.md says under Install"
        )
    return read_study, report


def show(folder, read_study, report):
    try:
        lines = report(read_study(folder))
    except (OSError, ValueError) as error:
        stop(error)
    print("\n".join([f"{time.strftime('%H:%M:%S')}  {Path(folder).resolve()}", *lines]), flush=True)


def main():
    given = arguments()
    read_study, report = study_reader()
    show(given.folder, read_study, report)
    while given.watch:
        time.sleep(given.watch)
        print()
        show(given.folder, read_study, report)


if __name__ == "__main__":
    main()
