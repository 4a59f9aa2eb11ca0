"""A study's config, loaded one way everywhere (the workflow, the progress and upgrade commands, the
tests): merged as Snakemake merges config files, the schema's defaults filled in, checked, with the
verdict as one line naming the key and the cause, before any job starts."""

import copy
import math
from pathlib import Path

import jsonschema
import yaml

from .errors import DigitstudyError
from .fetch import MNIST
from .idx import IDX_FILES
from .models import MODELS, declared_model_error
from .paths import RAW_DIR
from .study import base_of, dataset_fit, declared_names, source_setting, without_dropped


SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "config.schema.yaml"  # package data (pyproject.toml)
DEFAULT_CONFIG = "config/config.yaml"  # in the study folder; --configfile files are merged over it


def load_schema(path=SCHEMA_PATH):
    """The config schema, accepting exactly the registered model names, with genuine MNIST (its
    checksums, and torchvision's mirrors) as the default declaration of dataset mnist."""
    schema = yaml.safe_load(Path(path).read_text())
    schema["definitions"]["models"]["propertyNames"]["enum"] = sorted(MODELS)
    mnist = {"idx": {"mirrors": list(MNIST.mirrors), "sha256": dict(MNIST.sha256)}}
    schema["properties"]["datasets"]["default"] = {"mnist": mnist, **schema["properties"]["datasets"]["default"]}
    return schema


def merged_config(configfiles, replace=False, folder="."):
    """config/config.yaml of `folder` with each of `configfiles` merged over it, as Snakemake merges
    --configfile (nested mappings merge, anything else replaces); replace: the files alone, as
    --replace-workflow-config has it."""
    from snakemake.utils import update_config  # Snakemake's own merge

    config = {} if replace else yaml.safe_load((Path(folder) / DEFAULT_CONFIG).read_text())
    for configfile in configfiles:
        update_config(config, yaml.safe_load((Path(folder) / configfile).read_text()) or {})
    return config


def with_defaults(config, schema):
    """`config` with the schema's defaults filled in where a key is absent (at any depth), the way
    snakemake.utils.validate fills them, but on a copy."""

    def set_defaults(validator, properties, instance, subschema):
        if isinstance(instance, dict):
            for key, property_schema in properties.items():
                if "default" in property_schema:
                    instance.setdefault(key, copy.deepcopy(property_schema["default"]))
        yield from jsonschema.Draft202012Validator.VALIDATORS["properties"](validator, properties, instance, subschema)

    filling = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"properties": set_defaults})
    config = copy.deepcopy(config)
    filling(schema).validate(config)
    return config


def with_declared_models(schema, config):
    """The schema accepting, beside the registered models, those the config declares under `models`."""
    declared = config.get("models")
    if not isinstance(declared, dict) or not declared:
        return schema
    schema = copy.deepcopy(schema)
    names = schema["definitions"]["models"]["propertyNames"]
    names["enum"] = sorted(set(names["enum"]) | set(declared))
    return schema


def resolve_config(config, schema=None):
    """The config every part of digitstudy uses: the default datasets added, checked, the schema's
    defaults filled in, experiments set to null dropped. A problem raises DigitstudyError('key: cause')."""
    schema = with_declared_models(schema or load_schema(), config)
    config = with_default_datasets(config, schema)
    problem = config_error(config, schema)
    if problem:
        raise DigitstudyError(problem)
    config = with_defaults(config, schema)
    config["experiments"] = without_dropped(config["experiments"])
    return config


def load_config(configfiles, replace=False, folder="."):
    """The resolved config of the study these config files select (see merged_config)."""
    return resolve_config(merged_config(configfiles, replace, folder))


def with_default_datasets(config, schema):
    """The config with the schema's default datasets (mnist, twodigit) added to those it declares."""
    default = schema["properties"]["datasets"]["default"]
    return {**config, "datasets": {**copy.deepcopy(default), **(config.get("datasets") or {})}}


