# The judge benchmark (on demand, not in the default run): the teacher's step judge scored on
# labelled sets. `snakemake results/judge/summary.md` (or `lemma judge-bench`); in the report:
# `snakemake --report report.html results/judge/summary.html`.
JUDGE_SETS = config["judge_bench"]["sets"]
JUDGE_GATE = config["judge_bench"]["gate"]


rule judge_bench:
    """The configured teacher's first-wrong-step verdicts on one labelled set, scored."""
    output:
        table="results/judge/{jset}.parquet",
        summary="results/judge/{jset}.summary.json",
    log:
        "logs/judge_bench/{jset}.log",
    conda:
        "../envs/core.yaml"
    resources:
        **teacher_resources(),
    params:
        teacher=teacher_params("judge_step"),
        spec=lambda w: JUDGE_SETS[w.jset],
        seed=config["seed"],
    script:
        "../scripts/judge_bench.py"


rule judge_bench_table:
    """Every set's summary in one table (results/judge/summary.md)."""
    input:
        expand("results/judge/{jset}.summary.json", jset=JUDGE_SETS),
    output:
        csv="results/judge/summary.csv",
        md="results/judge/summary.md",
        html=report("results/judge/summary.html", caption="../report/judge_bench.rst", category="7. Judge benchmark"),
    log:
        "logs/judge_bench_table.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/judge_bench_table.py"


rule judge_gate:
    """Stop before any augmentation request when the teacher's judge scores below
    judge_bench.gate.min_f1 on its calibration set (only with judge_bench.gate set)."""
    input:
        lambda w: f"results/judge/{JUDGE_GATE['set']}.summary.json",
    output:
        "results/judge/gate.json",
    log:
        "logs/judge_gate.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    params:
        gate=JUDGE_GATE,
    script:
        "../scripts/judge_gate.py"
