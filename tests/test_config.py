"""A bad config stops snakemake before any job, with one line naming the key and the cause."""

import copy
import math
import re
import shutil

import pytest

from digitstudy.config import (
    config_error,
    key_path,
    load_config,
    load_schema,
    non_finite_numbers,
    resolve_config,
    source_error,
    with_default_datasets,
)
from digitstudy.errors import DigitstudyError
from digitstudy.fetch import MNIST_SHA256
from digitstudy.idx import IDX_FILES
from helpers import REPO, copy_workflow, quick_config, snakemake, workflow_config, workflow_error, write_config


SCHEMA = load_schema()


def set_key(*path_and_value):
    """A change for write_config: the key at `path` gets `value`."""
    *path, key, value = path_and_value

    def change(config):
        for part in path:
            config = config[part]
        config[key] = value

    return change


# (the change, the exact line on the terminal)
BAD_CONFIGS = {
    "unknown model": (
        set_key("experiments", "mnist", "resnet", {"batch_size": 32}),
        "config error: experiments.mnist: 'resnet' is not one of ['ann', 'cnn', 'cnn_dropout', 'lenet5']",
    ),
    "undeclared dataset": (
        set_key("experiments", "fashion", {"ann": {"batch_size": 32}}),
        "config error: experiments.fashion: dataset 'fashion' is not declared under datasets "
        "(declared: mnist, twodigit)",
    ),
    "negative lr": (
        set_key("grid", "lr", [0.01, -0.1]),
        "config error: grid.lr[1]: -0.1 is less than or equal to the minimum of 0",
    ),
    "nan lr": (set_key("grid", "lr", [0.01, math.nan]), "config error: grid.lr[1]: nan is not a finite number"),
    "infinite lr": (set_key("seed_study", "lr", math.inf), "config error: seed_study.lr: inf is not a finite number"),
    "momentum 1": (
        set_key("grid", "momentum", [0.5, 1.0]),
        "config error: grid.momentum[1]: 1.0 is greater than or equal to the maximum of 1",
    ),
    "negative momentum": (
        set_key("seed_study", "momentum", -0.5),
        "config error: seed_study.momentum: -0.5 is less than the minimum of 0",
    ),
    "nan momentum": (
        set_key("seed_study", "momentum", math.nan),
        "config error: seed_study.momentum: nan is not a finite number",
    ),
    "no seeds": (set_key("seed_study", "seeds", []), "config error: seed_study.seeds: [] should be non-empty"),
    "empty grid": (set_key("grid", "lr", []), "config error: grid.lr: [] should be non-empty"),
    "non-integer seed": (
        set_key("seed_study", "seeds", [1, 2.5]),
        "config error: seed_study.seeds[1]: 2.5 is not of type 'integer'",
    ),
    "text seed": (set_key("grid", "seed", "one"), "config error: grid.seed: 'one' is not of type 'integer'"),
    "number read as text": (
        set_key("grid", "lr", [0.01, "1e-1"]),
        "config error: grid.lr[1]: '1e-1' is not of type 'number' (YAML reads 1e-1 as text: write 0.1)",
    ),
    "zero epochs": (set_key("training", "epochs", 0), "config error: training.epochs: 0 is less than the minimum of 1"),
    "zero epochs of one experiment": (
        set_key("experiments", "mnist", "ann", "epochs", 0),
        "config error: experiments.mnist.ann.epochs: 0 is less than the minimum of 1",
    ),
    "zero batch size": (
        set_key("experiments", "twodigit", "lenet5", "batch_size", 0),
        "config error: experiments.twodigit.lenet5.batch_size: 0 is less than the minimum of 1",
    ),
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("config"))


@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_bad_config_is_refused_in_one_line(tmp_path, case):
    """Each bad file, merged over config/config.yaml as the workflow merges it (load_config)."""
    change, message = BAD_CONFIGS[case]
    shutil.copytree(REPO / "config", tmp_path / "config")
    configfile = write_config(tmp_path, change, name="config/bad.yaml")
    with pytest.raises(DigitstudyError) as refused:
        load_config([configfile], folder=tmp_path)
    assert f"config error: {refused.value}" == message


@pytest.mark.workflow
@pytest.mark.parametrize("case", ["unknown model", "number read as text", "undeclared dataset"])
def test_bad_config_stops_snakemake_with_one_line(workdir, mnist_dir, case):
    change, message = BAD_CONFIGS[case]
    configfile = write_config(workdir, change, name=f"config/bad-{case.replace(' ', '-')}.yaml")
    finished = snakemake(workdir, "--dry-run", mnist_dir=mnist_dir, configfile=configfile)
    assert finished.returncode == 1
    # Snakemake's own error with the message in one line: no traceback, no schema dump, no job planned.
    assert workflow_error(finished) == [message]
    output = finished.stdout + finished.stderr
    assert "Job stats" not in output and "Traceback" not in output and "jsonschema" not in output


