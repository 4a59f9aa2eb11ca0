"""The whole quick study stopped at moments spread over its life (data preparation, training,
prediction, tables, plots, summary, report), by Ctrl-C (SIGINT to Snakemake's process group) and by
SIGKILL of Snakemake and its jobs in turn, each time taken up again as docs/usage.md tells a user;
then held against the uninterrupted quick study: the same runs, weights, tables and summary (timings
aside), every file whole, no run trained again from scratch where a checkpoint was left.

The moments are drawn from a seed, printed (and named in every failure); INTERRUPTION_SEED repeats a
draw. The soak by hand (CONTRIBUTING.md): INTERRUPTIONS=50 python -m pytest tests/test_interruptions.py -n 0 -s
"""

import json
import os
import random
import signal

import pytest

from helpers import QUICK_STUDY_LOG, copy_workflow
from interruptions import REPORT, InterruptedStudy, differences, draw_moments, finished_jobs, partial_files


pytestmark = [pytest.mark.workflow, pytest.mark.slow]
MOMENTS = int(os.environ.get("INTERRUPTIONS", "8"))
SEED = int(os.environ.get("INTERRUPTION_SEED") or random.SystemRandom().randrange(10**6))
# Snakemake's benchmark files hold only timings; the uninterrupted study made no report.
NOT_COMPARED = ("benchmarks/*", REPORT)


def resumed_from(study, run):
    return json.loads((study / run / "metrics.json").read_text())["resumed_from_epoch"] or 0


def account(study, checked, partial, found):
    """What the soak's note quotes: the moments tried and what they met, files checked, differences."""
    signals = [signal.Signals(stop.moment.signum).name for stop in study.stops]
    lines = [
        f"interruption seed {SEED}: {len(study.stops)} moments ({signals.count('SIGINT')} SIGINT, "
        f"{signals.count('SIGKILL')} SIGKILL), {study.attempts} snakemake commands; Snakemake demanded "
        f"--unlock {study.demanded['unlock']} times, --rerun-incomplete {study.demanded['rerun-incomplete']} times",
        *(f"  {stop.moment}: {stop.outcome} {' '.join(stop.running)}" for stop in study.stops),
        f"runs shown as interrupted by the progress command after a Ctrl-C: {study.shown_interrupted}; "
        f"checkpoints seen at a stop: {len(study.seen_checkpoints)}; files checked whole: {checked}, "
        f"partial: {len(partial)}; files differing from the uninterrupted study: {len(found)}",
    ]
    return "\n".join(lines + partial + found)


def test_a_study_stopped_anywhere_ends_as_the_uninterrupted_one(quick_study, tmp_path, mnist_dir):
    print(f"interruption seed {SEED} (INTERRUPTION_SEED={SEED} draws these moments again)")
    steps = len(finished_jobs((quick_study.parent / QUICK_STUDY_LOG).read_text()))
    study = InterruptedStudy(copy_workflow(tmp_path / "study"), mnist_dir, steps)
    for moment in draw_moments(MOMENTS, steps, SEED):
        study.stop_at(moment)
    study.finish()
    checked, partial = partial_files(study.folder)
    found = differences(quick_study, study.folder, left_out=NOT_COMPARED)
    print(account(study, checked, partial, found))
    assert not partial and not found, account(study, checked, partial, found)
    trained_again = {
        run: epoch for run, epoch in study.seen_checkpoints.items() if resumed_from(study.folder, run) < epoch
    }
    assert not trained_again, f"seed {SEED}: trained again from scratch though a checkpoint was left: {trained_again}"
    assert sum(stop.outcome == "stopped" for stop in study.stops) >= MOMENTS // 2, account(study, checked, [], [])
