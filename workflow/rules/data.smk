# Compute nodes of many clusters cannot reach the internet; the login node fetches (or copies) MNIST.
localrules:
    fetch_mnist,


rule fetch_mnist:
    output:
        expand("data/raw/mnist/{name}", name=MNIST_FILES),
    log:
        "logs/data/fetch_mnist.log",
    conda:
        "../envs/digitstudy.yaml"
    script:
        "../scripts/fetch_mnist.py"


rule prepare_mnist:
    input:
        rules.fetch_mnist.output,
    output:
        "data/processed/mnist.h5",
    log:
        "logs/data/prepare_mnist.log",
    benchmark:
        "benchmarks/data/prepare_mnist.tsv"
    conda:
        "../envs/digitstudy.yaml"
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        sizes=SPLIT_SIZES,
        split_seed=config["data"]["split_seed"],
    script:
        "../scripts/prepare_mnist.py"


rule make_two_digit:
    input:
        rules.fetch_mnist.output,
    output:
        "data/processed/twodigit.h5",
    log:
        "logs/data/make_two_digit.log",
    benchmark:
        "benchmarks/data/make_two_digit.tsv"
    conda:
        "../envs/digitstudy.yaml"
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        sizes=SPLIT_SIZES,
        split_seed=config["data"]["split_seed"],
        pair_seed=config["data"]["pair_seed"],
    script:
        "../scripts/make_two_digit.py"


rule plot_two_digit_samples:
    input:
        rules.make_two_digit.output,
    output:
        report(
            "results/plots/twodigit_samples.png",
            caption="../report/twodigit_samples.rst",
            category="twodigit",
            subcategory="data",
            labels={"task": "twodigit", "figure": "training images"},
        ),
    log:
        "logs/plots/twodigit_samples.log",
    conda:
        "../envs/digitstudy.yaml"
    params:
        dpi=config["plots"]["dpi"],
    script:
        "../scripts/plot_two_digit_samples.py"
