rule collect_runs:
    input:
        get_study_run_files(f"{paths.RUN_DIR}/metrics.json"),
    output:
        csv=f"{paths.RUNS_TABLE}.csv",
        html=report(
            f"{paths.RUNS_TABLE}.html",
            caption="../report/runs.rst",
            category="study",
            subcategory="every run",
            labels={"task": "all", "table": "every run"},
        ),
    log:
        "logs/aggregate/collect_runs.log",
    conda:
        "../envs/report.yaml"
    params:
        results=results_version("collect_runs"),
    script:
        "../scripts/collect_runs.py"


# A second's work each, that decides which replicates train: on a cluster they run where Snakemake runs,
# so that the replicates need not wait for them in the queue.
localrules:
    choose,
    plan_replicates,
    decide_round,


# Each experiment's configuration: the grid run with the lowest validation error, never the test set.
rule choose:
    input:
        grid=get_grid_files("metrics.json"),
        seeds=get_seed_study_files("metrics.json"),
    output:
        paths.CHOICE,
    log:
        "logs/aggregate/choose/{dataset}/{model}.log",
    conda:
        "../envs/report.yaml"
    params:
        results=results_version("choose"),
    script:
        "../scripts/choose.py"


# The replicates the confirmation may train of an experiment: its choice, trained again with other seeds
# and splits (index 1 to confirm.max; the rounds train a prefix). A checkpoint: the jobs that read the
# replicates are planned once it has run. (Its own rule, not `choose`: Snakemake re-plans a checkpoint's
# direct dependents, and a Slurm group holding such a job ends the workflow early, snakemake/snakemake#823;
# the tables and plots of `choose` are grouped.)
checkpoint plan_replicates:
    input:
        rules.choose.output[0],
    output:
        paths.REPLICATE_PLAN,
    log:
        "logs/aggregate/plan_replicates/{dataset}/{model}.log",
    conda:
        "../envs/report.yaml"
    params:
        results=results_version("plan_replicates"),
        seed=config["grid"]["seed"],
        split_seed=config["data"]["split_seed"],
        maximum=config["confirm"]["max"],
    script:
        "../scripts/plan_replicates.py"


# After each round of the confirmation: every pair of a task's models judged on all its replicates so
# far (better, equal within delta, or open), and the models that train another round. A checkpoint: the
# next round's replicates, or the tables once none is left, are planned from its decisions.
checkpoint decide_round:
    input:
        # The plans and the previous round's decisions as files too: a round whose plan or previous
        # round is made again is decided again, so that every job waiting on it is planned anew.
        plans=get_task_plans,
        previous=get_previous_decisions,
        predictions=get_round_predictions,
    output:
        paths.ROUND_DECISIONS,
    log:
        "logs/aggregate/decide/{dataset}/round{round}.log",
    conda:
        "../envs/report.yaml"
    params:
        results=results_version("decide_round"),
        models=lambda wildcards: list(config["experiments"][wildcards.dataset]),
        settings=lambda wildcards: confirm_settings(config, wildcards.dataset),
    script:
        "../scripts/decide_round.py"


rule make_tables:
    input:
        seeds=get_seed_study_files("metrics.json"),
        grid=get_grid_files("metrics.json"),
        choice=rules.choose.output[0],
    output:
        seeds_csv=f"{paths.SEEDS_TABLE}.csv",
        seeds_md=f"{paths.SEEDS_TABLE}.md",
        seeds_html=report(
            f"{paths.SEEDS_TABLE}.html",
            caption="../report/seeds.rst",
            category="{dataset}",
            subcategory="{model}",
            labels=experiment_labels("table", "seed study"),
        ),
        grid_csv=f"{paths.GRID_TABLE}.csv",
        grid_md=f"{paths.GRID_TABLE}.md",
        grid_html=report(
            f"{paths.GRID_TABLE}.html",
            caption="../report/grid_table.rst",
            category="{dataset}",
            subcategory="{model}",
            labels=experiment_labels("table", "learning rate x momentum grid"),
        ),
    log:
        "logs/aggregate/tables/{dataset}/{model}.log",
    conda:
        "../envs/report.yaml"
    params:
        results=results_version("make_tables"),
    script:
        "../scripts/make_tables.py"


rule plot_curves:
    input:
        get_seed_study_files("history.csv"),
    output:
        report(
            paths.CURVES_PLOT,
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
        results=results_version("plot_curves"),
        seeds=config["seed_study"]["seeds"],
        dpi=config["plots"]["dpi"],
    script:
        "../scripts/plot_curves.py"


rule plot_grid:
    input:
        rules.make_tables.output.grid_csv,
    output:
        report(
            paths.GRID_PLOT,
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
        results=results_version("plot_grid"),
        dpi=config["plots"]["dpi"],
    script:
        "../scripts/plot_grid.py"


rule plot_weights:
    input:
        choice=rules.choose.output[0],
        models=get_grid_files("model.pt"),
        data=paths.STUDY_DATASET_FILE,
    output:
        report(
            paths.WEIGHTS_PLOT,
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
        results=results_version("plot_weights"),
        declared_model=get_declared_model,
        runs=get_grid_runs,
        dpi=config["plots"]["dpi"],
    script:
        "../scripts/plot_weights.py"
