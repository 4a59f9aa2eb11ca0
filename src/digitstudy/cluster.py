"""What a training job asks a cluster scheduler for.

The estimates are deliberately generous: a Slurm job that outlives its time limit is killed, one
that asks for a little too much merely waits a little longer in the queue.
"""

import math

from .models import model_spec


MNIST_PIXELS = 28 * 28


def training_runtime_minutes(model, pixels, epochs, n_train, n_valid, threads=1, safety=3.0, overhead_minutes=5):
    """Wall-time limit (minutes) of one training run on images of `pixels` pixels: the estimate times
    `safety`, plus start-up."""
    # The model's cost (models.py) is for 28 x 28 images on one CPU thread; other image sizes scale
    # with their pixel count. cuda runs are faster: the same limit then is only roomy.
    seconds = model_spec(model).epoch_seconds_per_1000 * pixels / MNIST_PIXELS * (n_train + n_valid) / 1000 * epochs
    seconds /= max(1, threads) ** 0.5  # extra threads help these small models little
    return overhead_minutes + math.ceil(safety * seconds / 60)


def training_mem_mb(pixels, n_train, n_valid, n_test, base_mb=1500, copies=6):
    """Memory (MB) of one training run on images of `pixels` pixels: the interpreter with torch, plus
    the splits as float32 tensors a few times over (uint8 file data, float copy, standardised copy,
    batches)."""
    images = n_train + n_valid + n_test
    data_mb = images * pixels * 4 / 1e6
    return base_mb + math.ceil(copies * data_mb)


def training_gpus(device):
    """GPUs a training job asks for: one on cuda, none on the CPU."""
    return 1 if device == "cuda" else 0
