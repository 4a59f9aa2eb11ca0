rule train_run:
    input:
        data="data/processed/{dataset}.h5",
    output:
        history=f"{RUN_DIR}/history.csv",
        metrics=f"{RUN_DIR}/metrics.json",
        model=f"{RUN_DIR}/model.pt",
    params:
        batch_size=setting("batch_size"),
        epochs=setting("epochs"),
        chance_patience=config["training"]["chance_patience"],
        device=config["training"]["device"],
    threads: config["training"]["threads"]
    log:
        f"logs/train/{RUN}.log",
    benchmark:
        f"benchmarks/train/{RUN}.tsv"
    script:
        "../scripts/train_run.py"


rule train_all:
    input:
        all_run_files("metrics.json"),
