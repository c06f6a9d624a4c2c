rule locate_errors:
    """The first wrong step of each distinct wrong student sample (the error-step judge).
    It does not read the taxonomy, so editing an error type never reruns it."""
    input:
        problems=get_train_problems,
        graded=get_graded,
    output:
        steps="results/taxonomy/steps.parquet",
        stats="results/taxonomy/steps.stats.json",
    log:
        "logs/locate_errors.log",
    priority: MISTAKE_CHAIN_PRIORITY
    group:
        cpu_group("judge")
    conda:
        "../envs/core.yaml"
    resources:
        **teacher_resources(),
    params:
        teacher=teacher_params("judge_step"),
        max_items=config["classify"]["max_items"],
        seed=config["seed"],  # the judged-sample cap is a seeded draw
    script:
        "../scripts/locate_errors.py"


rule classify_errors:
    """The error type of each located wrong sample (the error-type judge, whose prompt lists
    every type: it depends on the whole taxonomy)."""
    input:
        problems=get_train_problems,
        steps="results/taxonomy/steps.parquet",
    output:
        labels="results/taxonomy/labels.parquet",
        stats="results/taxonomy/labels.stats.json",
    log:
        "logs/classify_errors.log",
    priority: MISTAKE_CHAIN_PRIORITY
    group:
        cpu_group("judge")
    conda:
        "../envs/core.yaml"
    resources:
        **teacher_resources(),
    params:
        teacher=teacher_params("judge_type"),
        taxonomy=taxonomy_entries(),
    script:
        "../scripts/classify_errors.py"


rule taxonomy_stats:
    """Which errors this student makes: counts, shares and a bar chart."""
    input:
        "results/taxonomy/labels.parquet",
    output:
        table="results/taxonomy/stats.parquet",
        plot=report(
            "results/taxonomy/error_types.png", caption="../report/error_types.rst", category="1. Error taxonomy"
        ),
    log:
        "logs/taxonomy_stats.log",
    priority: MISTAKE_CHAIN_PRIORITY
    localrule: True
    conda:
        "../envs/core.yaml"
    params:
        taxonomy=taxonomy_entries(),
    script:
        "../scripts/taxonomy_stats.py"
