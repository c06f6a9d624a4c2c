rule evaluate:
    """Greedy answers of one fine-tuned variant on one benchmark, graded per item."""
    input:
        problems="results/problems/{benchmark}.parquet",
        model="results/models/{run}",
    output:
        "results/eval/{run}/{benchmark}.parquet",
    log:
        "logs/evaluate/{run}/{benchmark}.log",
    benchmark:
        "benchmarks/evaluate/{run}/{benchmark}.tsv"
    conda:
        "../envs/vllm.yaml" if config["student"]["engine"] == "vllm" else "../envs/train.yaml"
    threads: config["evaluation"]["threads"]
    resources:
        **student_resources(),
        mem_mb=mem_mb(4000),
        runtime=120,
    params:
        student=config["student"],
        evaluation=eval_settings(),
        template=prompt_template(),
        source=lambda w: config["benchmarks"][w.benchmark],
        grading=grading_params("evaluation"),
    script:
        "../scripts/evaluate.py"


rule evaluate_majority:
    """maj@k (evaluation.maj_k samples at T=0.7, majority answer), only when maj_k is set."""
    input:
        problems="results/problems/{benchmark}.parquet",
        model="results/models/{run}",
    output:
        "results/eval_maj/{run}/{benchmark}.parquet",
    log:
        "logs/evaluate_majority/{run}/{benchmark}.log",
    benchmark:
        "benchmarks/evaluate_majority/{run}/{benchmark}.tsv"
    conda:
        "../envs/vllm.yaml" if config["student"]["engine"] == "vllm" else "../envs/train.yaml"
    threads: config["evaluation"]["threads"]
    resources:
        **student_resources(),
        mem_mb=mem_mb(4000),
        runtime=240,
    params:
        student=config["student"],
        evaluation=eval_settings(majority=True),
        template=prompt_template(),
        source=lambda w: config["benchmarks"][w.benchmark],
        seed=config["seed"],
        grading=grading_params("evaluation"),
    script:
        "../scripts/evaluate_majority.py"


rule measure_reflection:
    """The mechanism, measured: for every run and benchmark, how often the answers reflect, and
    whether the text before the reflection was right or wrong (the world's oracle step check)
    and the final answer right or wrong: self-corrections, wrong->wrong, harmful, false alarms."""
    input:
        evals=get_greedy_evals,
        problems=expand("results/problems/{benchmark}.parquet", benchmark=BENCHMARKS),
    output:
        csv="results/mechanism/reflections.csv",
        by_type="results/mechanism/by_type.csv",
        plot=report(
            "results/report/mechanism.png",
            caption="../report/mechanism.rst",
            category="4. Scores",
            labels={"figure": "reflections"},
        ),
        html=report(
            "results/report/mechanism.html",
            caption="../report/mechanism.rst",
            category="4. Scores",
            labels={"figure": "reflections table"},
        ),
    log:
        "logs/measure_reflection.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    params:
        runs=RUNS,
        benchmarks=BENCHMARKS,
        phrases=config["reflection_phrases"],
    script:
        "../scripts/measure_reflection.py"


rule compare_variants:
    """Paired comparisons over the same test items: every variant against the baseline (sft),
    difference with a paired-bootstrap 95% interval and McNemar's exact test."""
    input:
        evals=get_greedy_evals,
    output:
        csv="results/compare/paired.csv",
        html=report(
            "results/report/paired.html",
            caption="../report/paired.rst",
            category="4. Scores",
            labels={"figure": "paired comparisons"},
        ),
    log:
        "logs/compare_variants.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    params:
        runs=RUNS,
        benchmarks=BENCHMARKS,
        variants=VARIANTS,
        seed=config["seed"],
    script:
        "../scripts/compare_variants.py"


rule scores:
    """Accuracy with a 95% interval per variant and benchmark, and the paper-style table."""
    input:
        greedy=get_greedy_evals,
        majority=get_majority_evals,
        mechanism="results/mechanism/reflections.csv",
        paired="results/compare/paired.csv",
    output:
        csv=report("results/scores.csv", caption="../report/scores.rst", category="4. Scores"),
        runs="results/scores_runs.csv",
        md="results/scores.md",
    log:
        "logs/scores.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    params:
        variants=VARIANTS,
        runs=RUNS,
        protocol=training_protocol(),
        benchmarks=BENCHMARKS,
        maj_k=config["evaluation"]["maj_k"],
    script:
        "../scripts/scores.py"
