"""Rule analyse_errors: where an experiment's chosen run fails on the test images: its error per true
class (with exact intervals) and the confusion matrix."""

import pandas as pd

from digitstudy.datasets import open_h5, read_attributes
from digitstudy.error_analysis import class_error_table, confusion, confusion_frame
from digitstudy.files import write_text_atomic
from digitstudy.scripting import logged
from digitstudy.tables import write_table


def analyse_errors(predictions_path, data_path, experiment, outputs, log):
    predictions = pd.read_csv(predictions_path)
    with open_h5(data_path) as handle:
        n_classes = int(read_attributes(handle, data_path)["n_classes"])
    write_table(
        class_error_table(predictions, n_classes),
        outputs.class_csv,
        None,
        outputs.class_html,
        f"{experiment}: test error per class",
        "Test images of each true class, the chosen run's errors on them and the exact (Clopper-Pearson) "
        "95% interval of the error.",
    )
    write_text_atomic(outputs.confusion_csv, confusion_frame(confusion(predictions, n_classes)).to_csv())
    log(f"{int((predictions['correct'] == 0).sum())} of {len(predictions)} test images misclassified")


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    analyse_errors(
        predictions_path=snakemake.input.predictions,
        data_path=snakemake.input.data,
        experiment=f"{snakemake.wildcards.dataset} / {snakemake.wildcards.model}",
        outputs=snakemake.output,
        log=log,
    )
