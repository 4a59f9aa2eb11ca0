"""Rule train_run: one (dataset, model, seed, lr, momentum) run to history.csv, metrics.json, model.pt."""

from digitstudy.runs import run_training
from digitstudy.scripting import logged
from digitstudy.training import RunSettings


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    wildcards, params = snakemake.wildcards, snakemake.params
    settings = RunSettings(
        model=wildcards.model, seed=int(wildcards.seed), lr=float(wildcards.lr),
        momentum=float(wildcards.momentum), batch_size=params.batch_size, epochs=params.epochs,
        chance_patience=params.chance_patience, device=params.device)
    record = run_training(
        dataset=wildcards.dataset, data_file=snakemake.input.data, settings=settings,
        threads=snakemake.threads, history_path=snakemake.output.history,
        metrics_path=snakemake.output.metrics, model_path=snakemake.output.model, log=log)
    log(f"{record['status']}: test error {record['test']['error']:.4f}, {record['wall_seconds']:.0f}s")
