"""Rule predict_round: a round's replicates of one experiment, each run's prediction for every test image,
from its saved weights (nothing is trained for them)."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

import torch

from digitstudy.files import read_json
from digitstudy.models import use_declared_model
from digitstudy.predictions import write_round_predictions
from digitstudy.scripting import file_list, logged


use_declared_model(snakemake.wildcards.model, snakemake.params.declared_model)
with logged(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)  # as in training: the thread count can change float sums
    predictions = write_round_predictions(
        model_name=snakemake.wildcards.model,
        model_paths=file_list(snakemake.input.models),
        data_paths=file_list(snakemake.input.data),
        runs=snakemake.params.runs,
        out_path=snakemake.output[0],
    )
    for run, metrics in zip(snakemake.params.runs, file_list(snakemake.input.metrics)):
        error, recorded = (predictions[run] != predictions["label"]).mean(), read_json(metrics)["test"]["error"]
        log(f"{run}: test error {error:.6f} from the weights, {recorded:.6f} recorded by training")
