"""What every rule script does first: every error, expected or not, reaches the job's log."""

import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from digitstudy.errors import DigitstudyError
from digitstudy.scripting import STOP_SIGNALS, job_started, logged
from helpers import as_in_a_terminal, snakemake_command


def test_a_known_error_is_one_line_in_the_log_and_exit_status_1(tmp_path, capsys):
    log_path = tmp_path / "logs" / "job.log"
    with pytest.raises(SystemExit) as ended, logged(log_path) as log:
        log("started")
        raise DigitstudyError("data.h5: file not found")
    assert ended.value.code == 1
    assert log_path.read_text() == "started\nerror: data.h5: file not found\n"
    assert capsys.readouterr().err == "digitstudy error: data.h5: file not found\n"


def test_an_unexpected_error_is_in_the_log_with_its_traceback(tmp_path):
    log_path = tmp_path / "job.log"
    with pytest.raises(ZeroDivisionError), logged(log_path):
        1 / 0
    text = log_path.read_text()
    assert "Traceback (most recent call last)" in text and "ZeroDivisionError: division by zero" in text


def test_a_stop_signal_is_one_line_in_the_log_and_the_shells_exit_status(tmp_path, capsys):
    """SIGTERM (Snakemake, kill, Slurm) to a job that adds no detail of its own."""
    log_path, handler = tmp_path / "job.log", signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as ended, logged(log_path) as log:
        log("started")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
    assert ended.value.code == 143
    assert log_path.read_text() == "started\ninterrupted by SIGTERM\n"
    assert capsys.readouterr().err == f"digitstudy: {log_path}: interrupted by SIGTERM\n"
    assert signal.getsignal(signal.SIGTERM) is handler  # the former handlers are back


SLOW_START = """\
rule slow:
    output: "done.txt"
    log: "logs/slow.log"
    script: "slow.py"
"""
# A rule script still importing its libraries when Ctrl-C comes: the sleep stands for torch's import.
SLOW_SCRIPT = """\
from digitstudy.scripting import job_started

job_started(snakemake)  # the first call of every rule script

import time
from pathlib import Path

Path("started").touch()
time.sleep(60)
"""


@pytest.mark.workflow
def test_ctrl_c_while_a_job_starts_is_one_line_in_its_log_and_no_traceback(tmp_path):
    (tmp_path / "Snakefile").write_text(SLOW_START)
    (tmp_path / "slow.py").write_text(SLOW_SCRIPT)
    process = subprocess.Popen(
        snakemake_command(configfile=None, cores=1),
        cwd=tmp_path,
        start_new_session=True,
        preexec_fn=as_in_a_terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "started").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[0][-2000:]
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert (tmp_path / "logs" / "slow.log").read_text() == "interrupted by SIGINT while the job was starting\n"
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output[-2000:]


def stop_handlers():
    return {each: signal.getsignal(each) for each in STOP_SIGNALS}


def test_after_the_log_is_closed_the_handlers_before_the_start_are_back(tmp_path):
    """job_started's handler covers the imports; logged() owns the signals while the job works, and
    when it closes the log the handlers from before job_started are back: a signal then (the
    interpreter shutting down) cannot write to the finished job's log."""
    job, before = SimpleNamespace(log=[str(tmp_path / "job.log")]), stop_handlers()
    job_started(job)
    assert stop_handlers() != before
    with logged(job.log[0]) as log:
        log("done")
    assert stop_handlers() == before
    assert (tmp_path / "job.log").read_text() == "done\n"


def test_importing_the_package_changes_no_signal_handler():
    """Every module of digitstudy imported in a fresh Python: SIGINT and SIGTERM keep their handlers."""
    probe = (
        "import importlib, pkgutil, signal\n"
        "before = [signal.getsignal(each) for each in (signal.SIGINT, signal.SIGTERM)]\n"
        "import digitstudy\n"
        "for module in pkgutil.walk_packages(digitstudy.__path__, 'digitstudy.'):\n"
        "    importlib.import_module(module.name)\n"
        "assert [signal.getsignal(each) for each in (signal.SIGINT, signal.SIGTERM)] == before\n"
        "print('unchanged')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout == "unchanged\n", done.stderr[-2000:]
