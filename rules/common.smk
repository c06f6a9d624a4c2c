# Config validation (before any job is scheduled), wildcard constraints and get_* input functions.
import os
from pathlib import Path

from snakemake.exceptions import WorkflowError

from lemma.config import ConfigError, load_workflow_config

try:
    config, TAXONOMY = load_workflow_config(config, workflow.configfiles or ["config/config.yaml"], os.getcwd())
except ConfigError as e:
    raise WorkflowError(str(e)) from None

TYPES = {t.name: t for t in TAXONOMY}
AUG_TYPES = config["augment"]["types"]
BUCKETS = ["student"] + AUG_TYPES
STRATEGIES = config["correct"]["strategies"]
CUTS = ["first_error", "whole"]
DATASETS = list(config["datasets"])
BENCHMARKS = list(config["benchmarks"])
VARIANTS = list(config["variants"])
SOURCES = {**config["benchmarks"], **config["datasets"]}
BUILTIN_STUDENT = config["student"]["model"] == "builtin"

overlap = set(DATASETS) & set(BENCHMARKS)
if overlap:
    raise WorkflowError(f"invalid configuration: names {sorted(overlap)} are both a dataset and a benchmark; rename one")


wildcard_constraints:
    dataset="|".join(DATASETS + BENCHMARKS),
    shard=r"\d+",
    bucket="|".join(BUCKETS),
    error_type="|".join(AUG_TYPES) if AUG_TYPES else "(?!)",
    cut="|".join(CUTS),
    strategy="|".join(["fix_continue", "fresh_restart"]),
    variant="|".join(VARIANTS),
    benchmark="|".join(BENCHMARKS),


def type_entry(name):
    """One taxonomy entry as plain data: the only part of the taxonomy a per-type job sees."""
    t = TYPES[name]
    return {"name": t.name, "code": t.code, "definition": t.definition, "examples": list(t.examples)}


def taxonomy_entries():
    return [type_entry(t) for t in TYPES]


def get_source(wildcards):
    """A dataset's source; the world's settings only where the data comes from the world."""
    src = dict(SOURCES[wildcards.dataset])
    if src["source"] == "builtin":
        src["world"] = config["world"]
    return src


def get_base_model():
    return "results/models/base" if BUILTIN_STUDENT else config["student"]["model"]


def get_base_model_input(wildcards):
    return ["results/models/base"] if BUILTIN_STUDENT else []


def get_train_problems(wildcards=None):
    return expand("results/problems/{dataset}.parquet", dataset=DATASETS)


def get_graded(wildcards=None):
    return expand("results/graded/{dataset}.parquet", dataset=DATASETS)


def get_shards(wildcards):
    return expand("results/samples/{dataset}/{shard}.parquet", dataset=wildcards.dataset,
                  shard=range(config["sampling"]["shards"]))


def get_truncate_input(wildcards):
    if wildcards.bucket == "student":
        return "results/taxonomy/steps.parquet"
    return f"results/mistakes/{wildcards.bucket}.parquet"


def get_inject_stats(wildcards):
    # opt-in: weighting by measured stats makes every type depend on the type judge
    return ["results/taxonomy/stats.parquet"] if config["augment"]["weighting"] == "stats" else []


def variant_trajectories(variant):
    v = config["variants"][variant]
    if not v["trajectories"]:
        return []
    buckets = (["student"] if "student" in v["sources"] else []) + (AUG_TYPES if "augmented" in v["sources"] else [])
    cut = "first_error" if v["truncate"] else "whole"
    return expand("results/trajectories/{cut}/{strategy}/{bucket}.parquet", cut=cut,
                  strategy=[s for s in v["strategies"] if s in STRATEGIES], bucket=buckets)


def get_sft_trajectories(wildcards):
    return variant_trajectories(wildcards.variant)


def get_sft_labels(wildcards):
    v = config["variants"][wildcards.variant]
    return ["results/taxonomy/labels.parquet"] if v["trajectories"] and "student" in v["sources"] else []


def teacher_params():
    return {"teacher": config["teacher"], "seed": config["seed"]}


def mem_mb(base):
    """Memory that grows with each retry, so an out-of-memory kill is followed by a bigger ask."""
    return lambda wildcards, attempt: base * attempt
