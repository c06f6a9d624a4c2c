rule inject_errors:
    """New wrong solutions carrying one error type, for problems the student failed.
    Its only view of the taxonomy is its own entry (params), so editing another type never reruns it."""
    input:
        gate=get_judge_gate,
        problems=get_train_problems,
        graded=get_graded,
        stats=get_inject_stats,
    output:
        mistakes="results/mistakes/{error_type}.parquet",
        stats="results/mistakes/{error_type}.stats.json",
    log:
        "logs/inject_errors/{error_type}.log",
    priority: MISTAKE_CHAIN_PRIORITY
    group:
        cpu_group("augment")
    conda:
        "../envs/core.yaml"
    resources:
        **teacher_resources(),
    params:
        spec=lambda w: type_entry(w.error_type),
        teacher=teacher_params("inject"),
        augment=config["augment"],
    script:
        "../scripts/inject_errors.py"


rule locate_and_truncate:
    """Each wrong solution cut after its first wrong step (cut=first_error) or kept whole
    (cut=whole, for the no_truncate ablation). bucket: student (own mistakes) or an injected type."""
    input:
        problems=get_train_problems,
        wrong=get_truncate_input,
    output:
        table="results/truncated/{cut}/{bucket}.parquet",
        stats="results/truncated/{cut}/{bucket}.stats.json",
    log:
        "logs/locate_and_truncate/{cut}/{bucket}.log",
    priority: MISTAKE_CHAIN_PRIORITY
    group:
        cpu_group("augment")
    conda:
        "../envs/core.yaml"
    resources:
        **teacher_resources(),
    params:
        teacher=teacher_params("judge_step"),
    script:
        "../scripts/locate_and_truncate.py"


rule correct:
    """Fix & Continue or Fresh & Restart after a reflection phrase."""
    input:
        gate=get_judge_gate,
        problems=get_train_problems,
        graded=get_graded,
        truncated="results/truncated/{cut}/{bucket}.parquet",
        # Fresh & Restart's guides include samples the step judge found correct (grader false negatives)
        steps=lambda w: ["results/taxonomy/steps.parquet"] if w.strategy == FRESH_RESTART else [],
    output:
        table="results/corrections/{cut}/{strategy}/{bucket}.parquet",
        stats="results/corrections/{cut}/{strategy}/{bucket}.stats.json",
    log:
        "logs/correct/{cut}/{strategy}/{bucket}.log",
    priority: MISTAKE_CHAIN_PRIORITY
    group:
        cpu_group("augment")
    conda:
        "../envs/core.yaml"
    resources:
        **teacher_resources(),
    params:
        teacher=lambda w: teacher_params(w.strategy),
        phrases=config["reflection_phrases"],
    script:
        "../scripts/correct.py"


rule smooth_and_filter:
    """Smooth each joined trajectory; keep those whose final answer is right."""
    input:
        problems=get_train_problems,
        corrections="results/corrections/{cut}/{strategy}/{bucket}.parquet",
    output:
        table="results/trajectories/{cut}/{strategy}/{bucket}.parquet",
        stats="results/trajectories/{cut}/{strategy}/{bucket}.stats.json",
    log:
        "logs/smooth_and_filter/{cut}/{strategy}/{bucket}.log",
    priority: MISTAKE_CHAIN_PRIORITY
    group:
        cpu_group("augment")
    conda:
        "../envs/core.yaml"
    resources:
        **teacher_resources(),
    params:
        teacher=teacher_params("smooth"),
        grading=grading_params("training"),
    script:
        "../scripts/smooth_and_filter.py"
