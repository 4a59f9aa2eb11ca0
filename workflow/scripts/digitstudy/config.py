"""The config's verdict as one line naming the key and the cause, before any job starts."""

import math
from pathlib import Path

import jsonschema
import yaml

from .mnist import MNIST_FILES
from .models import MODELS
from .study import mnist_source_setting, without_dropped


def load_schema(path):
    """The config schema, accepting exactly the registered model names."""
    schema = yaml.safe_load(Path(path).read_text())
    schema["definitions"]["models"]["propertyNames"]["enum"] = sorted(MODELS)
    return schema


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


def config_error(config, schema):
    """'key: cause' of the first problem of the config, or None when it is valid."""
    for path, value in non_finite_numbers(config):
        return f"{key_path(path)}: {value} is not a finite number"
    problem = schema_error(config, schema)
    if problem is None and not without_dropped(config["experiments"]):
        return "experiments: every experiment is dropped (set to null); keep at least one"
    return problem


def mnist_source_error(config, environ, raw_dir):
    """'key: cause' when the MNIST folder is missing and fetch_mnist still has to read it. A
    finished fetch needs no folder: a stale MNIST_DIR must not block a rerun of later steps."""
    key, folder = mnist_source_setting(config, environ)
    fetched = all((Path(raw_dir) / name).is_file() for name in MNIST_FILES)
    if folder and not fetched and not Path(folder).is_dir():
        return f"{key}: folder {folder} does not exist"
    return None
