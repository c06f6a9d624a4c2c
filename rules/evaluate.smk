rule evaluate:
    """Greedy answers of one fine-tuned variant on one benchmark, graded per item."""
    input:
        problems="results/problems/{benchmark}.parquet",
        model="results/models/{variant}",
    output:
        "results/eval/{variant}/{benchmark}.parquet",
    params:
        student=config["student"],
        evaluation=eval_settings(),
        template=config["prompt_template"],
        source=lambda w: config["benchmarks"][w.benchmark],
        grading=config["grading"],
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


rule evaluate_majority:
    """maj@k (evaluation.maj_k samples at T=0.7, majority answer), only when maj_k is set."""
    input:
        problems="results/problems/{benchmark}.parquet",
        model="results/models/{variant}",
    output:
        "results/eval_maj/{variant}/{benchmark}.parquet",
    params:
        student=config["student"],
        evaluation=eval_settings(majority=True),
        template=config["prompt_template"],
        source=lambda w: config["benchmarks"][w.benchmark],
        seed=config["seed"],
        grading=config["grading"],
    threads: config["evaluation"]["threads"]
    resources:
        mem_mb=mem_mb(4000),
        runtime=240,
        gpu=0 if config["student"]["engine"] == "hf" else config["student"]["tensor_parallel_size"],
    log:
        "logs/evaluate_majority/{variant}/{benchmark}.log",
    benchmark:
        "benchmarks/evaluate_majority/{variant}/{benchmark}.tsv"
    conda:
        "../envs/vllm.yaml" if config["student"]["engine"] == "vllm" else "../envs/train.yaml"
    script:
        "../scripts/evaluate_majority.py"


rule scores:
    """Accuracy with a 95% interval per variant and benchmark, and the paper-style table."""
    input:
        greedy=expand("results/eval/{variant}/{benchmark}.parquet", variant=VARIANTS, benchmark=BENCHMARKS),
        majority=get_majority_evals,
    output:
        csv=report("results/scores.csv", caption="../report/scores.rst", category="4. Scores"),
        md="results/scores.md",
    params:
        variants=VARIANTS,
        benchmarks=BENCHMARKS,
        maj_k=config["evaluation"]["maj_k"],
    log:
        "logs/scores.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/scores.py"
