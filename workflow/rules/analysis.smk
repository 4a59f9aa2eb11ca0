# Error analysis, statistics and cost, from the runs' saved weights, metrics and benchmark files:
# a study trained before these rules existed gains them without training anything again.


rule predict_test:
    input:
        choice=rules.choose.output[0],
        models=get_grid_files("model.pt"),
        data=paths.STUDY_DATASET_FILE,
    output:
        paths.PREDICTIONS,
    log:
        "logs/analysis/predict/{dataset}/{model}.log",
    conda:
        "../envs/report.yaml"
    threads: config["training"]["threads"]
    params:
        results=results_version("predict_test"),
        declared_model=get_declared_model,
        runs=get_grid_runs,
    script:
        "../scripts/predict_test.py"


rule analyse_errors:
    input:
        predictions=rules.predict_test.output[0],
        data=paths.STUDY_DATASET_FILE,
    output:
        class_csv=f"{paths.CLASS_ERRORS_TABLE}.csv",
        class_html=report(
            f"{paths.CLASS_ERRORS_TABLE}.html",
            caption="../report/class_errors_table.rst",
            category="{dataset}",
            subcategory="{model}",
            labels=experiment_labels("table", "test error per class"),
        ),
        confusion_csv=paths.CONFUSION_TABLE,
    log:
        "logs/analysis/errors/{dataset}/{model}.log",
    conda:
        "../envs/report.yaml"
    params:
        results=results_version("analyse_errors"),
        classes=get_class_names,
    script:
        "../scripts/analyse_errors.py"


rule plot_errors:
    input:
        predictions=rules.predict_test.output[0],
        class_errors=rules.analyse_errors.output.class_csv,
        confusion=rules.analyse_errors.output.confusion_csv,
        data=paths.STUDY_DATASET_FILE,
    output:
        class_errors=report(
            paths.CLASS_ERRORS_PLOT,
            caption="../report/class_errors.rst",
            category="{dataset}",
            subcategory="{model}",
            labels=experiment_labels("figure", "test error per class"),
        ),
        confusion=report(
            paths.CONFUSION_PLOT,
            caption="../report/confusion.rst",
            category="{dataset}",
            subcategory="{model}",
            labels=experiment_labels("figure", "confusion matrix"),
        ),
        worst=report(
            paths.WORST_PLOT,
            caption="../report/worst.rst",
            category="{dataset}",
            subcategory="{model}",
            labels=experiment_labels("figure", "worst-predicted test images"),
        ),
    log:
        "logs/plots/{dataset}/{model}/errors.log",
    conda:
        "../envs/report.yaml"
    params:
        results=results_version("plot_errors"),
        dpi=config["plots"]["dpi"],
        classes=get_class_names,
    script:
        "../scripts/plot_errors.py"


rule tabulate_digit_pairs:
    input:
        rules.predict_test.output[0],
    output:
        csv=f"{paths.DIGIT_PAIRS_TABLE}.csv",
        md=f"{paths.DIGIT_PAIRS_TABLE}.md",
        html=report(
            f"{paths.DIGIT_PAIRS_TABLE}.html",
            caption="../report/digit_pairs.rst",
            category="{dataset}",
            subcategory="{model}",
            labels=experiment_labels("table", "digit pairs most often wrong"),
        ),
    log:
        "logs/analysis/digit_pairs/{dataset}/{model}.log",
    conda:
        "../envs/report.yaml"
    params:
        results=results_version("tabulate_digit_pairs"),
    script:
        "../scripts/tabulate_digit_pairs.py"


# The confirmation stage. Each round's replicates of an experiment predicted on every test image, from
# their saved weights: what the decisions (decide_round) and the tables count.
rule predict_round:
    input:
        models=get_round_files("model.pt"),
        metrics=get_round_files("metrics.json"),
        data=get_round_data,
    output:
        paths.ROUND_PREDICTIONS,
    log:
        "logs/analysis/predict/{dataset}/{model}/round{round}.log",
    conda:
        "../envs/report.yaml"
    threads: config["training"]["threads"]
    params:
        results=results_version("predict_round"),
        declared_model=get_declared_model,
        runs=get_round_run_names,
    script:
        "../scripts/predict_round.py"


