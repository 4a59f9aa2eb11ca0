rule train_run:
    input:
        data=paths.DATASET_FILE,
    output:
        history=f"{paths.RUN_DIR}/history.csv",
        metrics=f"{paths.RUN_DIR}/metrics.json",
        model=f"{paths.RUN_DIR}/model.pt",
    log:
        paths.RUN_LOG,
    benchmark:
        paths.TRAIN_BENCHMARK
    conda:
        "../envs/digitstudy.yaml"
    threads: config["training"]["threads"]
    resources:
        # On a cluster: cpus-per-task is `threads`; memory and time limit grow with the data,
        # the model and the epochs; one GPU when training.device is cuda.
        mem_mb=get_train_mem_mb,
        runtime=get_train_runtime,
        gpu=TRAIN_GPUS,
    params:
        results=results_version("train_run"),
        declared_model=get_declared_model,
        batch_size=get_setting("batch_size"),
        epochs=get_setting("epochs"),
        chance_patience=config["training"]["chance_patience"],
        device=config["training"]["device"],
    script:
        "../scripts/train_run.py"


# Every run: seed studies, grids, and the replicates of each experiment's choice.
rule train_all:
    input:
        get_study_run_files(f"{paths.RUN_DIR}/metrics.json"),
