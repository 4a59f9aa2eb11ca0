rule collect_runs:
    input:
        all_run_files("metrics.json"),
    output:
        csv="results/runs.csv",
        html=report(
            "results/runs.html",
            caption="../report/runs.rst",
            category="study",
            subcategory="every run",
            labels={"task": "all", "table": "every run"},
        ),
    log:
        "logs/aggregate/collect_runs.log",
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/collect_runs.py"


rule make_tables:
    input:
        seeds=get_seed_study_files("metrics.json"),
        grid=get_grid_files("metrics.json"),
    output:
        seeds_csv=f"{TABLES}/seeds.csv",
        seeds_md=f"{TABLES}/seeds.md",
        seeds_html=report(
            f"{TABLES}/seeds.html",
            caption="../report/seeds.rst",
            category="{dataset}",
            subcategory="{model}",
            labels=experiment_labels("table", "seed study"),
        ),
        grid_csv=f"{TABLES}/grid.csv",
        grid_md=f"{TABLES}/grid.md",
        grid_html=report(
            f"{TABLES}/grid.html",
            caption="../report/grid_table.rst",
            category="{dataset}",
            subcategory="{model}",
            labels=experiment_labels("table", "learning rate x momentum grid"),
        ),
        choice=f"{TABLES}/choice.json",
    log:
        "logs/aggregate/tables/{dataset}/{model}.log",
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/make_tables.py"


rule plot_curves:
    input:
        get_seed_study_files("history.csv"),
    output:
        report(
            f"{PLOTS}/curves.png",
            caption="../report/curves.rst",
            category="{dataset}",
            subcategory="{model}",
            labels=experiment_labels("figure", "learning curves"),
        ),
    log:
        "logs/plots/{dataset}/{model}/curves.log",
    conda:
        "../envs/report.yaml"
    params:
        seeds=config["seed_study"]["seeds"],
        dpi=config["plots"]["dpi"],
    script:
        "../scripts/plot_curves.py"


rule plot_grid:
    input:
        f"{TABLES}/grid.csv",
    output:
        report(
            f"{PLOTS}/grid.png",
            caption="../report/grid.rst",
            category="{dataset}",
            subcategory="{model}",
            labels=experiment_labels("figure", "learning rate x momentum grid"),
        ),
    log:
        "logs/plots/{dataset}/{model}/grid.log",
    conda:
        "../envs/report.yaml"
    params:
        dpi=config["plots"]["dpi"],
    script:
        "../scripts/plot_grid.py"


rule plot_weights:
    input:
        choice=f"{TABLES}/choice.json",
        models=get_grid_files("model.pt"),
        data=DATASET_FILE,
    output:
        report(
            f"{PLOTS}/weights.png",
            caption="../report/weights.rst",
            category="{dataset}",
            subcategory="{model}",
            labels=experiment_labels("figure", "first-layer weights"),
        ),
    log:
        "logs/plots/{dataset}/{model}/weights.log",
    conda:
        "../envs/report.yaml"
    params:
        dpi=config["plots"]["dpi"],
    script:
        "../scripts/plot_weights.py"
