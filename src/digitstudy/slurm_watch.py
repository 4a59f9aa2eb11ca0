"""Watch this Snakemake run's pending Slurm jobs: say why they wait, and cancel those that never can start.

The slurm executor plugin polls job states only; a job that pends for a reason no amount of waiting
resolves (its partition's limits, an invalid account) would keep Snakemake waiting without a word.
Only this run's jobs are touched: the plugin names every job it submits by the run's id (a UUID), and
the watch asks squeue for that name alone; a job of the same user and folder that this run did not
submit is not listed, so neither reported nor cancelled.
"""

import re
import sys
import threading
import time

from .process import run_command


# Reasons that change only when someone changes the job, the partition or the accounts.
NEVER_REASONS = {
    "PartitionConfig": "the job asks for more than the partition's nodes have",
    "PartitionTimeLimit": "the job's time limit exceeds the partition's MaxTime",
    "PartitionNodeLimit": "the job asks for more nodes than the partition allows",
    "InvalidAccount": "the account is not valid",
    "InvalidQOS": "the QOS is not valid",
    "BadConstraints": "no node has the requested features",
    "DependencyNeverSatisfied": "a job it depends on failed",
}
PER_JOB_LIMIT = re.compile(r"^(QOS|Assoc)Max\w*Per(Job|Node)\w*$|^QOSMin\w+$")
SQUEUE_FORMAT = "%i|%T|%r|%k"


def never_starts(reason):
    """Slurm's explanation of a pending reason that waiting cannot resolve, else None."""
    if reason in NEVER_REASONS:
        return NEVER_REASONS[reason]
    if PER_JOB_LIMIT.match(reason):
        return "the job exceeds a per-job limit of its QOS or account"
    return None


def pending_jobs(squeue_output):
    """(job id, reason, comment) of the PENDING jobs in the output of `squeue -h -o SQUEUE_FORMAT`."""
    jobs = []
    for line in squeue_output.splitlines():
        fields = line.split("|")
        if len(fields) == 4 and fields[1] == "PENDING":
            job_id, _, reason, comment = fields
            jobs.append((job_id, reason, comment))
    return jobs


def squeue_command(run_id):
    """squeue of this user's jobs that carry the run's id as their name (the plugin's --job-name)."""
    return ["squeue", "-h", "--me", "--name", run_id, "-o", SQUEUE_FORMAT]


def cancel_message(job_id, reason, comment):
    return (
        f"Slurm job {job_id} ({comment}) can never start: {reason} ({never_starts(reason)}); "
        f"cancelled. Change what it asks with --set-resources or its partition, then run again."
    )


def waiting_message(job_id, reason, comment, minutes):
    return f"Slurm job {job_id} ({comment}) has waited {minutes} min to start; Slurm says: {reason}"


class PendingWatch:
    """Poll squeue every `interval` seconds for the jobs of the Snakemake run `run_id` (the slurm plugin's
    run id: snakemake_internals.SnakemakeRun.slurm_run_id); cancel never-starting ones, and every
    `report_minutes` say why the others still wait. `cancelled` keeps a line per cancelled job for the
    final word."""

    def __init__(self, run_id, interval=10, report_minutes=5, run=run_command, say=None):
        self.run_id, self.interval, self.report_minutes = run_id, interval, report_minutes
        self.run = run
        self.say = say or (lambda line: print(line, file=sys.stderr, flush=True))
        self.first_seen, self.reported, self.cancelled = {}, {}, []

    def check(self, now):
        squeue = self.run(squeue_command(self.run_id))
        for job_id, reason, comment in pending_jobs(squeue or ""):
            self.first_seen.setdefault(job_id, now)
            if never_starts(reason):
                if self.run(["scancel", job_id]) is not None:
                    self.cancelled.append(cancel_message(job_id, reason, comment))
                    self.say(self.cancelled[-1])
                continue
            minutes = int((now - self.first_seen[job_id]) // 60)
            if minutes >= self.report_minutes and minutes // self.report_minutes > self.reported.get(job_id, 0):
                self.reported[job_id] = minutes // self.report_minutes
                self.say(waiting_message(job_id, reason, comment, minutes))

    def start(self):
        def loop():
            while True:
                time.sleep(self.interval)
                self.check(time.monotonic())

        threading.Thread(target=loop, name="slurm-pending-watch", daemon=True).start()
        return self
