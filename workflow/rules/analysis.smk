# Error analysis, statistics and cost, from the runs' saved weights, metrics and benchmark files:
# a study trained before these rules existed gains them without training anything again.


rule predict_test:
    input:
        choice=rules.choose.output[0],
        models=get_grid_files("model.pt"),
        data=paths.DATASET_FILE,
    output:
        paths.PREDICTIONS,
    log:
        "logs/analysis/predict/{dataset}/{model}.log",
    conda:
        "../envs/report.yaml"
    threads: config["training"]["threads"]
    params:
        runs=get_grid_runs,
    script:
        "../scripts/predict_test.py"


rule analyse_errors:
    input:
        predictions=rules.predict_test.output[0],
        data=paths.DATASET_FILE,
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
    script:
        "../scripts/analyse_errors.py"


rule plot_errors:
    input:
        predictions=rules.predict_test.output[0],
        class_errors=rules.analyse_errors.output.class_csv,
        confusion=rules.analyse_errors.output.confusion_csv,
        data=paths.DATASET_FILE,
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
        dpi=config["plots"]["dpi"],
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
    script:
        "../scripts/tabulate_digit_pairs.py"


rule compare_models:
    input:
        choices=get_task_files(rules.choose.output[0]),
        seeds=get_task_files(rules.make_tables.output.seeds_csv),
        predictions=get_task_files(rules.predict_test.output[0]),
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
    script:
        "../scripts/compare_models.py"


rule tabulate_costs:
    input:
        runs=rules.collect_runs.output.csv,
        choices=experiment_files(rules.choose.output[0]),
        run_benchmarks=study_run_files(paths.TRAIN_BENCHMARK),
        data_benchmarks=task_files(paths.DATA_BENCHMARK),
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
        # The (dataset, model, run) of each of run_benchmarks, in their order.
        runs=[
            [dataset, model, paths.run_name(*run)]
            for dataset, model in experiments(config)
            for run in all_runs(config)
        ],
    script:
        "../scripts/tabulate_costs.py"
