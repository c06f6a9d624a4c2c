rule build_sft:
    """One variant's SFT set: reference solutions and/or kept trajectories, plus exports."""
    input:
        problems=get_train_problems,
        trajectories=get_sft_trajectories,
        labels=get_sft_labels,
        graded=get_sft_graded,
        external=get_sft_external,
    output:
        sft="results/sft/{variant}.jsonl",
        stats="results/sft/{variant}.stats.json",
        alpaca="results/sft/exports/{variant}.alpaca.jsonl",
        sharegpt="results/sft/exports/{variant}.sharegpt.jsonl",
        messages="results/sft/exports/{variant}.messages.jsonl",
    log:
        "logs/build_sft/{variant}.log",
    priority: MISTAKE_CHAIN_PRIORITY
    group:
        cpu_group("sft")
    conda:
        "../envs/core.yaml"
    params:
        variant=lambda w: config["variants"][w.variant],
        template=prompt_template(),
        seed=config["seed"],
    script:
        "../scripts/build_sft.py"


rule train:
    """Fine-tune the base student on one variant's SFT set with one seed; every variant, same
    settings; the budget (steps, epochs or tokens: training.protocol) becomes a step count here."""
    input:
        sft=get_run_sft,
        model=get_base_model_input,
    output:
        directory("results/models/{run}"),
    log:
        "logs/train/{run}.log",
    benchmark:
        "benchmarks/train/{run}.tsv"
    conda:
        "../envs/train.yaml"
    threads: config["training"]["threads"]
    resources:
        **train_resources(),
        mem_mb=mem_mb(8000),
        runtime=600,
    params:
        model=get_base_model(),
        training=run_training,
        checkpoints=lambda w: f"results/checkpoints/{w.run}",
    script:
        "../scripts/train.py"
