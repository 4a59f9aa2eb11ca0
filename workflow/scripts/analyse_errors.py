"""Rule analyse_errors: where an experiment's chosen run fails on the test images: its error per true
class (with exact intervals, and the class's name where the dataset declares `classes`) and the
confusion matrix."""

from digitstudy.scripting import job_started


# `snakemake` is the object that Snakemake gives every rule script. Its stop handler comes first, before
# the imports (seconds, for torch): a stop while the job starts is one line in the job's log.
job_started(snakemake)

from digitstudy.error_analysis import write_error_tables
from digitstudy.scripting import logged


with logged(snakemake.log[0]) as log:
    predictions = write_error_tables(
        experiment=f"{snakemake.wildcards.dataset} / {snakemake.wildcards.model}",
        dataset=snakemake.wildcards.dataset,
        predictions_path=snakemake.input.predictions,
        data_path=snakemake.input.data,
        outputs=snakemake.output,
        class_names=snakemake.params.classes,
    )
    log(f"{int((predictions['correct'] == 0).sum())} of {len(predictions)} test images misclassified")
