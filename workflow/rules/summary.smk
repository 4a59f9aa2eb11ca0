rule plot_comparison:
    input:
        replicates=task_files(rules.tabulate_replicates.output.replicates_csv),
        variance=task_files(rules.tabulate_replicates.output.variance_csv),
    output:
        report(
            paths.COMPARISON_PLOT,
            caption="../report/comparison.rst",
            category="study",
            subcategory="tasks compared",
            labels={"task": "all", "figure": "chosen models compared"},
        ),
    log:
        "logs/plots/comparison.log",
    conda:
        "../envs/report.yaml"
    params:
        results=results_version("plot_comparison"),
        dpi=config["plots"]["dpi"],
    script:
        "../scripts/plot_comparison.py"


rule write_summary:
    input:
        choices=experiment_files(rules.choose.output[0]),
        grids=experiment_files(rules.make_tables.output.grid_csv),
        variance=task_files(rules.tabulate_replicates.output.variance_csv),
        pairwise=task_files(rules.compare_models.output.pairwise_csv),
        runs=rules.collect_runs.output.csv,
        cost=rules.tabulate_costs.output.cost_csv,
        problems=rules.tabulate_costs.output.problems_csv,
        linked=get_summary_linked_files,
    output:
        markdown=paths.SUMMARY,
        html=report(
            paths.REPORT_SUMMARY,
            caption="../report/summary.rst",
            category="study",
            subcategory="summary",
            labels={"task": "all", "table": "summary"},
        ),
        findings=paths.REPORT_FINDINGS,
    log:
        "logs/aggregate/summary.log",
    conda:
        "../envs/report.yaml"
    params:
        results=results_version("write_summary"),
        study={
            "name": config["study"],
            "seeds": config["seed_study"]["seeds"],
            "lr": config["seed_study"]["lr"],
            "momentum": config["seed_study"]["momentum"],
            "grid_seed": config["grid"]["seed"],
            "grid_lr": config["grid"]["lr"],
            "grid_momentum": config["grid"]["momentum"],
            "confirm": {key: config["confirm"][key] for key in ("first", "step", "max", "alpha")},
            "data": config["data"],
            "epochs": {
                f"{dataset} / {model}": experiment_setting(config, dataset, model, "epochs")
                for dataset, model in experiments(config)
            },
        },
        tasks=datasets(config),
        pairs_datasets=pairs_datasets(config),
    script:
        "../scripts/write_summary.py"
