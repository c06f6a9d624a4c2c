# lemma-workflow: LEMMA (Learning from Errors for Mathematical Advancement, arXiv 2503.17439) as a DAG.
# `snakemake --cores 2` runs the built-in world (config/config.yaml); see docs/teachers.md for real models
# and `--profile profiles/slurm` for a cluster. Every stage's logic lives in the `lemma` package.

from snakemake.utils import min_version

min_version("9.0")


# A --configfile on the command line replaces the built-in default rather than merging into it,
# so a real-model config never inherits the built-in world's datasets or variants.
if not workflow.config_settings.configfiles:
    from snakemake.exceptions import WorkflowError

    from lemma.config import ConfigError, load_yaml

    try:  # a YAML error named by file, line and column (Snakemake's own message names neither)
        load_yaml("config/config.yaml")
    except ConfigError as e:
        raise WorkflowError(str(e)) from None

    configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/problems.smk"
include: "rules/student.smk"
include: "rules/taxonomy.smk"
include: "rules/augment.smk"
include: "rules/sft.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"
include: "rules/judge.smk"


rule all:
    default_target: True
    input:
        "results/scores.csv",
        "results/scores.md",
        "results/taxonomy/stats.parquet",
        report_targets(),


onstart:
    apply_cluster_retries()
    start_teacher_server()


onsuccess:
    stop_teacher_server()


onerror:
    stop_teacher_server()