# Every replicate of a task's chosen configurations over all rounds, each model's test error with an
# interval, its spread beside the seed study's, and each pair's final decision.
rule tabulate_replicates:
    input:
        replicates=get_replicate_files("metrics.json"),
        predictions=get_final_predictions,
        decisions=get_final_decisions,
        # The runs themselves, not the seed tables: this rule reads every replicate, so it stays out of
        # the Slurm aggregate group (slurm/config.yaml), and must not return into it.
        seeds=get_task_seed_study_files("metrics.json"),
    output:
        replicates_csv=f"{paths.REPLICATES_TABLE}.csv",
        replicates_md=f"{paths.REPLICATES_TABLE}.md",
        replicates_html=report(
            f"{paths.REPLICATES_TABLE}.html",
            caption="../report/replicates_table.rst",
            category="{dataset}",
            subcategory="models compared",
            labels={"task": "{dataset}", "table": "replicates of the chosen configurations"},
        ),
        variance_csv=f"{paths.VARIANCE_TABLE}.csv",
        variance_md=f"{paths.VARIANCE_TABLE}.md",
        variance_html=report(
            f"{paths.VARIANCE_TABLE}.html",
            caption="../report/variance.rst",
            category="{dataset}",
            subcategory="models compared",
            labels={"task": "{dataset}", "table": "spread over replicates and seeds"},
        ),
        decisions=paths.DECISIONS,
    log:
        "logs/analysis/replicates/{dataset}.log",
    conda:
        "../envs/report.yaml"
    params:
        results=results_version("tabulate_replicates"),
        models=lambda wildcards: list(config["experiments"][wildcards.dataset]),
    script:
        "../scripts/tabulate_replicates.py"


rule plot_replicates:
    input:
        replicates=rules.tabulate_replicates.output.replicates_csv,
        variance=rules.tabulate_replicates.output.variance_csv,
    output:
        report(
            paths.REPLICATES_PLOT,
            caption="../report/replicates.rst",
            category="{dataset}",
            subcategory="models compared",
            labels={"task": "{dataset}", "figure": "replicates of the chosen configurations"},
        ),
    log:
        "logs/plots/{dataset}_replicates.log",
    conda:
        "../envs/report.yaml"
    params:
        results=results_version("plot_replicates"),
        dpi=config["plots"]["dpi"],
    script:
        "../scripts/plot_replicates.py"


rule compare_models:
    input:
        choices=get_task_files(rules.choose.output[0]),
        seeds=get_task_files(rules.make_tables.output.seeds_csv),
        predictions=get_task_files(rules.predict_test.output[0]),
        replicates=rules.tabulate_replicates.output.replicates_csv,
        decisions=rules.tabulate_replicates.output.decisions,
    output:
        chosen_csv=f"{paths.CHOSEN_TABLE}.csv",
        chosen_md=f"{paths.CHOSEN_TABLE}.md",
        chosen_html=report(
            f"{paths.CHOSEN_TABLE}.html",
            caption="../report/chosen.rst",
            category="{dataset}",
            subcategory="models compared",
            labels={"task": "{dataset}", "table": "chosen models, test error with interval"},
        ),
        pairwise_csv=f"{paths.PAIRWISE_TABLE}.csv",
        pairwise_md=f"{paths.PAIRWISE_TABLE}.md",
        pairwise_html=report(
            f"{paths.PAIRWISE_TABLE}.html",
            caption="../report/pairwise.rst",
            category="{dataset}",
            subcategory="models compared",
            labels={"task": "{dataset}", "table": "pairwise tests"},
        ),
    log:
        "logs/analysis/compare/{dataset}.log",
    conda:
        "../envs/report.yaml"
    params:
        results=results_version("compare_models"),
    script:
        "../scripts/compare_models.py"


rule tabulate_costs:
    input:
        runs=rules.collect_runs.output.csv,
        choices=experiment_files(rules.choose.output[0]),
        # Read through runs.csv's rows; inputs here so that the costs wait for every job's file.
        run_benchmarks=get_study_run_files(paths.TRAIN_BENCHMARK),
        data_benchmarks=get_data_benchmarks,
    output:
        cost_csv=f"{paths.COST_TABLE}.csv",
        cost_md=f"{paths.COST_TABLE}.md",
        cost_html=report(
            f"{paths.COST_TABLE}.html",
            caption="../report/cost.rst",
            category="study",
            subcategory="cost and problem runs",
            labels={"task": "all", "table": "cost"},
        ),
        runs_csv=f"{paths.RUN_COSTS_TABLE}.csv",
        runs_md=f"{paths.RUN_COSTS_TABLE}.md",
        runs_html=report(
            f"{paths.RUN_COSTS_TABLE}.html",
            caption="../report/run_costs.rst",
            category="study",
            subcategory="cost and problem runs",
            labels={"task": "all", "table": "cost per run"},
        ),
        problems_csv=f"{paths.PROBLEM_RUNS_TABLE}.csv",
        problems_md=f"{paths.PROBLEM_RUNS_TABLE}.md",
        problems_html=report(
            f"{paths.PROBLEM_RUNS_TABLE}.html",
            caption="../report/problem_runs.rst",
            category="study",
            subcategory="cost and problem runs",
            labels={"task": "all", "table": "diverged and far-worse runs"},
        ),
    log:
        "logs/analysis/costs.log",
    conda:
        "../envs/report.yaml"
    params:
        results=results_version("tabulate_costs"),
    script:
        "../scripts/tabulate_costs.py"
