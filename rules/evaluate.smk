rule evaluate:
    """Greedy answers of one fine-tuned variant on one benchmark, graded per item."""
    input:
        problems="results/problems/{benchmark}.parquet",
        model="results/models/{variant}",
    output:
        "results/eval/{variant}/{benchmark}.parquet",
    params:
        student=config["student"],
        evaluation=config["evaluation"],
        template=config["prompt_template"],
        source=lambda w: config["benchmarks"][w.benchmark],
    threads: config["evaluation"]["threads"]
    resources:
        mem_mb=mem_mb(4000),
        runtime=120,
        gpu=0 if config["student"]["engine"] == "hf" else config["student"]["tensor_parallel_size"],
    log:
        "logs/evaluate/{variant}/{benchmark}.log",
    benchmark:
        "benchmarks/evaluate/{variant}/{benchmark}.tsv"
    conda:
        "../envs/vllm.yaml" if config["student"]["engine"] == "vllm" else "../envs/train.yaml"
    script:
        "../scripts/evaluate.py"


rule scores:
    """Accuracy with a 95% interval per variant and benchmark, and the paper-style table."""
    input:
        expand("results/eval/{variant}/{benchmark}.parquet", variant=VARIANTS, benchmark=BENCHMARKS),
    output:
        csv=report("results/scores.csv", caption="../report/scores.rst", category="4. Scores"),
        md="results/scores.md",
    params:
        variants=VARIANTS,
        benchmarks=BENCHMARKS,
    log:
        "logs/scores.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/scores.py"
