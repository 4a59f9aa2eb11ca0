rule collect_runs:
    input:
        all_run_files("metrics.json"),
    output:
        "results/runs.csv",
    log:
        "logs/aggregate/collect_runs.log",
    conda:
        "../envs/digitstudy.yaml"
    script:
        "../scripts/collect_runs.py"


rule make_tables:
    input:
        seeds=seed_study_files("metrics.json"),
        grid=grid_files("metrics.json"),
    output:
        seeds_csv=f"{TABLES}/seeds.csv",
        seeds_md=f"{TABLES}/seeds.md",
        grid_csv=f"{TABLES}/grid.csv",
        grid_md=f"{TABLES}/grid.md",
        choice=f"{TABLES}/choice.json",
    log:
        "logs/aggregate/tables/{dataset}/{model}.log",
    conda:
        "../envs/digitstudy.yaml"
    script:
        "../scripts/make_tables.py"


rule plot_curves:
    input:
        seed_study_files("history.csv"),
    output:
        report(
            f"{PLOTS}/curves.png",
            caption="../report/curves.rst",
            category="Learning curves",
            subcategory="{dataset}",
        ),
    params:
        seeds=config["seed_study"]["seeds"],
        dpi=config["plots"]["dpi"],
    log:
        "logs/plots/{dataset}/{model}/curves.log",
    conda:
        "../envs/digitstudy.yaml"
    script:
        "../scripts/plot_curves.py"


rule plot_grid:
    input:
        f"{TABLES}/grid.csv",
    output:
        report(
            f"{PLOTS}/grid.png",
            caption="../report/grid.rst",
            category="Learning rate x momentum",
            subcategory="{dataset}",
        ),
    params:
        dpi=config["plots"]["dpi"],
    log:
        "logs/plots/{dataset}/{model}/grid.log",
    conda:
        "../envs/digitstudy.yaml"
    script:
        "../scripts/plot_grid.py"


rule plot_weights:
    input:
        choice=f"{TABLES}/choice.json",
        models=grid_files("model.pt"),
        data="data/processed/{dataset}.h5",
    output:
        report(
            f"{PLOTS}/weights.png",
            caption="../report/weights.rst",
            category="First-layer weights",
            subcategory="{dataset}",
        ),
    params:
        dpi=config["plots"]["dpi"],
    log:
        "logs/plots/{dataset}/{model}/weights.log",
    conda:
        "../envs/digitstudy.yaml"
    script:
        "../scripts/plot_weights.py"


rule plot_comparison:
    input:
        experiment_files(f"{TABLES}/choice.json"),
    output:
        report(
            "results/plots/comparison.png",
            caption="../report/comparison.rst",
            category="Comparison",
        ),
    params:
        dpi=config["plots"]["dpi"],
    log:
        "logs/plots/comparison.log",
    conda:
        "../envs/digitstudy.yaml"
    script:
        "../scripts/plot_comparison.py"


rule write_summary:
    input:
        choices=experiment_files(f"{TABLES}/choice.json"),
        grids=experiment_files(f"{TABLES}/grid.csv"),
        plots=experiment_files(f"{PLOTS}/curves.png")
        + experiment_files(f"{PLOTS}/grid.png")
        + experiment_files(f"{PLOTS}/weights.png")
        + ["results/plots/comparison.png"]
        + (["results/plots/twodigit_samples.png"] if "twodigit" in config["experiments"] else []),
        runs="results/runs.csv",
    output:
        "results/summary.md",
    params:
        seed_study={
            "seeds": config["seed_study"]["seeds"],
            "lr": config["seed_study"]["lr"],
            "momentum": config["seed_study"]["momentum"],
            "grid_seed": config["grid"]["seed"],
        },
    log:
        "logs/aggregate/summary.log",
    conda:
        "../envs/digitstudy.yaml"
    script:
        "../scripts/write_summary.py"
