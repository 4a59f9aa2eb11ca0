"""The quick study stopped at chosen moments of its life and taken up again as a user would, then held
against the uninterrupted quick study: the driver (Moment, draw_moments, InterruptedStudy) and the
checks (whole_files, differences). Used by tests/test_interruptions.py, in CI and as a soak by hand."""

import fnmatch
import json
import os
import random
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import pandas as pd
import torch
from PIL import Image

from digitstudy.idx import parse_idx
from digitstudy.progress import read_study
from digitstudy.record import RECORD
from helpers import as_in_a_terminal, snakemake_command, snakemake_environment


FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)", re.MULTILINE)
STARTED = re.compile(r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    jobid: (\d+)$", re.MULTILINE)
# What Snakemake says when it demands what docs/usage.md ("When a job is killed") tells a user to do.
LOCKED = "Directory cannot be locked"
INCOMPLETE = "--rerun-incomplete"
REPORT = "results/report.html"
ATTEMPT_SECONDS = 900  # no attempt of the quick study takes this long: a hang fails the test instead
SIGNALS = (signal.SIGINT, signal.SIGKILL)


@dataclass(frozen=True)
class Moment:
    """Stop the study once `step` of its jobs have finished (step == its job count: while the report
    is made), `delay` seconds later, by `signum`: SIGINT to Snakemake's process group (Ctrl-C in its
    terminal) or SIGKILL to Snakemake and its jobs (a lost machine)."""

    step: int
    delay: float
    signum: int

    def __str__(self):
        return f"after job {self.step} + {self.delay:.2f} s, {signal.Signals(self.signum).name}"


def draw_moments(count, steps, seed):
    """`count` moments spread over a life of `steps` jobs and the report (which takes about a tenth
    of it): one drawn in each of `count` equal stretches of it, so that every stage is met; SIGINT
    and SIGKILL in turn."""
    rng, life = random.Random(seed), steps + max(1, steps // 10)
    moments = []
    for index in range(count):
        step = min(steps, int(rng.uniform(index * life / count, (index + 1) * life / count)))
        moments.append(Moment(step, round(rng.uniform(0.0, 2.0), 2), SIGNALS[index % 2]))
    return moments


def finished_jobs(text):
    return FINISHED.findall(text)


def running_rules(text):
    """The rules of the jobs an attempt started and had not finished (its log so far); none while
    Snakemake starts and plans."""
    finished = {jobid for jobid, _ in finished_jobs(text)}
    return sorted({rule for rule, jobid in STARTED.findall(text) if jobid not in finished})


def checkpoints(folder):
    """{run folder: epoch} of every training checkpoint on disk."""
    found = {}
    for path in sorted(Path(folder, "results", "runs").glob("*/*/*/checkpoint.pt")):
        found[str(path.parent.relative_to(folder))] = torch.load(path, weights_only=True)["epoch"]
    return found


def tracebacks(folder):
    """The job logs that hold a traceback (a stop signal must leave one line, not a traceback)."""
    logs = Path(folder, "logs").rglob("*.log")
    return [str(path) for path in logs if "Traceback" in path.read_text(errors="replace")]


def shown_interrupted(folder):
    """The runs the progress command shows as interrupted. None before Snakemake writes the study's
    record: stopped while it plans, the command says in one line that no study has started."""
    if not (Path(folder) / RECORD).exists():
        return 0
    return sum(run.state == "interrupted" for run in read_study(folder))


@dataclass
class Stop:
    """What one moment met: the stage (the rules running when the signal went, or the report) and how
    the attempt ended."""

    moment: Moment
    running: list
    outcome: str  # "stopped", or "missed" (the report ended before the moment)


@dataclass
class InterruptedStudy:
    """The quick study in `folder`, run from scratch, stopped at each moment and run again as
    docs/usage.md says: a plain rerun; `snakemake --unlock` where Snakemake says the folder is locked,
    `--rerun-incomplete` where it says files are incomplete. Then its report, stopped the same way."""

    folder: Path
    mnist_dir: Path
    steps: int  # the uninterrupted study's job count
    finished: int = 0  # jobs finished so far, over every attempt
    done: bool = False  # the study has finished; the report is next
    attempts: int = 0
    killed: bool = False  # a Snakemake was killed since the last --unlock: its lock is left
    pending: list = field(default_factory=list)  # what the last attempt's Snakemake demanded
    demanded: dict = field(default_factory=lambda: {"unlock": 0, "rerun-incomplete": 0})
    seen_checkpoints: dict = field(default_factory=dict)  # run folder: latest epoch seen at a stop
    stops: list = field(default_factory=list)
    running: list = field(default_factory=list)  # the rules running at the last stop
    reported: bool = False  # the last report command ended by itself
    shown_interrupted: int = 0  # runs the progress command showed as interrupted after a Ctrl-C

    def stop_at(self, moment):
        """Run the study (or once it is done, its report) and stop it at `moment`."""
        while True:
            report = self.done
            outcome = self.attempt(moment)
            if outcome in ("stopped", "missed") or (outcome == "ended" and report):
                self.stops.append(Stop(moment, self.running if outcome == "stopped" else [], outcome))
                return

    def finish(self):
        """Run the study and its report to their ends."""
        self.reported = False
        while not (self.attempt(None) == "ended" and self.done and self.reported):
            pass

    def attempt(self, moment):
        """One command, stopped at `moment` (None: never) unless it ends first: 'stopped'; 'ended' (exit
        status 0); 'refused' (Snakemake demanded --unlock or --rerun-incomplete); 'missed' (the report
        ended before the moment)."""
        report = self.done
        process, log_path = self.start(report)
        deadline, before, reached_at = time.monotonic() + ATTEMPT_SECONDS, self.finished, None
        while process.poll() is None:
            assert time.monotonic() < deadline, f"{log_path}: still running after {ATTEMPT_SECONDS} s"
            if moment is not None and reached_at is None:
                if report or before + len(finished_jobs(log_path.read_text())) >= moment.step:
                    reached_at = time.monotonic()
            if reached_at is not None and time.monotonic() >= reached_at + moment.delay:
                self.running = ["(report)"] if report else running_rules(log_path.read_text()) or ["(planning)"]
                self.stop(process, moment.signum)
                self.read_attempt(log_path)
                return "stopped"
            time.sleep(0.02)
        text = self.read_attempt(log_path)
        if process.returncode != 0:
            assert self.pending, f"{log_path} failed:\n{text[-3000:]}"
            return "refused"
        if report:
            self.reported = True
            return "missed" if moment is not None else "ended"
        self.done = True
        return "ended"

    def start(self, report):
        """The next command, with what the last one's Snakemake demanded."""
        extra = self.demands()
        self.attempts += 1
        log_path = self.folder.parent / f"attempt{self.attempts:03d}.log"
        arguments = ("--report", REPORT) if report else ()
        process = subprocess.Popen(
            snakemake_command(*arguments, *extra),
            cwd=self.folder,
            env=snakemake_environment(self.mnist_dir),
            start_new_session=True,  # a process group of its own, as a terminal's foreground job
            preexec_fn=as_in_a_terminal,
            stdout=subprocess.DEVNULL,
            stderr=log_path.open("w"),
        )
        return process, log_path

    def stop(self, process, signum):
        """Ctrl-C (SIGINT to the process group) or a lost machine (SIGKILL to all of it)."""
        os.killpg(process.pid, signum)
        self.killed = self.killed or signum == signal.SIGKILL
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError(f"snakemake did not end within 120 s of {signal.Signals(signum).name}") from None
        if signum == signal.SIGINT:
            found = tracebacks(self.folder)
            assert not found, f"Ctrl-C left a traceback in {found}"
            self.shown_interrupted += shown_interrupted(self.folder)
        self.seen_checkpoints.update(checkpoints(self.folder))

    def read_attempt(self, log_path):
        """Count the attempt's finished jobs and note what its Snakemake demanded."""
        text = log_path.read_text()
        self.finished += len(finished_jobs(text))
        self.pending = [
            demand
            for demand, said in (("unlock", LOCKED), ("rerun-incomplete", "IncompleteFilesException"))
            if said in text
        ]
        if "unlock" in self.pending:
            assert self.killed, f"{log_path}: locked, though no Snakemake was killed since the last --unlock"
        return text

    def demands(self):
        """`snakemake --unlock` now where the last attempt's Snakemake demanded it; the options it
        demanded for the next command."""
        pending, self.pending = self.pending, []
        for demand in pending:
            self.demanded[demand] += 1
        if "unlock" in pending:
            self.killed = False
            unlocked = subprocess.run(
                snakemake_command("--unlock"),
                cwd=self.folder,
                env=snakemake_environment(self.mnist_dir),
                capture_output=True,
                text=True,
            )
            assert unlocked.returncode == 0, unlocked.stderr[-2000:]
        return ["--rerun-incomplete"] if "rerun-incomplete" in pending else []


# --- the checks: every file whole, and the same as the uninterrupted study's ---------------------------


def whole_h5(path):
    with h5py.File(path, "r") as handle:
        handle.visititems(lambda name, item: item[()] if isinstance(item, h5py.Dataset) else None)


def whole_text(path):
    text = path.read_text()
    assert text.endswith("\n") or path.suffix == ".html", "does not end with a line end"
    return text


def whole_html(path):
    assert whole_text(path).rstrip().endswith(">"), "ends inside a tag or its text"


def whole_idx(path):
    """The workflow's own parser checks an IDX file's sizes against its header."""
    parse_idx(path.read_bytes(), path.name, 3 if "images" in path.name else 1)


def whole_png(path):
    with Image.open(path) as image:
        image.load()  # decodes every row: a truncated file raises


WHOLE = {
    ".h5": whole_h5,
    ".csv": lambda path: pd.read_csv(path) if whole_text(path) else None,
    ".tsv": lambda path: pd.read_csv(path, sep="\t") if whole_text(path) else None,
    ".json": lambda path: json.loads(whole_text(path)),
    ".yaml": lambda path: whole_text(path),
    ".md": lambda path: whole_text(path),
    ".html": whole_html,
    ".png": whole_png,
    ".pt": lambda path: torch.load(path, weights_only=True),
}


def study_files(folder):
    """Every file a study wrote where its results lie (results, data, benchmarks), by relative path."""
    folder = Path(folder)
    return sorted(
        str(path.relative_to(folder))
        for top in ("results", "data", "benchmarks")
        for path in (folder / top).rglob("*")
        if path.is_file()
    )


def partial_files(folder):
    """(files checked, problems): each file read whole by its kind's reader; a temporary file left by
    an atomic write, or a checkpoint, is a problem in a finished study."""
    problems, files = [], study_files(folder)
    for name in files:
        path = Path(folder) / name
        if path.name.startswith(".") or path.name == "checkpoint.pt":
            problems.append(f"{name}: left over")
            continue
        reader = WHOLE.get(path.suffix, whole_idx if name.startswith("data/raw/") else None)
        if reader is None:
            problems.append(f"{name}: no reader for this kind of file")
            continue
        try:
            reader(path)
        except Exception as error:  # any reader's failure is the finding
            problems.append(f"{name}: {type(error).__name__}: {error}")
    return len(files), problems


# What differs between two runs of the same study: how long things took, and where runs resumed.
TIMINGS = {"wall_seconds", "resumed_from_epoch", "seconds", "cpu_seconds", "saved_seconds"}
TIMINGS |= {"wall_hours", "cpu_hours", "saved_hours"}
HOURS = re.compile(r"\d+(\.\d+)? (CPU )?hours")  # the summary's sentence on compute


def timed_table(path):
    """A table (CSV) with timing columns, of which `path` may be the Markdown or HTML rendering."""
    table = path.with_suffix(".csv")
    return table.is_file() and bool(TIMINGS & set(table.read_text().partition("\n")[0].split(",")))


def without_timings(path):
    """The file's content as compared: a record or table without its timing keys or columns, a text
    with its hours masked; a rendering of a timed table stands for nothing (its CSV is compared)."""
    if path.suffix == ".json":
        record = json.loads(path.read_text())
        if isinstance(record, dict):
            return {key: value for key, value in record.items() if key not in TIMINGS}
        return record
    if path.suffix in (".csv", ".tsv"):
        frame = pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",")
        return frame.drop(columns=[column for column in frame.columns if column in TIMINGS]).to_csv()
    if path.suffix in (".md", ".html"):
        return None if timed_table(path) else HOURS.sub("N hours", path.read_text())
    return path.read_bytes()


def differences(reference, study, left_out=()):
    """The files of `study` that differ from the same files of `reference` (timings aside), or that
    only one has; `left_out`: path patterns not compared (fnmatch's: * spans folders)."""

    def compared(folder):
        return {name for name in study_files(folder) if not any(fnmatch.fnmatch(name, pattern) for pattern in left_out)}

    names, reference_names = compared(study), compared(reference)
    found = [f"{name}: only in the interrupted study" for name in sorted(names - reference_names)]
    found += [f"{name}: only in the uninterrupted study" for name in sorted(reference_names - names)]
    for name in sorted(names & reference_names):
        if without_timings(Path(study) / name) != without_timings(Path(reference) / name):
            found.append(f"{name}: differs")
    return found
