"""Where a study stands while it runs: runs done, running and waiting, each running run's epoch, and
the training time left, estimated from the epochs this study has already timed.

Read from files only (the study record, each run's outputs, log and checkpoint, Snakemake's lock), so
it works beside a local `snakemake --cores N` and beside one that submits to Slurm, and never changes
anything. Snakemake's own progress line counts jobs; this counts epochs, which is what takes the time.
"""

import csv
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from .cluster import MNIST_PIXELS
from .files import read_json
from .models import model_spec, register_declared
from .paths import (
    CHECKPOINT_NAME,
    REPLICATE_PLAN,
    ROUND_DECISIONS,
    RUN_DIR,
    RUN_LOG,
    TRAIN_LOGS_ROOT,
    run_name,
    run_path,
)
from .record import RECORD, layout_error, layout_of, read_record
from .scripting import ERROR_PREFIX, INTERRUPTED_PREFIX
from .snakemake_internals import lock_time
from .study import (
    all_runs,
    confirm_looks,
    dataset_pixels,
    datasets,
    experiment_setting,
    experiments,
    plan_runs,
    replicates_so_far,
    unique_runs,
)


# The runs whose epochs the time left counts. A failed run waits for the next `snakemake` and may fail
# again; an interrupted one goes on then.
TO_GO = ("running", "waiting", "interrupted")


@dataclass
class Run:
    name: str  # {dataset}/{model}/{seed, lr, momentum}, as in the run's paths
    experiment: tuple  # (dataset, model)
    run: tuple  # (seed, lr, momentum); a replicate's (seed, lr, momentum, split seed); None until named
    epochs: int
    cost: float  # the registry's seconds per epoch and 1,000 images (models.py), scaled to its image size
    state: str = "waiting"  # done, running, failed, interrupted or waiting
    epoch_seconds: list = field(default_factory=list)  # the epochs finished so far, timed
    last_change: float = 0.0  # when its log or checkpoint was last written (seconds since the epoch)

    @property
    def epochs_done(self):
        return len(self.epoch_seconds)


def study_config(folder):
    """The config of the study this folder holds, as its latest run resolved it (its record)."""
    record = read_record(Path(folder) / RECORD)
    if record is None:
        raise ValueError(f"{Path(folder) / RECORD} does not exist: no study has started in {folder}")
    problem = layout_error(layout_of(record, folder), record.get("configfiles") or [], record.get("replace"))
    if problem:
        raise ValueError(problem)
    return record["config"]


def decided_rounds(dataset, folder):
    """A task's decisions of the rounds decided so far (rounds/round<r>.json, in order)."""
    decided = []
    while (path := Path(folder) / ROUND_DECISIONS.format(dataset=dataset, round=len(decided) + 1)).is_file():
        decided.append(read_json(path))
    return decided


def known_runs(config, dataset, model, folder):
    """An experiment's runs: its seed study and grid, then the replicates its rounds have given it so far
    (replicates.json, from the checkpoint plan_replicates, and the rounds' decisions); until the plan is
    written, a None for each replicate of the first round."""
    plan = Path(folder) / REPLICATE_PLAN.format(dataset=dataset, model=model)
    if not plan.is_file():
        return all_runs(config) + [None] * config["confirm"]["first"]
    count = replicates_so_far(confirm_looks(config), decided_rounds(dataset, folder), model)
    return unique_runs(all_runs(config) + plan_runs(plan)[:count])


def run_label(dataset, model, run, index):
    """A run's name in the report: its path's, or, for a replicate still to be named, its place."""
    return f"{dataset}/{model}/{run_name(*run) if run else f'replicate {index} (after the choice)'}"


def planned_runs(config, folder):
    """Every run of the study in `folder` known so far, in config order."""
    register_declared(config.get("models"))  # the cost figures of models of the user's own
    pixels = {dataset: dataset_pixels(config, dataset, folder) for dataset in datasets(config)}
    planned = []
    for dataset, model in experiments(config):
        runs = known_runs(config, dataset, model, folder)
        planned += [
            Run(
                run_label(dataset, model, run, index - len(all_runs(config)) + 1),
                (dataset, model),
                run,
                experiment_setting(config, dataset, model, "epochs"),
                model_spec(model).epoch_seconds_per_1000 * pixels[dataset] / MNIST_PIXELS,
            )
            for index, run in enumerate(runs)
        ]
    return planned


