# Config validation (before any job is scheduled), wildcard constraints and get_* input functions.
import os
from pathlib import Path

from snakemake.exceptions import WorkflowError

from lemma.config import ConfigError, load_workflow_config
from lemma.text.vocabulary import CUTS, FRESH_RESTART, STRATEGIES as ALL_STRATEGIES, STUDENT_BUCKET, cut_for

# Without a software deployment method every job runs in this Python's environment (locally, or
# on a cluster sharing it), so engine packages (vLLM) must import here; with --sdm conda they live
# in the jobs' envs instead. (The executor is not known yet while the Snakefile is parsed.)
JOBS_RUN_HERE = not workflow.deployment_settings.deployment_method
# conda envs' post-deploy scripts install lemma from this checkout
os.environ.setdefault("LEMMA_WORKFLOW_DIR", workflow.basedir)

try:
    config, TAXONOMY = load_workflow_config(
        config, workflow.configfiles or ["config/config.yaml"], os.getcwd(), jobs_run_here=JOBS_RUN_HERE
    )
except ConfigError as e:
    raise WorkflowError(str(e)) from None

TYPES = {t.name: t for t in TAXONOMY}
AUG_TYPES = config["augment"]["types"]
BUCKETS = [STUDENT_BUCKET] + AUG_TYPES
STRATEGIES = config["correct"]["strategies"]
DATASETS = list(config["datasets"])
BENCHMARKS = list(config["benchmarks"])
VARIANTS = list(config["variants"])
SOURCES = {**config["benchmarks"], **config["datasets"]}
BUILTIN_STUDENT = config["student"]["model"] == "builtin"
# The mistake chain (grade, judge, inject, truncate, correct, smooth, build the SFT sets) goes
# before fine-tunes that are ready at the same time: the trajectory variants' fine-tunes wait on
# it, so running it first shortens the whole run. With this and grading.threads 1, the default
# run's lemma fine-tune started 478 s into the run instead of 607 s (2 cores).
MISTAKE_CHAIN_PRIORITY = 10
# One run = one variant trained with one seed. Without `seeds` a run is named after its variant
# (results/models/sft); with `seeds: [1, 2, 3]` each variant gets runs named {variant}-s{seed}.
SEEDS = config["seeds"]
RUNS = {
    (v if SEEDS is None else f"{v}-s{s}"): (v, s)
    for v in VARIANTS
    for s in (SEEDS if SEEDS is not None else [config["training"]["seed"]])
}


wildcard_constraints:
    dataset="|".join(DATASETS + BENCHMARKS),
    shard=r"\d+",
    bucket="|".join(BUCKETS),
    error_type="|".join(AUG_TYPES) if AUG_TYPES else "(?!)",
    cut="|".join(CUTS),
    strategy="|".join(ALL_STRATEGIES),
    variant="|".join(VARIANTS),
    run="|".join(RUNS),
    benchmark="|".join(BENCHMARKS),
    jset="|".join(config["judge_bench"]["sets"]) or "(?!)",


def type_entry(name):
    """One taxonomy entry as plain data: the only part of the taxonomy a per-type job sees."""
    return TYPES[name].as_dict()


def taxonomy_entries():
    return [type_entry(t) for t in TYPES]


def prompt_template():
    """The rules' `template` param: the template's name, or for `chat` also the tokenizer directory
    whose chat template renders every prompt (the base student's: sampling, SFT and evaluation of
    every variant see the same text)."""
    if config["prompt_template"] != "chat":
        return config["prompt_template"]
    return {"name": "chat", "tokenizer": get_base_model()}


def get_source(wildcards):
    """A dataset's source; the world's settings only where the data comes from the world."""
    src = dict(SOURCES[wildcards.dataset], role="train" if wildcards.dataset in DATASETS else "benchmark")
    if src["source"] == "builtin":
        world = dict(config["world"])
        if src["split"] != "test_ood":
            # test_ood is drawn after train and test, which do not depend on its size or shift:
            # editing those reruns only test_ood's stages
            del world["ood"], world["n_test_ood"]
        src["world"] = world
    return src


def get_dataset_file(wildcards):
    """A file dataset's path, so that editing the file reruns its load_problems and what follows."""
    src = SOURCES[wildcards.dataset]
    return [src["path"]] if src["source"] == "file" else []


def get_base_model():
    return "results/models/base" if BUILTIN_STUDENT else config["student"]["model"]


def get_base_model_input(wildcards):
    return ["results/models/base"] if BUILTIN_STUDENT else []


def get_train_problems(wildcards=None):
    return expand("results/problems/{dataset}.parquet", dataset=DATASETS)


def get_graded(wildcards=None):
    return expand("results/graded/{dataset}.parquet", dataset=DATASETS)


