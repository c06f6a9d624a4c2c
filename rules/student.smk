if BUILTIN_STUDENT:

    rule pretrain_student:
        """The built-in tiny Llama student: tokenizer and weights trained from scratch on the world's
        reference solutions, for a bounded budget, so it is right sometimes and wrong sometimes."""
        input:
            problems=get_train_problems,
        output:
            directory("results/models/base"),
        log:
            "logs/pretrain_student.log",
        benchmark:
            "benchmarks/pretrain_student.tsv"
        conda:
            "../envs/train.yaml"
        threads: config["pretrain"]["threads"]
        resources:
            mem_mb=mem_mb(4000),
            runtime=60,
        params:
            pretrain=config["pretrain"],
            seed=config["seed"],
            checkpoints="results/checkpoints/base",
            # the reflection phrases only matter (and only rerun pre-training) with retry data
            phrases=config["reflection_phrases"] if config["pretrain"]["retry_rate"] else [],
        script:
            "../scripts/pretrain_student.py"


rule sample_student:
    """The student's own attempts (n per problem, T=0.7) at one shard of a dataset."""
    input:
        problems="results/problems/{dataset}.parquet",
        model=get_base_model_input,
    output:
        "results/samples/{dataset}/{shard}.parquet",
    log:
        "logs/sample_student/{dataset}/{shard}.log",
    benchmark:
        "benchmarks/sample_student/{dataset}/{shard}.tsv"
    conda:
        "../envs/vllm.yaml" if config["student"]["engine"] == "vllm" else "../envs/train.yaml"
    threads: config["student"]["threads"]
    resources:
        **student_resources(),
        mem_mb=mem_mb(4000),
        runtime=240,
    params:
        model=get_base_model(),
        student=config["student"],
        sampling=config["sampling"],
        template=prompt_template(),
    script:
        "../scripts/sample_student.py"


rule grade_samples:
    """Each sample's final answer checked against the reference (lemma.grading)."""
    input:
        problems="results/problems/{dataset}.parquet",
        shards=get_shards,
    output:
        "results/graded/{dataset}.parquet",
    log:
        "logs/grade_samples/{dataset}.log",
    priority: MISTAKE_CHAIN_PRIORITY
    group:
        cpu_group("judge")
    conda:
        "../envs/core.yaml"
    threads: config["grading"]["threads"]
    params:
        grading=grading_params("training"),
    script:
        "../scripts/grade_samples.py"