@pytest.mark.workflow
def test_missing_mnist_dir_stops_snakemake_with_one_line(workdir, tmp_path):
    missing = tmp_path / "no-such-folder"
    finished = snakemake(workdir, "--dry-run", mnist_dir=missing)
    assert finished.returncode == 1
    assert workflow_error(finished) == [f"config error: MNIST_DIR: folder {missing} does not exist"]


def test_the_shipped_configs_are_valid():
    assert config_error(workflow_config(), SCHEMA) is None
    assert config_error(quick_config(), SCHEMA) is None


def test_key_path_reads_like_the_yaml_file():
    assert key_path(("grid", "lr", 1)) == "grid.lr[1]"
    assert key_path(("experiments", "mnist", "ann", "epochs")) == "experiments.mnist.ann.epochs"
    assert key_path(()) == "config"


def test_non_finite_numbers_are_found_at_any_depth():
    config = {"a": [1.0, math.inf], "b": {"c": -math.inf, "d": 2}, "e": math.nan}
    assert [path for path, _ in non_finite_numbers(config)] == [("a", 1), ("b", "c"), ("e",)]


def test_missing_mnist_folder_matters_only_while_fetching(tmp_path):
    missing = str(tmp_path / "gone")
    config = quick_config()
    assert source_error({**config, "mnist_dir": missing}, {}, tmp_path) == f"mnist_dir: folder {missing} does not exist"
    assert source_error(config, {"MNIST_DIR": missing}, tmp_path) == f"MNIST_DIR: folder {missing} does not exist"
    assert source_error(config, {}, tmp_path) is None  # download
    (tmp_path / "data" / "raw" / "mnist").mkdir(parents=True)
    for name in IDX_FILES:
        (tmp_path / "data" / "raw" / "mnist" / name).write_bytes(b"")
    assert source_error(config, {"MNIST_DIR": missing}, tmp_path) is None


def with_tiny(config, idx, experiments={"tiny": {"ann": {"batch_size": 8}}}):
    """`config` with a base dataset 'tiny' declared by `idx`, and `experiments` added."""
    return {**config, "datasets": {**config["datasets"], "tiny": {"idx": idx}}, "experiments": experiments}


def test_a_declared_dataset_needs_somewhere_to_come_from(tmp_path):
    sha256 = dict.fromkeys(IDX_FILES, "0" * 64)
    config = with_tiny(quick_config(), {"sha256": sha256})
    assert config_error(config, SCHEMA) is None
    assert (
        source_error(config, {}, tmp_path)
        == "datasets.tiny.idx: neither a folder nor mirrors, so its files cannot be fetched"
    )
    missing = tmp_path / "gone"
    config = with_tiny(config, {"sha256": sha256, "folder": str(missing)})
    assert source_error(config, {}, tmp_path) == f"datasets.tiny.idx.folder: folder {missing} does not exist"
    assert (
        source_error(with_tiny(config, {"sha256": sha256, "mirrors": ["https://example.org/tiny/"]}), {}, tmp_path)
        is None
    )


def test_datasets_are_declared_before_experiments_name_them():
    config = quick_config()
    config["experiments"]["fashion"] = {"ann": {"batch_size": 32}}
    assert config_error(config, SCHEMA) == (
        "experiments.fashion: dataset 'fashion' is not declared under datasets (declared: mnist, twodigit)"
    )
    config = quick_config()
    config["datasets"]["fashionpairs"] = {"pairs": "fashion", "seed": 1}
    assert config_error(config, SCHEMA) == (
        "datasets.fashionpairs.pairs: 'fashion' is not a declared base dataset (declared: mnist)"
    )


def test_mnist_and_twodigit_keep_their_meaning():
    config = quick_config()
    config["datasets"]["mnist"]["idx"]["sha256"]["t10k-labels-idx1-ubyte"] = "f" * 64
    assert config_error(config, SCHEMA).startswith("datasets.mnist: the name mnist means genuine MNIST")
    config = with_tiny(quick_config(), {"sha256": dict.fromkeys(IDX_FILES, "0" * 64), "folder": "x"})
    config["datasets"]["twodigit"]["pairs"] = "tiny"
    assert config_error(config, SCHEMA) == (
        "datasets.twodigit: the name twodigit means pairs of mnist; declare other files under another name"
    )