def get_shards(wildcards):
    return expand(
        "results/samples/{dataset}/{shard}.parquet",
        dataset=wildcards.dataset,
        shard=range(config["sampling"]["shards"]),
    )


def get_truncate_input(wildcards):
    if wildcards.bucket == STUDENT_BUCKET:
        return "results/taxonomy/steps.parquet"
    return f"results/mistakes/{wildcards.bucket}.parquet"


def get_judge_gate(wildcards=None):
    """With judge_bench.gate, the augmentation stages wait for the judge's calibration to pass."""
    return ["results/judge/gate.json"] if config["judge_bench"]["gate"] else []


def get_inject_stats(wildcards):
    # opt-in: weighting by measured stats makes every type depend on the type judge
    return ["results/taxonomy/stats.parquet"] if config["augment"]["weighting"] == "stats" else []


def variant_trajectories(variant):
    v = config["variants"][variant]
    if not v["trajectories"]:
        return []
    buckets = ([STUDENT_BUCKET] if "student" in v["sources"] else []) + (
        AUG_TYPES if "augmented" in v["sources"] else []
    )
    cut = cut_for(v["truncate"])
    return expand(
        "results/trajectories/{cut}/{strategy}/{bucket}.parquet",
        cut=cut,
        strategy=[s for s in v["strategies"] if s in STRATEGIES],
        bucket=buckets,
    )


def get_sft_trajectories(wildcards):
    return variant_trajectories(wildcards.variant)


def get_sft_graded(wildcards):
    """The student's graded samples, for a variant with its own correct samples (RFT)."""
    return get_graded() if config["variants"][wildcards.variant]["student_correct"] else []


def get_sft_external(wildcards):
    """An external SFT file, so editing it rebuilds that variant's set."""
    f = config["variants"][wildcards.variant]["file"]
    return [f] if f else []


def run_training(wildcards):
    """The training settings of one run: the shared ones, with the run's seed."""
    return dict(training_params(), seed=RUNS[wildcards.run][1])


def get_run_sft(wildcards):
    return f"results/sft/{RUNS[wildcards.run][0]}.jsonl"


def get_greedy_evals(wildcards=None):
    return expand("results/eval/{run}/{benchmark}.parquet", run=list(RUNS), benchmark=BENCHMARKS)


def training_protocol():
    """The budget in words, for the scores table: every table says which protocol it used."""
    from lemma.pipeline.training import describe_protocol

    return describe_protocol(config["training"])


def get_sft_labels(wildcards):
    v = config["variants"][wildcards.variant]
    return ["results/taxonomy/labels.parquet"] if v["trajectories"] and "student" in v["sources"] else []


_PROMPT_FINGERPRINTS = {}


def teacher_params(*prompts):
    """What decides a teacher rule's answers. For an LLM teacher that includes the fingerprint of
    each prompt file the rule uses, so editing smooth.md in teacher.prompts_dir reruns smoothing only."""
    from lemma.teacher.factory import answer_keys  # budget, mode, limits: not answers, so no reruns

    p = {"teacher": answer_keys(config["teacher"]), "seed": config["seed"]}
    if config["teacher"]["kind"] == "llm" and prompts:
        if not _PROMPT_FINGERPRINTS:
            from lemma.teacher.prompts import PromptSet

            _PROMPT_FINGERPRINTS.update(PromptSet.load(config["teacher"]["prompts_dir"]).fingerprints())
        p["prompts"] = {name: _PROMPT_FINGERPRINTS[name] for name in prompts}
    return p


def training_params():
    """The `training:` section as the train rule's params, without training.gpu_memory_gb (read only
    by the config check at load: it never changes a trained model, so it must not rerun training)."""
    return {k: v for k, v in config["training"].items() if k != "gpu_memory_gb"}


def grading_params(use):
    """The grader's settings for one use, as params: the timeout and that use's
    `grading.require_marker` ("training" for grade_samples and smooth_and_filter, "evaluation"
    for the benchmarks). Each sees only its own use, so changing evaluation's setting reruns only
    the evaluations. (No "rule" followed by a colon in this text: snakemake --lint reads that as a
    rule in this file.)"""
    g = config["grading"]
    return {"timeout_s": g["timeout_s"], "require_marker": g["require_marker"][use]}


def eval_settings(majority=False):
    """What decides an evaluation's answers: maj_k only for evaluate_majority, so turning maj@k on
    adds those jobs without rerunning the greedy ones."""
    keys = ("max_new_tokens", "batch_size") + (("maj_k",) if majority else ())
    return {k: config["evaluation"][k] for k in keys}


