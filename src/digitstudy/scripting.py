"""What every rule script does first: send stderr to the job's log, turn known errors into one line,
and a stop signal (Ctrl-C, Snakemake or Slurm ending the job) into one line too."""

import contextlib
import signal
import sys
import traceback
from pathlib import Path

from .errors import DigitstudyError


ERROR_PREFIX = "error: "  # how a job's log ends when a DigitstudyError ended it (progress.py reads it)
INTERRUPTED_PREFIX = "interrupted by "  # how it ends when a stop signal ended it (progress.py reads it)
# Ctrl-C sends SIGINT to the terminal's whole process group, jobs included; Snakemake, `kill` and
# Slurm (a cancelled, timed-out or pre-empted job) send SIGTERM.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# The handlers that job_started replaced, which logged() puts back when it closes the job's log.
_BEFORE_START = {}


class Interrupted(BaseException):
    """A stop signal reached the job: an event, not an error. A BaseException, as KeyboardInterrupt
    is, so that no `except Exception` on the way takes it for a failure. `detail` says what the job
    had done and what the next run does about it, where the code that knows adds it."""

    def __init__(self, signum):
        self.signal = signal.Signals(signum)
        self.detail = None
        super().__init__(self.signal.name)


def _ignore_further_stops():
    for each in STOP_SIGNALS:  # one line in the log, however many signals follow (Ctrl-C, then SIGTERM)
        signal.signal(each, signal.SIG_IGN)


def _stop(signum, frame):
    _ignore_further_stops()
    raise Interrupted(signum)


@contextlib.contextmanager
def stop_signals_raise():
    """SIGINT and SIGTERM raise Interrupted inside the block; the former handlers come back after it,
    and where job_started had replaced them, the ones it replaced (its handler ends here)."""
    former = {each: signal.signal(each, _stop) for each in STOP_SIGNALS}
    former.update(_BEFORE_START)
    _BEFORE_START.clear()
    try:
        yield
    finally:
        for each, handler in former.items():
            signal.signal(each, handler)


def job_started(job):
    """A rule script's first call, before it imports its libraries (seconds, for torch): a stop signal
    that comes before logged() takes over ends the job as logged() would, with one line in the job's
    log (`job` is the script's `snakemake` object), the shell's exit status and no traceback. Once
    logged() has opened the log, it owns the signals; when it closes the log it puts back the handlers
    that were there before this call, so nothing writes to a finished job's log."""

    def stop(signum, frame):
        _ignore_further_stops()
        interrupted = Interrupted(signum)
        interrupted.detail = "while the job was starting"
        Path(job.log[0]).parent.mkdir(parents=True, exist_ok=True)
        Path(job.log[0]).write_text(interrupted_line(interrupted) + "\n")
        raise SystemExit(128 + signum)

    for each in STOP_SIGNALS:
        former = signal.signal(each, stop)
        _BEFORE_START.setdefault(each, former)


def interrupted_line(stop):
    return f"{INTERRUPTED_PREFIX}{stop.signal.name}" + (f" {stop.detail}" if stop.detail else "")


def file_list(named):
    """A named input or output of a rule script as a list of paths: Snakemake gives a name that holds one
    file as that path alone, and a name that holds several as a list."""
    return [str(named)] if isinstance(named, (str, Path)) else [str(path) for path in named]


@contextlib.contextmanager
def logged(log_path):
    """Yield a function that writes a line to the log. A DigitstudyError ends the job with its
    one-line message in the log and on the terminal, and exit status 1; a stop signal with one line
    there too ("interrupted by SIGINT ...") and the shell's status for it (130 for SIGINT, 143 for
    SIGTERM); any other error is written to the log whole (its traceback) before it ends the job, so
    the log explains every failure."""
    terminal = sys.stderr
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", buffering=1) as log, stop_signals_raise():
        sys.stderr = log
        try:
            yield lambda message: print(message, file=log)
        except DigitstudyError as error:
            print(f"{ERROR_PREFIX}{error}", file=log)
            print(f"digitstudy error: {error}", file=terminal)
            raise SystemExit(1) from None
        except Interrupted as stop:
            print(interrupted_line(stop), file=log)
            print(f"digitstudy: {log_path}: {interrupted_line(stop)}", file=terminal)
            raise SystemExit(128 + stop.signal.value) from None
        except Exception:
            traceback.print_exc(file=log)
            raise
        finally:
            sys.stderr = terminal
