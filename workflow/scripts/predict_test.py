"""Rule predict_test: the chosen run's prediction for every test image, from its saved weights."""

import torch

from digitstudy.files import read_json, write_text_atomic
from digitstudy.predictions import predict_test
from digitstudy.scripting import logged


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)  # as in training: the thread count can change float sums
    choice = read_json(snakemake.input.choice)
    predictions = predict_test(choice, list(snakemake.input.models), snakemake.input.data)
    write_text_atomic(snakemake.output[0], predictions.to_csv(index=False))
    if len(predictions):
        error = 1 - predictions["correct"].mean()
        log(f"test error {error:.6f} from the weights, {choice['chosen']['test_error']:.6f} recorded by training")
    else:
        log("every grid run diverged: no predictions")
