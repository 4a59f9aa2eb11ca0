"""Where the study in this folder stands: runs done, running and waiting, each running run's epoch, which
interrupted runs resume from a checkpoint, and the training time left, with the runs at once it
assumes. Run it in the study's folder (beside a running `snakemake`, or after it):

    digitstudy-progress              # once
    digitstudy-progress --watch 30   # again every 30 s, until Ctrl-C
"""

import argparse
import sys
import time
from pathlib import Path

from ..progress import read_study, report, study_at_once


def arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", default=".", help="the study's folder (default: here)")
    parser.add_argument("--watch", type=float, metavar="SECONDS", help="show it again every SECONDS")
    return parser.parse_args()


def stop(problem):
    print(f"progress error: {problem}", file=sys.stderr)
    raise SystemExit(1)


def show(folder):
    try:
        runs = read_study(folder)
        lines = report(runs, study_at_once(folder, runs))
    except (OSError, ValueError) as error:
        stop(error)
    print("\n".join([f"{time.strftime('%H:%M:%S')}  {Path(folder).resolve()}", *lines]), flush=True)


def main():
    given = arguments()
    show(given.folder)
    while given.watch:
        time.sleep(given.watch)
        print()
        show(given.folder)


if __name__ == "__main__":
    main()