def test_mnist_and_twodigit_are_declared_by_default():
    """A config of its own written before datasets were declared (--replace-workflow-config) has none."""
    config = with_default_datasets({"experiments": {}}, SCHEMA)
    assert config["datasets"]["mnist"]["idx"]["sha256"] == MNIST_SHA256
    assert config["datasets"]["twodigit"] == {"pairs": "mnist", "seed": 12345, "delta": 1.0}
    declared = with_default_datasets({"datasets": {"twodigit": {"pairs": "mnist", "seed": 7}}}, SCHEMA)
    assert declared["datasets"]["twodigit"]["seed"] == 7 and "mnist" in declared["datasets"]


def test_the_moved_pair_seed_says_where_it_went():
    config = quick_config()
    config["data"]["pair_seed"] = 7
    assert config_error(config, SCHEMA) == (
        "data.pair_seed: moved to datasets.twodigit.seed (each pairs dataset has a seed of its own)"
    )


def planned_runs(dry):
    return sorted(re.findall(r"wildcards: dataset=(\w+), model=(\w+), seed=(\d+), lr=([\d.]+)", dry.stdout))


@pytest.mark.workflow
def test_a_config_file_of_its_own_can_drop_experiments(workdir, mnist_dir):
    """With --replace-workflow-config the file given is the whole study."""
    (workdir / "config" / "one.yaml").write_text(
        "study: one\n"
        "experiments: {mnist: {ann: {batch_size: 32}}}\n"
        "seed_study: {seeds: [1], lr: 0.01, momentum: 0.9}\n"
        "grid: {seed: 1, lr: [0.01, 0.1], momentum: [0.9]}\n"
    )
    dry = snakemake(workdir, "--dry-run", mnist_dir=mnist_dir, configfile="config/one.yaml", replace=True)
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert planned_runs(dry) == [("mnist", "ann", "1", "0.01"), ("mnist", "ann", "1", "0.1")]
    assert "make_pairs" not in dry.stdout


@pytest.mark.workflow
def test_a_merged_config_file_drops_experiments_with_null(workdir, mnist_dir):
    """Merged over config/config.yaml (the default) as config/README.md shows: null drops a dataset or a
    model; lists replace whole lists."""
    (workdir / "config" / "less.yaml").write_text(
        "experiments: {mnist: {cnn: null, cnn_dropout: null}, twodigit: null}\n"
        "seed_study: {seeds: [1]}\n"
        "grid: {lr: [0.01, 0.1], momentum: [0.9]}\n"
    )
    dry = snakemake(workdir, "--dry-run", mnist_dir=mnist_dir, configfile="config/less.yaml")
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert planned_runs(dry) == [("mnist", "ann", "1", "0.01"), ("mnist", "ann", "1", "0.1")]
    assert "make_pairs" not in dry.stdout


def test_a_config_that_drops_every_experiment_is_refused():
    config = quick_config()
    config["experiments"] = {"mnist": None, "twodigit": {"lenet5": None}}
    assert config_error(config, SCHEMA) == "experiments: every experiment is dropped (set to null); keep at least one"


@pytest.mark.workflow
def test_the_readmes_own_config_example_plans_what_it_says(workdir, mnist_dir):
    """The config/mine.yaml of config/README.md, run as its command shows, in a fresh folder: the MNIST MLP alone
    at the quick study's sizes, three seeds, two grid points."""
    readme = (REPO / "config" / "README.md").read_text()
    example = re.search(r"<!-- own-config-example -->\n```yaml\n(.*?)```", readme, re.DOTALL).group(1)
    command = re.search(r"`snakemake (--cores all --configfile config/quick.yaml config/mine.yaml)`", readme)
    (workdir / "config" / "mine.yaml").write_text(example)
    dry = snakemake(workdir, "--dry-run", *command.group(1).split(), mnist_dir=mnist_dir, configfile=None, cores=None)
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert planned_runs(dry) == [
        ("mnist", "ann", seed, lr) for seed, lr in (("1", "0.01"), ("1", "0.1"), ("2", "0.01"), ("3", "0.01"))
    ]


def test_resolving_fills_the_schemas_defaults_on_a_copy_and_drops_nulls():
    given = {
        "study": "mine",
        "experiments": {"mnist": {"ann": {"batch_size": 8}, "cnn": None}, "twodigit": None},
        "seed_study": {"seeds": [1], "lr": 0.01, "momentum": 0.9},
        "grid": {"seed": 1, "lr": [0.1], "momentum": [0.5]},
    }
    before = copy.deepcopy(given)
    config = resolve_config(given)
    assert given == before
    assert config["experiments"] == {"mnist": {"ann": {"batch_size": 8}}}
    assert config["training"] == {"epochs": 40, "device": "cpu", "threads": 1, "chance_patience": 5}
    assert config["data"]["n_train"] == 50000 and config["plots"] == {"dpi": 120}
    assert list(config["datasets"]) == ["mnist", "twodigit"]
    assert config["datasets"]["mnist"]["idx"]["folder"] == ""  # a default inside a default