def modified(path):
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None


def run_dir(folder, run):
    """The run's folder in the study in `folder`."""
    return Path(folder) / run_path(RUN_DIR, *run.experiment, run.run)


def run_log(folder, run):
    """The run's job log."""
    return Path(folder) / run_path(RUN_LOG, *run.experiment, run.run)


def how_it_ended(log):
    """'failed' or 'interrupted' where the job's log ends as digitstudy.scripting.logged ends a job that
    an error (an error line or a traceback) or a stop signal ended, else None."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except FileNotFoundError:  # removed since it was looked at: nothing to report
        return None
    if lines and lines[-1].startswith(INTERRUPTED_PREFIX):
        return "interrupted"
    if lines and (lines[-1].startswith(ERROR_PREFIX) or any(line.startswith("Traceback") for line in lines)):
        return "failed"
    return None


def run_state(folder, run, started):
    """done (its metrics.json exists); failed or interrupted (its log ends in an error or a stop signal,
    unless a later Snakemake took it up again); running (a Snakemake holds the lock and the job's log is
    from after it started); waiting."""
    log = run_log(folder, run)
    log_time = modified(log)
    if (run_dir(folder, run) / "metrics.json").exists():
        return "done"
    if log_time is None:
        return "waiting"
    after_start = started is not None and log_time >= started
    ended = how_it_ended(log)
    if ended and (started is None or after_start):
        return ended
    return "running" if after_start else "waiting"


def history_seconds(path):
    with open(path, newline="") as handle:
        return [float(row["seconds"]) for row in csv.DictReader(handle)]


def checkpoint_seconds(path):
    """The epoch times of a run's checkpoint (a running job's, or a killed one's), [] without one."""
    import torch  # only here: a study without checkpoints is read without it

    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (FileNotFoundError, RuntimeError, EOFError, OSError):
        return []
    return [float(row["seconds"]) for row in checkpoint["history"]]


def read_run(folder, run, started):
    """The run with its state, its timed epochs and when it last changed (a replicate still to be
    named waits)."""
    if run.run is None:
        return run
    folder_of_run, log = run_dir(folder, run), run_log(folder, run)
    run.state = run_state(folder, run, started)
    if run.state == "done":
        run.epoch_seconds = history_seconds(folder_of_run / "history.csv")
    elif (folder_of_run / CHECKPOINT_NAME).exists():
        run.epoch_seconds = checkpoint_seconds(folder_of_run / CHECKPOINT_NAME)
    checkpoint_time = modified(folder_of_run / CHECKPOINT_NAME)
    run.last_change = max(filter(None, [modified(log), checkpoint_time]), default=0.0)
    return run


def read_study(folder):
    """Every run of the study in `folder`, read as it stands now."""
    started = lock_time(folder)
    runs = planned_runs(study_config(folder), folder)
    return [read_run(folder, run, started) for run in runs]


# --- the estimate -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AtOnce:
    runs: int  # training runs at once
    basis: str  # what the number rests on, as the report says it


def runs_at_once(running, snakemake_now):
    """How many training runs go at once, as far as this folder's files tell. Snakemake's --cores are
    in none of them, so: the `running` runs, while a Snakemake works here (`snakemake_now`: its lock);
    one otherwise. Said to be assumed either way, never passed off as known."""
    if snakemake_now and running:
        return AtOnce(running, "assumed: as many as train now")
    return AtOnce(1, "assumed: one, as " + ("none trains now" if snakemake_now else "no snakemake runs now"))


def study_at_once(folder, runs):
    """runs_at_once for the study in `folder`, whose runs (read_study) are `runs`."""
    return runs_at_once(sum(run.state == "running" for run in runs), lock_time(folder) is not None)


