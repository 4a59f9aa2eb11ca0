"""One spelling for every number that becomes part of a path, so expand() and outputs agree."""


def format_number(value):
    """0.1 -> '0.1', 0.0 -> '0', 1e-05 -> '1e-05', 66 -> '66'; never '0.10'."""
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


# One training run's paths, as patterns of the train_run rule's wildcards: its folder's name, the
# folder (one per dataset, model and run) and its job's log, under these roots.
RUN_NAME = "seed{seed}_lr{lr}_mom{momentum}"
RUN = "{dataset}/{model}/" + RUN_NAME
RUNS_ROOT = "results/runs"
TRAIN_LOGS_ROOT = "logs/train"
RUN_DIR = f"{RUNS_ROOT}/{RUN}"
RUN_LOG = f"{TRAIN_LOGS_ROOT}/{RUN}.log"


def run_wildcards(seed, lr, momentum):
    """A run's wildcard values as its paths spell them: {'seed': '1', 'lr': '0.01', 'momentum': '0.9'}."""
    return {"seed": str(int(seed)), "lr": format_number(lr), "momentum": format_number(momentum)}


def run_name(seed, lr, momentum):
    """The directory name of one training run: seed1_lr0.01_mom0.9."""
    return RUN_NAME.format(**run_wildcards(seed, lr, momentum))
