"""Class names (a dataset's `classes`): the per-class table gains a name column, the figures show the
names, and a list of the wrong length stops the error analysis with one line naming the key."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from digitstudy.datasets import Split, write_splits
from digitstudy.error_analysis import (
    check_class_names,
    class_error_table,
    describe_image,
    describe_prediction,
    write_error_tables,
)
from digitstudy.errors import DigitstudyError
from digitstudy.figures import plot_errors
from digitstudy.scripting import logged
from helpers import predictions


NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress"]


@pytest.fixture
def toy(tmp_path):
    """A four-class dataset file and the chosen run's predictions on its eight test images."""
    rng = np.random.default_rng(0)
    splits = {
        name: Split(rng.integers(0, 256, (8, 1, 12, 10), dtype=np.uint8), np.arange(8) % 4)
        for name in ("train", "valid", "test")
    }
    write_splits(tmp_path / "toy.h5", splits, n_classes=4, attributes={"dataset": "toy"})
    predictions([0, 1, 2, 3, 0, 1, 2, 3], [0, 1, 2, 3, 3, 1, 0, 3]).to_csv(tmp_path / "predictions.csv", index=False)
    return tmp_path


def table_outputs(folder):
    return SimpleNamespace(
        class_csv=folder / "class_errors.csv",
        class_html=folder / "class_errors.html",
        confusion_csv=folder / "confusion.csv",
    )


def test_class_table_puts_each_name_beside_its_label():
    frame = predictions([0, 1, 1, 2, 3], [0, 1, 2, 2, 0])
    table = class_error_table(frame, 4, NAMES)
    assert list(table.columns[:3]) == ["class", "class_name", "n"]
    assert list(table["class"]) == [0, 1, 2, 3] and list(table["class_name"]) == NAMES
    assert list(table["errors"]) == [0, 1, 0, 1]
    # Without names the table is as it always was: labels only
    assert "class_name" not in class_error_table(frame, 4).columns


def test_images_are_described_by_name_or_by_label():
    row = pd.Series({"label": 3, "prediction": 0})
    assert (describe_image(row, NAMES), describe_prediction(0, NAMES)) == ("true Dress", "pred T-shirt/top")
    assert (describe_image(row), describe_prediction(0)) == ("true 3", "pred 0")
    pair = pd.Series({"label": 11, "digit_left": 5, "digit_right": 6})
    assert describe_image(pair) == "true 11 (5+6)"


@pytest.mark.parametrize("names", [NAMES[:3], NAMES + ["Coat"]])
def test_a_wrong_number_of_names_is_refused_naming_the_key_and_the_counts(names):
    with pytest.raises(DigitstudyError) as error:
        check_class_names(names, 4, "fashion")
    message = str(error.value)
    assert "\n" not in message and message.startswith("datasets.fashion.classes: ")
    assert f"{len(names)} names" in message and "4 classes" in message
    assert check_class_names(NAMES, 4, "fashion") == NAMES and check_class_names(None, 4, "fashion") is None


def test_error_analysis_writes_the_names_into_the_class_table(toy):
    outputs = table_outputs(toy)
    write_error_tables("toy / cnn", "toy", toy / "predictions.csv", toy / "toy.h5", outputs, NAMES)
    table = pd.read_csv(outputs.class_csv)
    assert list(table["class"]) == [0, 1, 2, 3] and list(table["class_name"]) == NAMES
    page = outputs.class_html.read_text()
    assert "class name" in page and "T-shirt/top" in page
    # The confusion matrix keeps the labels: the figure names them
    assert list(pd.read_csv(outputs.confusion_csv, index_col=0).columns) == ["0", "1", "2", "3"]


def test_error_analysis_job_stops_with_one_line_on_a_wrong_count(toy, capsys):
    outputs = table_outputs(toy)
    with pytest.raises(SystemExit) as stop, logged(toy / "job.log"):
        write_error_tables("toy / cnn", "toy", toy / "predictions.csv", toy / "toy.h5", outputs, NAMES[:3])
    assert stop.value.code == 1
    expected = "datasets.toy.classes: 3 names given, but the data of 'toy' have 4 classes"
    terminal = capsys.readouterr().err.strip().splitlines()
    assert len(terminal) == 1 and terminal[0].startswith(f"digitstudy error: {expected}")
    assert (toy / "job.log").read_text().strip().splitlines()[-1].startswith(f"error: {expected}")
    assert not any(path.exists() for path in vars(outputs).values())


@pytest.mark.parametrize("names", [NAMES, None])
def test_error_figures_are_drawn_with_names_or_labels(toy, names):
    outputs = table_outputs(toy)
    write_error_tables("toy / cnn", "toy", toy / "predictions.csv", toy / "toy.h5", outputs, names)
    inputs = SimpleNamespace(
        predictions=toy / "predictions.csv",
        class_errors=outputs.class_csv,
        confusion=outputs.confusion_csv,
        data=toy / "toy.h5",
    )
    figures = SimpleNamespace(**{name: toy / f"{name}.png" for name in ("class_errors", "confusion", "worst")})
    plot_errors("toy", "cnn", inputs, figures, 60, names)
    assert all(path.stat().st_size > 0 for path in vars(figures).values())
    with pytest.raises(DigitstudyError, match=r"^datasets\.toy\.classes: 2 names given"):
        plot_errors("toy", "cnn", inputs, figures, 60, NAMES[:2])
