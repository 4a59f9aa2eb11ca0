"""Where a chosen model fails on the test images: per class, class by class, per digit pair, worst cases."""

import numpy as np
import pandas as pd

from .classes import check_class_names, class_name
from .datasets import open_h5, read_attributes
from .files import write_text_atomic
from .tables import Units, write_table


def class_error_table(predictions, n_classes, class_names=None):
    """Test error of each true class with its 95% interval; a class without test images has none.
    With class_names, a column `class_name` beside the label."""
    from .stats import clopper_pearson  # scipy: only the job that tabulates errors loads it, no plot job

    rows = []
    for label in range(n_classes):
        of_class = predictions[predictions["label"] == label]
        n, errors = len(of_class), int((of_class["correct"] == 0).sum())
        low, high = clopper_pearson(errors, n) if n else (np.nan, np.nan)
        rows.append(
            {"class": label, "n": n, "errors": errors, "error": errors / n if n else np.nan, "low": low, "high": high}
        )
    table = pd.DataFrame(rows)
    if class_names is not None:
        table.insert(1, "class_name", class_names)
    return table


def confusion(predictions, n_classes):
    """K x K counts of test images: rows the true class, columns the predicted one."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (predictions["label"].to_numpy(int), predictions["prediction"].to_numpy(int)), 1)
    return matrix


def confusion_frame(matrix):
    labels = [str(label) for label in range(len(matrix))]
    return pd.DataFrame(matrix, index=pd.Index(labels, name="true"), columns=labels)


def digit_pair_table(predictions, top=15):
    """The (left, right) digit pairs whose test images are most often misclassified: count of errors,
    images, error rate, and the wrong sum the model gave most often."""
    wrong = predictions[predictions["correct"] == 0]
    pairs = predictions.groupby(["digit_left", "digit_right"]).size().rename("n")
    errors = wrong.groupby(["digit_left", "digit_right"]).size().rename("errors")
    common = wrong.groupby(["digit_left", "digit_right"])["prediction"].agg(lambda values: values.mode().min())
    table = pd.concat([pairs, errors, common.rename("most_common_prediction")], axis=1).dropna(subset=["errors"])
    table = table.reset_index().astype({"errors": int, "most_common_prediction": int})
    table["sum"] = table["digit_left"] + table["digit_right"]
    table["error"] = table["errors"] / table["n"]
    ranked = table.sort_values(["errors", "error", "digit_left", "digit_right"], ascending=[False, False, True, True])
    return ranked.head(top)[["digit_left", "digit_right", "sum", "n", "errors", "error", "most_common_prediction"]]


def worst_predictions(predictions, count=24):
    """The misclassified test images to which the model gave the least probability of their label."""
    wrong = predictions[predictions["correct"] == 0]
    return wrong.sort_values(["p_label", "index"]).head(count)


def describe_image(row, class_names=None):
    """A test image's truth for a figure: 'true 11 (5+6)', 'true 7', or 'true Coat'."""
    digits = f" ({int(row['digit_left'])}+{int(row['digit_right'])})" if "digit_left" in row else ""
    return f"true {class_name(row['label'], class_names)}{digits}"


def describe_prediction(prediction, class_names=None):
    """A test image's prediction for a figure: 'pred 2', or 'pred Sneaker'."""
    return f"pred {class_name(prediction, class_names)}"


CLASS_ERRORS_NOTE = (
    "Test images of each true class, the chosen run's errors on them and the exact (Clopper-Pearson) "
    "95% interval of the error."
)
DIGIT_PAIRS_NOTE = (
    "Test images by their (left, right) digits, ranked by the chosen run's errors; the sum it "
    "predicted most often for the misclassified ones."
)
CLASS_ERRORS_UNITS = Units(percent=("error", "low", "high"))
DIGIT_PAIRS_UNITS = Units(percent=("error",))


def write_error_tables(experiment, dataset, predictions_path, data_path, outputs, class_names=None):
    """An experiment's test error per class (CSV, HTML) and its confusion matrix (CSV), from the chosen
    run's predictions (`outputs`: the analyse_errors rule's named outputs; class_names: the dataset's
    `classes`, checked against its class count). Returns the predictions."""
    predictions = pd.read_csv(predictions_path)
    with open_h5(data_path) as handle:
        n_classes = int(read_attributes(handle, data_path)["n_classes"])
    check_class_names(class_names, n_classes, dataset)
    title = f"{experiment}: test error per class"
    table = class_error_table(predictions, n_classes, class_names)
    write_table(table, outputs.class_csv, None, outputs.class_html, title, CLASS_ERRORS_NOTE, units=CLASS_ERRORS_UNITS)
    write_text_atomic(outputs.confusion_csv, confusion_frame(confusion(predictions, n_classes)).to_csv())
    return predictions


def write_digit_pairs_table(experiment, predictions_path, outputs):
    """The digit pairs whose images the chosen run gets wrong most (CSV, Markdown, HTML); returns it."""
    pairs = digit_pair_table(pd.read_csv(predictions_path))
    title = f"{experiment}: digit pairs most often wrong (test)"
    write_table(pairs, outputs.csv, outputs.md, outputs.html, title, DIGIT_PAIRS_NOTE, units=DIGIT_PAIRS_UNITS)
    return pairs
