"""Where the study in this folder stands: runs done, running and waiting, each running run's epoch, and
the training time left. Run it in the study's folder (beside a running `snakemake`, or after it):

    python scripts/progress.py              # once
    python scripts/progress.py --watch 30   # again every 30 s, until Ctrl-C
"""

import argparse
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "scripts"))

from digitstudy.progress import read_study, report  # noqa: E402 (after the path it is found on)


def show(folder):
    try:
        lines = report(read_study(folder))
    except (OSError, ValueError) as error:
        print(f"progress error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    print("\n".join([f"{time.strftime('%H:%M:%S')}  {Path(folder).resolve()}", *lines]), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=".", help="the study's folder (default: here)")
    parser.add_argument("--watch", type=float, metavar="SECONDS", help="show it again every SECONDS")
    arguments = parser.parse_args()
    show(arguments.folder)
    while arguments.watch:
        time.sleep(arguments.watch)
        print()
        show(arguments.folder)


if __name__ == "__main__":
    main()
