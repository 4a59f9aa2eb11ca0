"""A training run's TensorBoard event files: its curves after every epoch, its hyperparameters with its
final and best values at the end (TensorBoard's HParams tab).

They lie under logs/tensorboard/, mirroring the run paths (`tensorboard --logdir logs/tensorboard`).
They are a view of the run, like its log: not outputs of the job (a finished study does not rerun
for them), never read back by the workflow, and written from numbers training has already made, so
they cannot change a result. tensorboard is optional: without it a run says so in one line.
"""

from pathlib import Path


EVENT_FILES = "events.out.tfevents.*"
# Tags of the curves (one point per epoch) and of the run's history columns they show.
CURVES = {
    "loss/train": "train_loss",
    "loss/valid": "valid_loss",
    "error/train": "train_error",
    "error/valid": "valid_error",
    "time/epoch_seconds": "seconds",
}
# The HParams columns: what tells a run from the others of the study. TensorBoard shows the first five
# by default, those that differ between the runs first, then by name: dataset, lr, model, momentum and
# seed in the full study. The settings an experiment gives all its runs (batch_size, epochs) are left
# out: its dataset and model say them, and batch_size, differing between models, would hide seed.
HPARAMS = ("dataset", "model", "seed", "split_seed", "lr", "momentum")


def hparams_of(record):
    """The run's hyperparameters and its status (ok or diverged), as HParams columns."""
    return {**{key: record[key] for key in HPARAMS}, "status": record["status"]}


def metrics_of(record):
    """{metric tag: value} of a run's best epoch (metrics.json); None (a diverged run's NaN) becomes
    NaN. Its final values are the curves' last points, which the HParams tab shows as they are.
    Tagged result/...: TensorBoard sorts sections by name, and the curves (error, loss) come first."""
    best = record["best_valid"]
    values = {"result/best_valid_error": best["valid_error"], "result/best_valid_loss": best["valid_loss"]}
    values["result/best_epoch"] = best["epoch"]
    return {tag: float("nan") if value is None else float(value) for tag, value in values.items()}


class RunEvents:
    """Writes one run's events; write errors (a full disk) end the events, never the training."""

    def __init__(self, writer, log):
        self.writer, self.log, self.written = writer, log, 0

    def add_epochs(self, history):
        """Write the epochs of `history` not written yet, and flush them for a TensorBoard watching."""
        rows = [row for row in history if row["epoch"] > self.written]
        self._guarded(lambda: self._write_rows(rows))

    def finish(self, history, record):
        """The last epochs (a diverged run's last one has no checkpoint), then the HParams entry."""
        self.add_epochs(history)
        self._guarded(lambda: self._write_hparams(record, history[-1]["epoch"]))
        self._guarded(lambda: self.writer.close())

    def _write_rows(self, rows):
        for row in rows:
            for tag, column in CURVES.items():
                self.writer.add_scalar(tag, row[column], row["epoch"])
            self.written = row["epoch"]
        self.writer.flush()

    def _write_hparams(self, record, last_epoch):
        from torch.utils.tensorboard.summary import hparams

        metrics = metrics_of(record)
        # The session's start and end, not the experiment summary: TensorBoard takes the first experiment
        # summary it finds for the whole study's, and one run's knows only its own values, so every
        # column would read as not differing. Without one, TensorBoard derives the columns from all
        # the runs: which differ, their ranges, and every scalar as a metric.
        _, start, end = hparams(hparams_of(record), metrics)
        for summary in (start, end):
            self.writer.file_writer.add_summary(summary, last_epoch)
        for tag, value in metrics.items():
            self.writer.add_scalar(tag, value, last_epoch)
        self.writer.flush()

    def _guarded(self, write):
        if self.writer is None:
            return
        try:
            write()
        except OSError as error:
            self.log(f"event files stopped: {error}; training goes on")
            self.writer = None


def open_events(directory, history, log):
    """RunEvents for a run that starts (history []) or resumes with the epochs of its checkpoint;
    one that writes nothing where `directory` is None.
    Earlier event files of the run are replaced by `history`: a killed job may have written an epoch
    its checkpoint lacks, or the reverse, and the rerun trains from the checkpoint, so each epoch
    appears exactly once."""
    if directory is None:
        return RunEvents(None, log)
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        log("tensorboard not installed: no event files")
        return RunEvents(None, log)
    try:
        for old in Path(directory).glob(EVENT_FILES):
            old.unlink()
        # purge_step: a TensorBoard already showing the old files drops their epochs too.
        events = RunEvents(SummaryWriter(str(directory), purge_step=1), log)
    except OSError as error:
        log(f"no event files: {error}")
        return RunEvents(None, log)
    events.add_epochs(history)
    return events
