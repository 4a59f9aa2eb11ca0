"""What every rule script does first: send stderr to the job's log and turn known errors into one line."""

import contextlib
import sys
import traceback
from pathlib import Path

from . import DigitstudyError


ERROR_PREFIX = "error: "  # how a job's log ends when a DigitstudyError ended it (progress.py reads it)


@contextlib.contextmanager
def logged(log_path):
    """Yield a function that writes a line to the log. A DigitstudyError ends the job with its
    one-line message in the log and on the terminal, and exit status 1; any other error is written
    to the log whole (its traceback) before it ends the job, so the log explains every failure."""
    terminal = sys.stderr
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", buffering=1) as log:
        sys.stderr = log
        try:
            yield lambda message: print(message, file=log)
        except DigitstudyError as error:
            print(f"{ERROR_PREFIX}{error}", file=log)
            print(f"digitstudy error: {error}", file=terminal)
            raise SystemExit(1) from None
        except Exception:
            traceback.print_exc(file=log)
            raise
        finally:
            sys.stderr = terminal
