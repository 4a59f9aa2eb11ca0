"""Atomic file writes (a job's outputs appear whole or not at all), and the one JSON reader."""

import contextlib
import glob
import hashlib
import json
import math
import os
import re
import tempfile
from pathlib import Path


TEMPORARY_SUFFIX = ".tmp"


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def remove_stale_temporaries(path):
    """The temporary files an earlier write of `path` left when it was killed (SIGKILL, a lost
    machine). Only the job that makes a file writes it, so any such file is stale."""
    made_by_mkstemp = re.compile(rf"\.{re.escape(path.name)}\.\w+{re.escape(TEMPORARY_SUFFIX)}")
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*"):
        if made_by_mkstemp.fullmatch(stale.name):
            stale.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; rename it to `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent)
    os.close(handle)
    os.chmod(temporary, 0o666 & ~current_umask())  # mkstemp makes it private; outputs are not
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_bytes_atomic(path, content):
    with atomic_path(path) as temporary:
        temporary.write_bytes(content)


def write_text_atomic(path, text):
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def _finite_or_none(value):
    """JSON has no NaN or infinity: a diverged run's non-finite numbers become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(item) for item in value]
    return value


def write_json_atomic(path, record):
    write_text_atomic(path, json.dumps(_finite_or_none(record), indent=2, allow_nan=False) + "\n")


def read_json(path):
    """A JSON record (metrics.json, choice.json) as written by write_json_atomic."""
    return json.loads(Path(path).read_text())


def sha256_of(content):
    return hashlib.sha256(content).hexdigest()


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
