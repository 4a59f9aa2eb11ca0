"""Rule predict_test: the chosen run's prediction for every test image, from its saved weights."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

import torch

from digitstudy.models import use_declared_model
from digitstudy.predictions import write_predictions
from digitstudy.scripting import logged


use_declared_model(snakemake.wildcards.model, snakemake.params.declared_model)
with logged(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)  # as in training: the thread count can change float sums
    predictions, choice = write_predictions(
        choice_path=snakemake.input.choice,
        model_paths=list(snakemake.input.models),
        runs=snakemake.params.runs,
        data_path=snakemake.input.data,
        out_path=snakemake.output[0],
    )
    if len(predictions):
        error = 1 - predictions["correct"].mean()
        log(f"test error {error:.6f} from the weights, {choice['chosen']['test_error']:.6f} recorded by training")
    else:
        log("every grid run diverged: no predictions")
