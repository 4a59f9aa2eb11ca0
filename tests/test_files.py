"""Atomic writes: a file appears whole or not at all, and a killed write leaves nothing behind once the
file is written again."""

import os

import pytest

from digitstudy.files import atomic_path, write_text_atomic


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "table.csv"
    write_text_atomic(path, "old\n")
    with pytest.raises(RuntimeError), atomic_path(path) as temporary:
        temporary.write_text("half")
        raise RuntimeError("the job failed")
    assert path.read_text() == "old\n" and os.listdir(tmp_path) == ["table.csv"]


def test_the_next_write_removes_what_a_killed_write_left(tmp_path):
    """SIGKILL between the temporary file and the rename leaves the temporary; the job's next run
    writes the file again and removes it. Another file's temporary is not this write's to remove."""
    killed = tmp_path / ".curves.png.oefhw0q4.tmp"
    killed.write_bytes(b"\x89PNG half")
    other = tmp_path / ".curves.png.csv.x1y2z3.tmp"
    other.write_text("half")
    write_text_atomic(tmp_path / "curves.png", "whole")
    assert sorted(os.listdir(tmp_path)) == [other.name, "curves.png"]
