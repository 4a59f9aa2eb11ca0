"""Rule train_run: one (dataset, model, seed, lr, momentum, split) run to history.csv, metrics.json, model.pt."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.models import use_declared_model
from digitstudy.paths import EVENTS_DIR
from digitstudy.runs import train_run
from digitstudy.scripting import logged


use_declared_model(snakemake.wildcards.model, snakemake.params.declared_model)
with logged(snakemake.log[0]) as log:
    record = train_run(
        wildcards=dict(snakemake.wildcards.items()),
        settings={key: snakemake.params[key] for key in ("batch_size", "epochs", "chance_patience", "device")},
        threads=snakemake.threads,
        data_file=snakemake.input.data,
        outputs=snakemake.output,
        events_dir=EVENTS_DIR.format(**snakemake.wildcards),
        log=log,
    )
    log(f"{record['status']}: test error {record['test']['error']:.4f}, {record['wall_seconds']:.0f}s")
