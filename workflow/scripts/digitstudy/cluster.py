"""What a training job asks a cluster scheduler for, and whether a Slurm site needs settings we lack.

The estimates are deliberately generous: a Slurm job that outlives its time limit is killed, one
that asks for a little too much merely waits a little longer in the queue.
"""

import getpass
import math
import subprocess

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


# --- Slurm site checks ------------------------------------------------------------------------------


def run_command(command):
    """stdout of `command`, or None when it is missing or fails (a site without accounting)."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def partitions(sinfo_output):
    """(partition names, the default one or None) from `sinfo -h -o %P`."""
    names = [name.strip() for name in sinfo_output.split() if name.strip()]
    default = next((name.rstrip("*") for name in names if name.endswith("*")), None)
    return [name.rstrip("*") for name in names], default


def enforces_associations(scontrol_config):
    """True when `scontrol show config` says every job must run under a valid account."""
    for line in scontrol_config.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "AccountingStorageEnforce":
            return "associations" in value.lower()
    return False


def slurm_settings_problems(partition, account, run=run_command, user=None):
    """Messages for each setting this Slurm site needs and the profile lacks; [] when all is well.

    partition, account: the slurm_partition / slurm_account default resources ('' or None: unset).
    run: a function from a command (list) to its stdout or None, replaceable in tests.
    """
    problems = []
    if not partition:
        sinfo = run(["sinfo", "-h", "-o", "%P"])
        if sinfo is not None:
            names, default = partitions(sinfo)
            if default is None:
                problems.append(
                    "this cluster has no default partition, so every job must name one. Set "
                    "`slurm_partition` under `default-resources` in slurm/config.yaml to one of: "
                    + ", ".join(sorted(set(names)))
                )
    if not account:
        config = run(["scontrol", "show", "config"])
        if config is not None and enforces_associations(config):
            user = user or getpass.getuser()
            default_account = run(["sacctmgr", "-n", "-P", "show", "user", user, "format=DefaultAccount"])
            if default_account is not None and not default_account.strip():
                problems.append(
                    "this cluster requires an account for every job and you have no default "
                    "account. Set `slurm_account` under `default-resources` in slurm/config.yaml "
                    "(`sacctmgr show associations user=$USER` lists yours)"
                )
    return problems
