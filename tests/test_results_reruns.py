"""What a change to the library reruns, on copies of a finished quick study: nothing where the results
versions stay (the library's files newer than every output), exactly a stage's jobs and what reads them
where a stage's version was raised (src/digitstudy/versions.py; CONTRIBUTING.md, "Results versions")."""

import json
import os
import time

import pytest

from digitstudy.versions import RESULTS_VERSIONS, RULE_STAGES
from helpers import REPO, copy_study, snakemake
from test_rerun import planned_jobs


pytestmark = pytest.mark.workflow


def library_files():
    return sorted((REPO / "src" / "digitstudy").rglob("*.py"))


def test_a_library_change_that_keeps_the_versions_reruns_nothing(quick_study, mnist_dir, tmp_path):
    """Every library file newer than every output, as after an edit of each (their times are put back)."""
    study = copy_study(quick_study, tmp_path / "study")
    times = {path: path.stat() for path in library_files()}
    try:
        later = time.time() + 60
        for path in times:
            os.utime(path, (later, later))
        dry = snakemake(study, "--dry-run", mnist_dir=mnist_dir)
    finally:
        for path, stat in times.items():
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert planned_jobs(dry) == [], dry.stdout[-3000:]


def as_made_by_version(study, stage, version):
    """The study's records as if `stage`'s jobs had been made by results version `version` (Snakemake
    keeps each output's params in .snakemake/metadata, each as its repr): what a raised version finds.
    Returns how many records it changed."""
    current, older = repr(f"{stage} {RESULTS_VERSIONS[stage]}"), repr(f"{stage} {version}")
    changed = 0
    for path in (study / ".snakemake" / "metadata").iterdir():
        record = json.loads(path.read_text())
        if current in (record.get("params") or []):
            record["params"] = sorted(older if param == current else param for param in record["params"])
            path.write_text(json.dumps(record))
            changed += 1
    return changed


@pytest.mark.parametrize("stage, follows", [("figures", {"write_summary", "all"}), ("predictions", None)])
def test_a_raised_version_reruns_exactly_its_stages_jobs_and_what_reads_them(
    quick_study, mnist_dir, tmp_path, stage, follows
):
    study = copy_study(quick_study, tmp_path / "study")
    assert as_made_by_version(study, stage, RESULTS_VERSIONS[stage] - 1) > 0
    dry = snakemake(study, "--dry-run", mnist_dir=mnist_dir)
    assert dry.returncode == 0, dry.stderr[-3000:]
    planned = {job.rule for job in planned_jobs(dry)}
    stage_rules = {rule for rule, its_stage in RULE_STAGES.items() if its_stage == stage}
    assert stage_rules <= planned
    if follows is not None:
        assert planned == stage_rules | follows
    assert not planned & {"train_run", "prepare_idx", "make_pairs", "fetch_idx"}  # nothing before the stage
