"""Every path the workflow writes, as a pattern of its rules' wildcards, in one place: the rules declare
their outputs with these, and the library (summary links, progress, upgrade) reads them from here.
A pattern without a suffix (SEEDS_TABLE) is a table written as .csv, .md and .html beside each other."""

from pathlib import Path


def format_number(value):
    """0.1 -> '0.1', 0.0 -> '0', 1e-05 -> '1e-05', 66 -> '66'; never '0.10'."""
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


# --- data: a base dataset's IDX files, each dataset's splits ---------------------------------------
RAW_DIR = "data/raw/{dataset}"
# {split} is empty for the study's train/validation split (data.split_seed) and "_split<seed>" for a
# replicate's split of another split seed (SPLIT_SUFFIX): the study's own files keep their names.
DATASET_FILE = "data/processed/{dataset}{split}.h5"
FETCH_LOG = "logs/data/fetch_{dataset}.log"
DATA_LOG = "logs/data/{dataset}{split}.log"
DATA_BENCHMARK = "benchmarks/data/{dataset}{split}.tsv"
SPLIT_SUFFIX = "_split{split_seed}"
SPLIT_WILDCARD = "(_split[0-9]+)?"
STUDY_DATASET_FILE = DATASET_FILE.format(dataset="{dataset}", split="")  # of rules keyed by dataset

# --- one training run: its folder (one per dataset, model and run), job log, benchmark, events ----
RUN_NAME = "seed{seed}_lr{lr}_mom{momentum}{split}"
RUN = "{dataset}/{model}/" + RUN_NAME
RUNS_ROOT = "results/runs"
TRAIN_LOGS_ROOT = "logs/train"
RUN_DIR = f"{RUNS_ROOT}/{RUN}"
RUN_FILES = ("history.csv", "metrics.json", "model.pt")
# Beside a run's outputs but not one of them: Snakemake deletes the declared outputs of a job that
# failed or was killed, and the checkpoint must survive exactly that.
CHECKPOINT_NAME = "checkpoint.pt"
RUN_LOG = f"{TRAIN_LOGS_ROOT}/{RUN}.log"
TRAIN_BENCHMARK = f"benchmarks/train/{RUN}.tsv"
EVENTS_DIR = f"logs/tensorboard/{RUN}"  # TensorBoard's view of the run, not an output

# --- an experiment (dataset, model) ---------------------------------------------------------------
TABLES = "results/tables/{dataset}/{model}"
PLOTS = "results/plots/{dataset}/{model}"
SEEDS_TABLE = f"{TABLES}/seeds"
GRID_TABLE = f"{TABLES}/grid"
CHOICE = f"{TABLES}/choice.json"
REPLICATE_PLAN = f"{TABLES}/replicates.json"  # the replicates the confirmation may train, once the choice is made
# A round's replicates of one experiment, each predicted on every test image (one column a run).
ROUND_PREDICTIONS = "results/predictions/{dataset}/{model}/round{round}.csv"
CLASS_ERRORS_TABLE = f"{TABLES}/class_errors"  # .csv and .html
CONFUSION_TABLE = f"{TABLES}/confusion.csv"
DIGIT_PAIRS_TABLE = f"{TABLES}/digit_pairs"
PREDICTIONS = "results/predictions/{dataset}/{model}/test.csv"
CURVES_PLOT = f"{PLOTS}/curves.png"
GRID_PLOT = f"{PLOTS}/grid.png"
WEIGHTS_PLOT = f"{PLOTS}/weights.png"
CLASS_ERRORS_PLOT = f"{PLOTS}/class_errors.png"
CONFUSION_PLOT = f"{PLOTS}/confusion.png"
WORST_PLOT = f"{PLOTS}/worst.png"

# --- a task (dataset): its models compared; a pairs dataset's sample images --------------------
CHOSEN_TABLE = "results/tables/{dataset}/chosen"
PAIRWISE_TABLE = "results/tables/{dataset}/pairwise"
REPLICATES_TABLE = "results/tables/{dataset}/replicates"  # every replicate of every chosen configuration
VARIANCE_TABLE = "results/tables/{dataset}/variance"  # spread over seeds beside spread over replicates
# After round r of the confirmation: every pair's verdict so far, and which models train more.
ROUND_DECISIONS = "results/tables/{dataset}/rounds/round{round}.json"
DECISIONS = "results/tables/{dataset}/decisions.json"  # the last round's: every pair's final verdict
SAMPLES_PLOT = "results/plots/{dataset}_samples.png"
REPLICATES_PLOT = "results/plots/{dataset}_replicates.png"

# --- the study --------------------------------------------------------------------------------
RUNS_TABLE = "results/runs"  # .csv and .html
COST_TABLE = "results/tables/cost"
RUN_COSTS_TABLE = "results/tables/run_costs"
PROBLEM_RUNS_TABLE = "results/tables/problem_runs"
COMPARISON_PLOT = "results/plots/comparison.png"
SUMMARY = "results/summary.md"
REPORT_SUMMARY = "results/report/summary.html"
REPORT_FINDINGS = "results/report/findings.html"
STUDY_RECORD = "results/study.yaml"


def split_suffix(split_seed=None):
    """The {split} wildcard of a split seed: '' for the study's own split (None), '_split3' for 3."""
    return "" if split_seed is None else SPLIT_SUFFIX.format(split_seed=int(split_seed))


def split_seed_of(split, study_split_seed):
    """The split seed that a {split} wildcard value names ('' is the study's own, data.split_seed)."""
    return int(split.removeprefix("_split")) if split else study_split_seed


def dataset_file(dataset, split_seed=None):
    """A dataset's HDF5 file: the study's split (None), or a replicate's split of `split_seed`."""
    return DATASET_FILE.format(dataset=dataset, split=split_suffix(split_seed))


def run_wildcards(seed, lr, momentum, split_seed=None):
    """A run's wildcard values as its paths spell them: {'seed': '1', 'lr': '0.01', 'momentum': '0.9',
    'split': ''}; a replicate on another split of the data has 'split': '_split3'."""
    return {
        "seed": str(int(seed)),
        "lr": format_number(lr),
        "momentum": format_number(momentum),
        "split": split_suffix(split_seed),
    }


def run_name(seed, lr, momentum, split_seed=None):
    """The directory name of one training run: seed1_lr0.01_mom0.9 (seed2_lr0.01_mom0.9_split1 for a
    replicate on the split of split seed 1)."""
    return RUN_NAME.format(**run_wildcards(seed, lr, momentum, split_seed))


def run_path(pattern, dataset, model, run):
    """`pattern` (of train_run's wildcards) filled in for one run of an experiment: (seed, lr, momentum)
    on the study's split, or (seed, lr, momentum, split seed) on a replicate's."""
    return pattern.format(dataset=dataset, model=model, **run_wildcards(*run))


def named_run_path(pattern, dataset, model, name):
    """`pattern` (of train_run's wildcards) filled in for the run of an experiment whose directory name
    is `name` (runs.csv's `run`)."""
    return pattern.replace(RUN_NAME, "{run}").format(dataset=dataset, model=model, run=name)


def study_folder_of(run_dir):
    """The study folder that holds a run's folder (RUN_DIR) of it."""
    return Path(run_dir).resolve().parents[RUN_DIR.count("/")]


def under_results(path):
    """A path of the study as the summary links it: relative to results/."""
    return str(Path(path).relative_to("results"))
