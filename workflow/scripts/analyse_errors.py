"""Rule analyse_errors: where an experiment's chosen run fails on the test images: error per class,
the confusion matrix, and the worst-predicted images."""

import pandas as pd
from digitstudy.datasets import read_splits
from digitstudy.files import write_text_atomic
from digitstudy.errors import class_error_table, confusion, confusion_frame, describe_image, worst_predictions
from digitstudy.plots import class_errors, confusion_matrix, save, worst_predictions as worst_figure
from digitstudy.scripting import logged
from digitstudy.tables import write_table


def analyse_errors(predictions_path, data_path, experiment, outputs, dpi, log):
    predictions = pd.read_csv(predictions_path)
    splits, attributes = read_splits(data_path, names=("test",))
    n_classes = int(attributes["n_classes"])
    per_class = class_error_table(predictions, n_classes)
    write_table(per_class, outputs.class_csv, None, outputs.class_html, f"{experiment}: test error per class",
                "Test images of each true class, the chosen run's errors on them and the exact (Clopper-Pearson) "
                "95% interval of the error.")
    matrix = confusion(predictions, n_classes)
    write_text_atomic(outputs.confusion_csv, confusion_frame(matrix).to_csv())
    save(class_errors(per_class, f"{experiment}: test error per class", experiment.split(" / ")[1]),
         outputs.class_png, dpi)
    save(confusion_matrix(matrix, f"{experiment}: confusion matrix (test)"), outputs.confusion_png, dpi)
    worst = worst_predictions(predictions)
    save(worst_figure(splits["test"].images[worst["index"].to_numpy()],
                      [describe_image(row) for _, row in worst.iterrows()],
                      [f"pred {int(p)}" for p in worst["prediction"]], worst["p_prediction"].tolist(),
                      f"{experiment}: the {len(worst)} test images with the least probability on their label"),
         outputs.worst_png, dpi)
    log(f"{int((predictions['correct'] == 0).sum())} of {len(predictions)} test images misclassified")


# `snakemake` is the object that Snakemake gives every rule script.
with logged(snakemake.log[0]) as log:
    analyse_errors(predictions_path=snakemake.input.predictions, data_path=snakemake.input.data,
                   experiment=f"{snakemake.wildcards.dataset} / {snakemake.wildcards.model}",
                   outputs=snakemake.output, dpi=snakemake.params.dpi, log=log)
