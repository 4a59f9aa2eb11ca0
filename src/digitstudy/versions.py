"""The version of what each stage of the workflow makes. Snakemake does not look into the library a
rule script imports, so each rule passes its stage's version as a param: raising a stage's version
reruns exactly that stage's jobs (and what reads their outputs), and a change to the library that
leaves a stage's version alone reruns nothing.

Raise a stage's version in the same commit as any change to the library that changes what the stage
makes, and only then. tests/test_results_versions.py enforces it: a tiny pinned run per stage
(tests/results_pins.py) whose numbers, when they change while the version does not, fail the test
with the version to raise (CONTRIBUTING.md, "Results versions")."""

# stage: its version. A stage's rules are listed in RULE_STAGES.
RESULTS_VERSIONS = {
    "data": 1,  # the verified IDX files, the HDF5 splits and pairs datasets
    "training": 1,  # a run's history, record (metrics.json) and weights
    "predictions": 1,  # predictions of the test images from saved weights
    "tables": 2,  # tables, choices, replicate plans, decisions, the summary
    "figures": 2,  # every figure
}
RULE_STAGES = {
    "fetch_idx": "data",
    "prepare_idx": "data",
    "make_pairs": "data",
    "train_run": "training",
    "predict_test": "predictions",
    "predict_round": "predictions",
    "collect_runs": "tables",
    "choose": "tables",
    "plan_replicates": "tables",
    "decide_round": "tables",
    "make_tables": "tables",
    "analyse_errors": "tables",
    "tabulate_digit_pairs": "tables",
    "tabulate_replicates": "tables",
    "compare_models": "tables",
    "tabulate_costs": "tables",
    "write_summary": "tables",
    "plot_curves": "figures",
    "plot_grid": "figures",
    "plot_weights": "figures",
    "plot_errors": "figures",
    "plot_replicates": "figures",
    "plot_pair_samples": "figures",
    "plot_comparison": "figures",
}


def results_version(rule):
    """The param of `rule`'s jobs that names what they make: 'training 1'. Text, as Snakemake records
    params, so that a study's record reads as the stage and its version."""
    stage = RULE_STAGES[rule]
    return f"{stage} {RESULTS_VERSIONS[stage]}"