def seconds_per_epoch(runs):
    """{experiment: median seconds of its timed epochs}; an experiment with none timed yet gets its
    runs' cost figure (model and image size) scaled to this machine by the timed ones."""
    timed, cost = {}, {run.experiment: run.cost for run in runs}
    for run in runs:
        timed.setdefault(run.experiment, []).extend(run.epoch_seconds)
    measured = {experiment: statistics.median(seconds) for experiment, seconds in timed.items() if seconds}
    if not measured:
        return {}
    machine = statistics.median(seconds / cost[experiment] for experiment, seconds in measured.items())
    return {experiment: measured.get(experiment, machine * cost[experiment]) for experiment in timed}


def time_left(runs, slots):
    """Seconds of training left with `slots` runs at once: the remaining epochs' work shared by the
    slots, but never less than the longest single run still to go. None before any epoch is timed."""
    per_epoch = seconds_per_epoch(runs)
    if not per_epoch:
        return None
    to_go = [run for run in runs if run.state in TO_GO]
    left = [per_epoch[run.experiment] * (run.epochs - run.epochs_done) for run in to_go]
    return max(sum(left) / max(1, slots), max(left, default=0.0))


# --- the report -------------------------------------------------------------------------------------


def duration(seconds):
    """12 s, 4 min 05 s, 2 h 03 min."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def run_line(run, now, width):
    """One started run: its epochs done, the time per epoch so far and how long since its last change."""
    pace = f", {statistics.median(run.epoch_seconds):.1f} s per epoch" if run.epoch_seconds else ""
    since = f", last change {duration(now - run.last_change)} ago" if run.last_change else ""
    return f"  {run.name:<{width}}  {run.epochs_done}/{run.epochs} epochs{pace}{since}"


def interrupted_note(runs):
    """What the next snakemake does with the interrupted `runs`: resumes each whose checkpoint holds its
    finished epochs (read_run), starts the others afresh."""
    resumed = sum(bool(run.epochs_done) for run in runs)
    afresh = len(runs) - resumed
    if not afresh:
        return "the next snakemake resumes " + (
            "it from its checkpoint" if resumed == 1 else "them from their checkpoints"
        )
    if not resumed:
        return "no checkpoint yet: the next snakemake starts " + ("it" if afresh == 1 else "them") + " afresh"
    checkpoints = "its checkpoint" if resumed == 1 else "their checkpoints"
    return f"the next snakemake resumes {resumed} from {checkpoints} and starts {afresh} afresh, with no checkpoint yet"


def started_line(run, now, width):
    """A running or interrupted run's line; an interrupted one says whether it resumes."""
    line = run_line(run, now, width)
    if run.state != "interrupted":
        return line
    return line + (
        f", interrupted: resumes after epoch {run.epochs_done}"
        if run.epochs_done
        else ", interrupted: no checkpoint yet, starts afresh"
    )


def estimate_line(runs, at_once):
    """The training time left, with how many runs at once and what that number rests on."""
    if all(run.state == "done" for run in runs):
        return "training: finished"
    to_go = sum(run.state in TO_GO for run in runs)
    slots = max(1, min(at_once.runs, to_go))  # no more at once than there are runs to go
    left = time_left(runs, slots)
    if left is None:
        return "training time left: not known until a first epoch is timed"
    count = "1 run at once" if slots == 1 else f"{slots} runs at once"
    timed = sum(run.epochs_done for run in runs)
    return f"training time left: about {duration(left)} at {count} ({at_once.basis}; from {timed} timed epochs)"


def report(runs, at_once, now=None):
    """The lines the progress command prints; at_once: study_at_once()."""
    now = time.time() if now is None else now
    states = ("done", "running", "waiting", "failed", "interrupted")
    count = {state: sum(run.state == state for run in runs) for state in states}
    interrupted = [run for run in runs if run.state == "interrupted"]
    lines = [
        f"runs: {len(runs)}, done {count['done']}, running {count['running']}, waiting {count['waiting']}"
        + (f", failed {count['failed']} (see {TRAIN_LOGS_ROOT}/)" if count["failed"] else "")
        + (f", interrupted {len(interrupted)} ({interrupted_note(interrupted)})" if interrupted else "")
    ]
    started = [run for run in runs if run.state in ("running", "interrupted")]
    width = max((len(run.name) for run in started), default=0)
    return lines + [started_line(run, now, width) for run in started] + [estimate_line(runs, at_once)]
