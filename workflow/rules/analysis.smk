# Error analysis, statistics and cost, from the runs' saved weights, metrics and benchmark files:
# a study trained before these rules existed gains them without training anything again.


rule predict_test:
    input:
        choice=rules.make_tables.output.choice,
        models=get_grid_files("model.pt"),
        data=DATASET_FILE,
    output:
        "results/predictions/{dataset}/{model}/test.csv",
    log:
        "logs/analysis/predict/{dataset}/{model}.log",
    conda:
        "../envs/report.yaml"
    threads: config["training"]["threads"]
    script:
        "../scripts/predict_test.py"


rule analyse_errors:
    input:
        predictions=rules.predict_test.output[0],
        data=DATASET_FILE,
    output:
        class_csv=f"{TABLES}/class_errors.csv",
        class_html=report(
            f"{TABLES}/class_errors.html",
            caption="../report/class_errors_table.rst",
            category="{dataset}",
            subcategory="{model}",
            labels=experiment_labels("table", "test error per class"),
        ),
        confusion_csv=f"{TABLES}/confusion.csv",
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
        data=DATASET_FILE,
    output:
        class_errors=report(
            f"{PLOTS}/class_errors.png",
            caption="../report/class_errors.rst",
            category="{dataset}",
            subcategory="{model}",
            labels=experiment_labels("figure", "test error per class"),
        ),
        confusion=report(
            f"{PLOTS}/confusion.png",
            caption="../report/confusion.rst",
            category="{dataset}",
            subcategory="{model}",
            labels=experiment_labels("figure", "confusion matrix"),
        ),
        worst=report(
            f"{PLOTS}/worst.png",
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
        csv=f"{TABLES}/digit_pairs.csv",
        md=f"{TABLES}/digit_pairs.md",
        html=report(
            f"{TABLES}/digit_pairs.html",
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
        choices=get_task_files(rules.make_tables.output.choice),
        seeds=get_task_files(rules.make_tables.output.seeds_csv),
        predictions=get_task_files(rules.predict_test.output[0]),
    output:
        chosen_csv="results/tables/{dataset}/chosen.csv",
        chosen_md="results/tables/{dataset}/chosen.md",
        chosen_html=report(
            "results/tables/{dataset}/chosen.html",
            caption="../report/chosen.rst",
            category="{dataset}",
            subcategory="models compared",
            labels={"task": "{dataset}", "table": "chosen models, test error with interval"},
        ),
        pairwise_csv="results/tables/{dataset}/pairwise.csv",
        pairwise_md="results/tables/{dataset}/pairwise.md",
        pairwise_html=report(
            "results/tables/{dataset}/pairwise.html",
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
        choices=experiment_files(rules.make_tables.output.choice),
        run_benchmarks=training_benchmarks(),
        data_benchmarks=data_benchmarks(),
    output:
        cost_csv="results/tables/cost.csv",
        cost_md="results/tables/cost.md",
        cost_html=report(
            "results/tables/cost.html",
            caption="../report/cost.rst",
            category="study",
            subcategory="cost and problem runs",
            labels={"task": "all", "table": "cost"},
        ),
        runs_csv="results/tables/run_costs.csv",
        runs_md="results/tables/run_costs.md",
        runs_html=report(
            "results/tables/run_costs.html",
            caption="../report/run_costs.rst",
            category="study",
            subcategory="cost and problem runs",
            labels={"task": "all", "table": "cost per run"},
        ),
        problems_csv="results/tables/problem_runs.csv",
        problems_md="results/tables/problem_runs.md",
        problems_html=report(
            "results/tables/problem_runs.html",
            caption="../report/problem_runs.rst",
            category="study",
            subcategory="cost and problem runs",
            labels={"task": "all", "table": "diverged and far-worse runs"},
        ),
    log:
        "logs/analysis/costs.log",
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/tabulate_costs.py"
