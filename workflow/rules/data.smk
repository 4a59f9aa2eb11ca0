# The declared datasets (config: datasets): a base dataset's four IDX files are fetched, then built into
# HDF5 splits, as itself (prepare_idx) or as pairs of its images (make_pairs). Each dataset is built
# on the study's train/validation split, and on another split for each replicate (the confirmation
# stage) that needs one: the test images are those of the study's split in every file.


# Compute nodes of many clusters cannot reach the internet; the login node fetches (or copies) the files.
localrules:
    fetch_idx,


rule fetch_idx:
    output:
        expand(f"{paths.RAW_DIR}/{{name}}", name=IDX_FILES, allow_missing=True),
    log:
        paths.FETCH_LOG,
    wildcard_constraints:
        dataset=BASE_DATASETS,
    conda:
        "../envs/digitstudy.yaml"
    params:
        results=results_version("fetch_idx"),
        # What the files must be; where they come from (folder, mirrors) is read from the config
        # deliberately, not as a parameter: the same bytes from elsewhere rerun nothing.
        sha256=lambda wildcards: config["datasets"][wildcards.dataset]["idx"]["sha256"],
    script:
        "../scripts/fetch_idx.py"


rule prepare_idx:
    input:
        get_raw_files,
    output:
        paths.DATASET_FILE,
    log:
        paths.DATA_LOG,
    benchmark:
        paths.DATA_BENCHMARK
    wildcard_constraints:
        dataset=BASE_DATASETS,
    conda:
        "../envs/digitstudy.yaml"
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        results=results_version("prepare_idx"),
        sizes=SPLIT_SIZES,
        split_seed=get_split_seed,
        test_seed=config["data"]["split_seed"],
    script:
        "../scripts/prepare_idx.py"


rule make_pairs:
    input:
        get_raw_files,
    output:
        paths.DATASET_FILE,
    log:
        paths.DATA_LOG,
    benchmark:
        paths.DATA_BENCHMARK
    wildcard_constraints:
        dataset=PAIRS_DATASETS,
    conda:
        "../envs/digitstudy.yaml"
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        results=results_version("make_pairs"),
        sizes=SPLIT_SIZES,
        split_seed=get_split_seed,
        test_seed=config["data"]["split_seed"],
        pair_seed=get_pair_seed,
        base=get_base,
    script:
        "../scripts/make_pairs.py"


rule plot_pair_samples:
    input:
        paths.STUDY_DATASET_FILE,
    output:
        report(
            paths.SAMPLES_PLOT,
            caption="../report/pair_samples.rst",
            category="{dataset}",
            subcategory="data",
            labels={"task": "{dataset}", "figure": "training images"},
        ),
    log:
        "logs/plots/{dataset}_samples.log",
    wildcard_constraints:
        dataset=PAIRS_DATASETS,
    conda:
        "../envs/digitstudy.yaml"
    params:
        results=results_version("plot_pair_samples"),
        dpi=config["plots"]["dpi"],
    script:
        "../scripts/plot_pair_samples.py"