def key_path(path):
    """('grid', 'lr', 1) -> 'grid.lr[1]': the key as a user finds it in the YAML file."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "config"


def non_finite_numbers(value, path=()):
    """(path, value) of every NaN or infinity (YAML .nan, .inf). JSON Schema cannot refuse them:
    every comparison with NaN is false, so NaN passes both `minimum` and `maximum`."""
    if isinstance(value, float) and not math.isfinite(value):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from non_finite_numbers(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from non_finite_numbers(item, path + (index,))


def schema_error(config, schema):
    """'key: cause' of the schema violation jsonschema finds most relevant, or None."""
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is None:
        return None
    return f"{key_path(error.absolute_path)}: {error.message}" + number_as_text_hint(error.instance)


def number_as_text_hint(value):
    """YAML 1.1 reads 1e-1 (no dot in the mantissa) as text; a user meant the number."""
    try:
        number = float(value) if isinstance(value, str) else None
    except ValueError:
        return ""
    return "" if number is None else f" (YAML reads {value} as text: write {number!r})"


# Keys that moved or went, and what to set instead: a user's own config file may still set them.
MOVED_KEYS = {
    ("data", "pair_seed"): "moved to datasets.twodigit.seed (each pairs dataset has a seed of its own)",
    ("confirm", "replicates"): (
        "gone: the confirmation trains replicates in rounds until each comparison is decided; set "
        "confirm.first, confirm.step and confirm.max instead"
    ),
}


def moved_key_error(config):
    for (section, key), instead in MOVED_KEYS.items():
        if key in (config.get(section) or {}):
            return f"{section}.{key}: {instead}"
    return None


def declared_names_error(config):
    """'models.<name>: cause' when a model of the user's own takes a registered model's name."""
    for name in config.get("models") or {}:
        if name in MODELS:
            return f"models.{name}: {name} is a model of the study's own (digitstudy.models); name yours otherwise"
    return None


def confirm_error(config, schema):
    """'key: cause' when the confirmation's budget is smaller than its first round."""
    confirm = with_defaults(
        {"confirm": config.get("confirm") or {}}, {"properties": {"confirm": schema["properties"]["confirm"]}}
    )
    first, maximum = confirm["confirm"]["first"], confirm["confirm"]["max"]
    if maximum < first:
        return f"confirm.max: {maximum} is less than confirm.first ({first}); the budget must hold the first round"
    return None


def config_error(config, schema):
    """'key: cause' of the first problem of the config, or None when it is valid."""
    for path, value in non_finite_numbers(config):
        return f"{key_path(path)}: {value} is not a finite number"
    problem = moved_key_error(config) or schema_error(config, schema) or declared_names_error(config)
    if problem is None and not without_dropped(config["experiments"]):
        return "experiments: every experiment is dropped (set to null); keep at least one"
    return problem or confirm_error(config, schema) or datasets_error(config)


# What the names of the study's own datasets stand for, whatever a config declares: mnist's folder
# and twodigit's seed are free.
RESERVED_DATASETS = {
    "mnist": ({"idx": {"sha256": MNIST.sha256}}, "genuine MNIST"),
    "twodigit": ({"pairs": "mnist"}, "pairs of mnist"),
}


def agrees(expected, given):
    """Whether `given` holds every key of `expected` with its value (at any depth)."""
    if isinstance(expected, dict):
        return isinstance(given, dict) and all(agrees(value, given.get(key)) for key, value in expected.items())
    return expected == given


def reserved_dataset_error(name, declaration):
    expected, meaning = RESERVED_DATASETS[name]
    if not agrees(expected, declaration):
        return f"datasets.{name}: the name {name} means {meaning}; declare other files under another name"
    return None


def datasets_error(config):
    """'key: cause' when an experiment names an undeclared dataset, a pairs dataset an undeclared base,
    or mnist and twodigit are declared as other data."""
    declared, bases = config["datasets"], declared_names(config, pairs=False)
    for dataset in without_dropped(config["experiments"]):
        if dataset not in declared:
            return (
                f"experiments.{dataset}: dataset '{dataset}' is not declared under datasets "
                f"(declared: {', '.join(declared)})"
            )
    for name in declared_names(config, pairs=True):
        if declared[name]["pairs"] not in bases:
            base = declared[name]["pairs"]
            return f"datasets.{name}.pairs: '{base}' is not a declared base dataset (declared: {', '.join(bases)})"
    problems = (reserved_dataset_error(name, declared[name]) for name in RESERVED_DATASETS if name in declared)
    return next((problem for problem in problems if problem), None)


def source_error(config, environ, folder="."):
    """'key: cause' when a base dataset's files are still to be fetched and there is nowhere to get them
    from (the study in `folder`). A finished fetch needs no folder: a stale MNIST_DIR must not block a
    rerun of later steps."""
    for base in dict.fromkeys(base_of(config, dataset) for dataset in without_dropped(config["experiments"])):
        key, source = source_setting(config, base, environ)
        if all((Path(folder) / RAW_DIR.format(dataset=base) / name).is_file() for name in IDX_FILES):
            continue
        if source and not Path(source).is_dir():
            return f"{key}: folder {source} does not exist"
        if not source and not config["datasets"][base]["idx"].get("mirrors"):
            return f"datasets.{base}.idx: neither a folder nor mirrors, so its files cannot be fetched"
    return None


def declared_models_error(config, environ, folder="."):
    """'models.<name>: <file>: cause' when a model the config declares does not import, or does not
    build and give one score per class for each dataset an experiment uses it with; None when all do.
    Checked before any job, as the registered models are by the schema."""
    for name, declaration in config["models"].items():
        datasets = [dataset for dataset, models in config["experiments"].items() if name in models]
        fits = dict.fromkeys(dataset_fit(config, dataset, folder, environ) for dataset in datasets)
        problem = declared_model_error(name, declaration, fits)
        if problem:
            return problem
    return None