def get_majority_evals(wildcards):
    """maj@k evaluations, only when evaluation.maj_k is set."""
    if not config["evaluation"]["maj_k"]:
        return []
    return expand("results/eval_maj/{run}/{benchmark}.parquet", run=list(RUNS), benchmark=BENCHMARKS)


def mem_mb(base):
    """Memory that grows with each retry, so an out-of-memory kill is followed by a bigger ask."""
    return lambda wildcards, attempt: base * attempt


# --- inputs of the report rules (rules/report.smk) ---


def _used_trajectories():
    """(cut, strategy, bucket) of every trajectory table some variant trains on."""
    used = set()
    for v in VARIANTS:
        for path in variant_trajectories(v):
            cut, strategy, name = Path(path).parts[-3:]
            used.add((cut, strategy, name.removesuffix(".parquet")))
    return used


def _ordered(values, order):
    return [x for x in order if x in values]


REPORT_USED = _used_trajectories()
REPORT_CUTS = _ordered({c for c, _, _ in REPORT_USED}, CUTS)
REPORT_STRATEGIES = _ordered({s for _, s, _ in REPORT_USED}, ALL_STRATEGIES)
REPORT_BUCKETS = _ordered({b for _, _, b in REPORT_USED}, BUCKETS)
# examples come from the truncated trajectories when any variant uses them (the method as published)
EXAMPLE_CUT = REPORT_CUTS[0] if REPORT_CUTS else None


def get_funnel_inputs(wildcards):
    files = set()
    for cut, strategy, bucket in REPORT_USED:
        files.add(f"results/trajectories/{cut}/{strategy}/{bucket}.stats.json")
        files.add(f"results/corrections/{cut}/{strategy}/{bucket}.stats.json")
        files.add(f"results/truncated/{cut}/{bucket}.stats.json")
        if bucket != STUDENT_BUCKET:
            files.add(f"results/mistakes/{bucket}.stats.json")
    return sorted(files)


def get_example_trajectories(wildcards):
    return [
        f"results/trajectories/{EXAMPLE_CUT}/{s}/{wildcards.bucket}.parquet"
        for s in REPORT_STRATEGIES
        if (EXAMPLE_CUT, s, wildcards.bucket) in REPORT_USED
    ]


def report_targets():
    """Every report artefact; rule all asks for them so `snakemake --report` finds them."""
    targets = [
        "results/report/funnel.csv",
        "results/report/funnel.png",
        "results/report/funnel.html",
        "results/report/sft_stats.html",
        "results/report/scores.html",
        "results/report/curves/all_variants.png",
    ]
    targets += expand("results/report/curves/{run}.png", run=list(RUNS))
    targets += ["results/report/mechanism.png", "results/report/mechanism.html", "results/report/paired.html"]
    if config["teacher"]["kind"] == "llm" and REPORT_USED:
        targets.append("results/report/teacher_cost.html")  # rules/report.smk: report_teacher_cost
    if EXAMPLE_CUT:
        targets += expand(
            "results/report/examples/{bucket}.html",
            bucket=[b for b in REPORT_BUCKETS if any((EXAMPLE_CUT, s, b) in REPORT_USED for s in STRATEGIES)],
        )
    return targets


# --- where jobs run: GPUs, nodes, groups, retries ----------------------------------------------
# Portable settings of this workflow's own, for every executor and every profile (a site's generic
# `--profile slurm` included): the cluster specifics (partition, account, GPU model) stay in
# profiles/. Groups are inactive in local runs; retries are applied only off the local machine.

CPUS_PER_GPU = {"vllm": 4, "hf": 4, "train": 8}  # vLLM's tokenizer/scheduler threads; data loading
CLUSTER_RETRIES = 2  # pre-emption, node failure, OOM (mem_mb grows with each attempt)
# How many independent chains of a group one cluster job holds (a user's --group-components wins):
# up to 8 error-type chains (inject -> truncate -> correct -> smooth) and all variants' SFT sets.
GROUP_COMPONENTS = {"augment": 8, "sft": 8}


def engine_gpus(section):
    """GPUs a job asks for when it loads this engine's model itself: vllm its tensor_parallel_size,
    hf one (unless device: cpu, or the built-in tiny student), the API and oracle teachers none."""
    engine = section.get("engine")
    if section.get("kind") == "oracle" or engine == "openai" or section.get("model") == "builtin":
        return 0
    if engine == "vllm":
        return int(section.get("tensor_parallel_size") or 1)
    return 0 if str(section.get("device") or "auto") == "cpu" else 1


STUDENT_GPUS = engine_gpus(config["student"])
# The teacher rules load the teacher model in the job only for kind llm with a local engine; a
# served teacher (engine openai) needs no GPU in the jobs that call it.
TEACHER_GPUS = engine_gpus(config["teacher"]) if config["teacher"]["kind"] == "llm" else 0


