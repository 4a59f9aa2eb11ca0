"""What every rule script does first: every error, expected or not, reaches the job's log."""

import pytest

from digitstudy import DigitstudyError
from digitstudy.scripting import logged


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
