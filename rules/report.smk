# What `snakemake --report report.html` shows, besides the taxonomy plot and scores.csv marked in
# their own rules: the data funnel, example trajectories, SFT set statistics, training curves and
# the scores as a readable table. Snakemake's report shows PNG and HTML inline but offers CSV only as
# a download, so every table meant to be read is also rendered as a small self-contained HTML page.
# Each rule reads only what some variant already needs: no stage runs just for the report.


report: "../report/workflow.rst"


rule report_funnel:
    """How many rows survived each stage, per bucket (the student's own mistakes or one injected
    type), cut and strategy: a table (CSV and HTML) and a plot."""
    input:
        graded=get_graded,
        labels="results/taxonomy/labels.parquet",
        stats=get_funnel_inputs,
    output:
        csv="results/report/funnel.csv",
        plot=report(
            "results/report/funnel.png",
            caption="../report/funnel.rst",
            category="2. Data funnel",
            subcategory="Funnel",
            labels={"figure": "funnel plot"},
        ),
        html=report(
            "results/report/funnel.html",
            caption="../report/funnel.rst",
            category="2. Data funnel",
            subcategory="Funnel",
            labels={"figure": "funnel table"},
        ),
    log:
        "logs/report/funnel.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    params:
        results=lambda w, output: str(Path(output.csv).parents[1]),
        buckets=[STUDENT_BUCKET] + [b for b in AUG_TYPES if b in REPORT_BUCKETS],
        cuts=REPORT_CUTS,
        strategies=REPORT_STRATEGIES,
    script:
        "../scripts/report_funnel.py"


rule report_examples:
    """A few kept trajectories of one bucket per strategy, with the wrong prefix, the reflection
    phrase and the correction set apart."""
    input:
        problems=get_train_problems,
        trajectories=get_example_trajectories,
        labels=lambda w: ["results/taxonomy/labels.parquet"] if w.bucket == STUDENT_BUCKET else [],
    output:
        report(
            "results/report/examples/{bucket}.html",
            caption="../report/examples.rst",
            category="2. Data funnel",
            subcategory="Example trajectories",
            labels={"error type": "{bucket}"},
        ),
    log:
        "logs/report/examples/{bucket}.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    params:
        n_per_strategy=3,
    script:
        "../scripts/report_examples.py"


rule report_sft_stats:
    """Rows, average length and the share of each error type and strategy of every variant's SFT set."""
    input:
        expand("results/sft/{variant}.stats.json", variant=VARIANTS),
    output:
        html=report(
            "results/report/sft_stats.html",
            caption="../report/sft_stats.rst",
            category="3. Training",
            subcategory="SFT sets",
            labels={"figure": "SFT set statistics"},
        ),
        csv="results/report/sft_stats.csv",
    log:
        "logs/report/sft_stats.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    params:
        variants=VARIANTS,
    script:
        "../scripts/report_sft_stats.py"


rule report_curves:
    """Training curves of one run (loss, learning rate, grad norm), from its curves.csv."""
    input:
        "results/models/{run}",
    output:
        report(
            "results/report/curves/{run}.png",
            caption="../report/curves.rst",
            category="3. Training",
            subcategory="Training curves",
            labels={"variant": "{run}"},
        ),
    log:
        "logs/report/curves/{run}.log",
    localrule: True
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/report_curves.py"


rule report_loss_overlay:
    """Every variant's training loss on one axis."""
    input:
        expand("results/models/{run}", run=list(RUNS)),
    output:
        report(
            "results/report/curves/all_variants.png",
            caption="../report/curves_all.rst",
            category="3. Training",
            subcategory="Training curves",
            labels={"variant": "all (loss)"},
        ),
    log:
        "logs/report/loss_overlay.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    params:
        variants=list(RUNS),
    script:
        "../scripts/report_loss_overlay.py"


rule report_scores:
    """The scores as the paper's Table 2 layout: accuracy with its 95% interval per variant and benchmark,
    and the reflection columns of results/scores.md."""
    input:
        scores="results/scores.csv",
        mechanism="results/mechanism/reflections.csv",
    output:
        report("results/report/scores.html", caption="../report/scores_table.rst", category="4. Scores"),
    log:
        "logs/report/scores.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    params:
        variants=VARIANTS,
        benchmarks=BENCHMARKS,
    script:
        "../scripts/report_scores.py"


rule report_teacher_cost:
    """Calls, tokens and dollars of every teacher stage and cut (`lemma estimate`), once the
    trajectories exist: what the run paid, from the request cache's ledger. LLM teacher only."""
    input:
        sorted({f"results/trajectories/{c}/{s}/{b}.parquet" for c, s, b in REPORT_USED}),
    output:
        report(
            "results/report/teacher_cost.html",
            caption="../report/teacher_cost.rst",
            category="2. Data funnel",
            subcategory="Teacher cost",
            labels={"table": "teacher calls and cost"},
        ),
    log:
        "logs/report/teacher_cost.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    params:
        teacher=teacher_params(),
    script:
        "../scripts/report_teacher_cost.py"