def gpu_resources(gpus, kind):
    """gpu=N, and the CPUs each GPU comes with (sbatch --cpus-per-gpu) when there is one."""
    return {"gpu": gpus, "cpus_per_gpu": CPUS_PER_GPU[kind]} if gpus else {"gpu": 0}


def student_resources():
    return gpu_resources(STUDENT_GPUS, config["student"]["engine"])


def teacher_resources():
    return gpu_resources(TEACHER_GPUS, config["teacher"].get("engine", "hf"))


def train_resources():
    """One node: training.gpus GPUs. Several (training.nodes): one task per node, each with
    training.gpus GPUs (--gres is per node, --gpus would be per job), and the script starts the
    node tasks itself with srun (mpi=srun: the SLURM job-step plugin then does not wrap it in one)."""
    gpus, nodes = config["training"]["gpus"], config["training"]["nodes"]
    if nodes == 1:
        return gpu_resources(gpus, "train")
    res = {"nodes": nodes, "tasks": nodes, "mpi": "srun"}
    if gpus:
        # tasks_per_gpu 0: no --ntasks-per-gpu (the SLURM plugin would derive it from tasks)
        res.update(gres=f"gpu:{gpus}", cpus_per_gpu=CPUS_PER_GPU["train"], tasks_per_gpu=0)
    return res


def cpu_group(name):
    """The cluster group of a light rule. Teacher rules that load a model on GPUs are not grouped:
    a group job asks for the GPUs of every chain it runs side by side (8 chains of 2 strategies x
    tensor_parallel_size), each chain loading its own copy of the model; one job each lets every
    job take the first GPUs free. (A served teacher, teacher.serve, loads the model once.)"""
    return None if TEACHER_GPUS and name in ("augment", "judge") else name


workflow.group_settings.group_components = {**GROUP_COMPONENTS, **workflow.group_settings.group_components}


def apply_cluster_retries():
    """Off the local machine, a job that fails is retried CLUSTER_RETRIES times unless the command
    line or a profile set --retries: there a failure is often the node's, not the job's. Locally a
    failure is shown at once. (Called from `onstart`, the first point where the executor is known.)"""
    if workflow.local_exec or workflow.execution_settings.retries:
        return
    for r in workflow.rules:
        if not r.restart_times:
            r.restart_times = CLUSTER_RETRIES


# --- the teacher server the workflow owns (teacher.serve; lemma/serving/) ----------------------

TEACHER_RULES = (
    "locate_errors",
    "classify_errors",
    "inject_errors",
    "locate_and_truncate",
    "correct",
    "smooth_and_filter",
    "judge_bench",
)
_TEACHER_SERVER = []  # the run's TeacherServerOwner, once started


def _plain_resources(mapping):
    """name -> value of Snakemake resources (profile strings are evaluated, as for a rule's job)."""
    plain = {}
    for name, res in dict(mapping or {}).items():
        try:
            if res.is_evaluable():
                res = res.evaluate(wildcards={}, input=[], threads=1, attempt=1, rulename="serve_teacher")
            plain[name] = res.value
        except Exception:  # a resource that needs a real job (input sizes): not for the server
            continue
    return plain


def serve_teacher_resources():
    """The server job's cluster settings: the profile's default-resources, then its set-resources
    for the pseudo-rule serve_teacher (gpu_model, slurm_partition, runtime, mem_mb, ...)."""
    rs = workflow.resource_settings
    return {
        **_plain_resources(rs.default_resources),
        **_plain_resources(rs.overwrite_resources.get("serve_teacher")),
    }


def start_teacher_server():
    """onstart: one server for the run when teacher.serve is set and teacher jobs are to run."""
    from lemma.serving.owner import TeacherServerOwner

    teacher = config["teacher"]
    if teacher["kind"] != "llm" or not teacher.get("serve"):
        return
    jobs = [j for j in workflow.dag.needrun_jobs() if j.rule.name in TEACHER_RULES]
    if not jobs:
        return
    name = workflow.executor_plugin.name if workflow.executor_plugin else "local"
    if not workflow.local_exec and name != "slurm":
        raise WorkflowError(
            f"teacher.serve runs the server on this machine or as a SLURM job, not with executor {name}"
        )
    owner = TeacherServerOwner(
        teacher["serve"],
        teacher["model"],
        outputs=[str(f) for j in jobs for f in j.output],
        where="local" if workflow.local_exec else "slurm",
        resources=serve_teacher_resources(),
    )
    owner.start()
    _TEACHER_SERVER.append(owner)


def stop_teacher_server():
    """onsuccess / onerror: the server is stopped whatever happened to the run."""
    for owner in _TEACHER_SERVER:
        owner.stop()
