"""What every rule script does first: every error, expected or not, reaches the job's log."""

import os
import signal
import subprocess
import time

import pytest

from digitstudy import DigitstudyError
from digitstudy.scripting import logged
from helpers import REPO, as_in_a_terminal, snakemake_command


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
import sys
import time
from pathlib import Path

sys.path.insert(0, {scripts!r})
import digitstudy  # noqa: E402 (the first import of every rule script)

Path("started").touch()
time.sleep(60)
"""


@pytest.mark.workflow
def test_ctrl_c_while_a_job_starts_is_one_line_in_its_log_and_no_traceback(tmp_path):
    (tmp_path / "Snakefile").write_text(SLOW_START)
    (tmp_path / "slow.py").write_text(SLOW_SCRIPT.format(scripts=str(REPO / "workflow" / "scripts")))
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
