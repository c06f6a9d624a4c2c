"""The example configs in config/examples/ follow the schema and the taxonomy, and every one of
them runs: the real `snakemake -n --configfile <example>` builds its whole DAG (every example in
the folder, found by glob, so a new example is covered without editing this file)."""

import copy
import importlib.util
import shutil
from pathlib import Path

import pytest
import yaml

from lemma.config import (
    ConfigError,
    check_teacher_config,
    load_taxonomy,
    load_workflow_config,
    load_yaml,
    semantic_checks,
    validate,
)
from tests.tiny_models import TINY_CHAT_TEMPLATE, build_tiny_llama
from tests.workflow_helpers import METHOD_RULES, REPO, planned_jobs

ALL_EXAMPLES = sorted((REPO / "config/examples").glob("*.yaml"))
# real-model examples; world-*.yaml run the built-in world (checked below)
EXAMPLES = [p for p in ALL_EXAMPLES if not p.name.startswith("world-")]
LOADERS = REPO / "tests/data/loaders"
# A small local file in each loader format's public layout (tests/data/loaders), for the examples'
# /path/to/... placeholders.
LOCAL_FILES = {
    "gsm8k": LOADERS / "gsm8k.jsonl",
    "math": LOADERS / "math_tree",
    "math500": LOADERS / "math500.jsonl",
    "asdiv": LOADERS / "asdiv.jsonl",
    "mawps": LOADERS / "mawps.jsonl",
    "svamp": LOADERS / "svamp.json",
    "college_math": LOADERS / "college_math.jsonl",
    "deepmind_mathematics": LOADERS / "deepmind_mathematics.jsonl",
}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_config_is_valid(path):
    cfg = load_yaml(path)
    problems = validate(cfg, "config", str(path))
    assert not problems, [str(p) for p in problems]
    names = [t.name for t in load_taxonomy(cfg["taxonomy"])]
    assert not semantic_checks(cfg, str(path), names)
    errors = check_teacher_config(cfg["teacher"])[0]  # as the workflow checks it
    assert not errors, errors
    assert cfg["prompt_template"] in ("alpaca", "chat") and cfg["teacher"]["kind"] == "llm"
    assert all(src["source"] == "file" for src in {**cfg["datasets"], **cfg["benchmarks"]}.values())


def test_there_are_the_two_documented_examples():
    assert {p.name for p in EXAMPLES} >= {"llama3-8b-gpt4o.yaml", "local-vllm-teacher.yaml"}


def test_world_study_config_is_valid_and_the_default_world():
    path = REPO / "config/examples/world-study.yaml"
    cfg = load_yaml(path)
    assert not validate(cfg, "config", str(path))
    assert not semantic_checks(cfg, str(path), [t.name for t in load_taxonomy(cfg["taxonomy"])])
    default = load_yaml("config/config.yaml")
    validate(default, "config", "config/config.yaml")  # fills in the defaults, as for the study config
    for key in ("world", "pretrain", "sampling", "augment", "reflection_phrases"):
        assert cfg[key] == default[key], key  # the study runs on the default (calibrated) world
    assert len(cfg["seeds"]) >= 3 and {"sft", "rft", "lemma"} <= set(cfg["variants"])


def test_world_ablations_config_is_the_default_plus_the_papers_ablations():
    path = REPO / "config/examples/world-ablations.yaml"
    cfg, default = load_yaml(path), load_yaml("config/config.yaml")
    ablations = {k: v for k, v in cfg["variants"].items() if k not in default["variants"]}
    assert ablations == {
        "no_augment": {"trajectories": True, "sources": ["student"]},
        "no_restart": {"trajectories": True, "strategies": ["fix_continue"]},
        "no_truncate": {"trajectories": True, "truncate": False},
    }
    # the default keeps three models so that it finishes in about 12 minutes; the rest must not drift
    del cfg["variants"], default["variants"]
    assert cfg == default


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    # with a chat template, so an example with prompt_template: chat dry-runs too
    return build_tiny_llama(tmp_path_factory.mktemp("tiny") / "model", TINY_CHAT_TEMPLATE)


def localized(example: Path, model: Path) -> dict:
    """The example with only its placeholders replaced: local files of the same formats, the tiny model."""
    cfg = yaml.safe_load(example.read_text())
    for section in ("datasets", "benchmarks"):
        for src in cfg[section].values():
            if src["source"] == "builtin":
                continue
            assert src["format"] in LOCAL_FILES, f"{example.name}: no local file of format {src['format']!r}"
            src["path"] = str(LOCAL_FILES[src["format"]])
    if cfg["student"].get("model", "builtin") != "builtin":
        cfg["student"]["model"] = str(model)
    return cfg


@pytest.mark.workflow
@pytest.mark.parametrize("example", ALL_EXAMPLES, ids=lambda p: p.name)
def test_every_example_dry_runs_to_its_whole_dag(example, tiny_model, tmp_path):
    wd = tmp_path / "run"
    (wd / "config").mkdir(parents=True)
    for part in ("taxonomy.yaml", "accelerate"):  # what the examples name relative to the run dir
        src = REPO / "config" / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, wd / "config" / part)
    cfg = localized(example, tiny_model)
    copy_path = wd / example.name
    if cfg["student"]["engine"] == "vllm" and importlib.util.find_spec("vllm") is None:
        # vLLM is not installed in this environment (it has an env of its own, envs/vllm.yaml) and
        # the config check refuses an engine that cannot import where jobs run: the one key swapped.
        # The DAG does not depend on the engine.
        cfg["student"]["engine"] = "hf"
    copy_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    args = ["--configfile", str(copy_path)]
    jobs = planned_jobs(wd, *args)
    rules = {rule for rule, _ in jobs}
    assert set(METHOD_RULES) <= rules, set(METHOD_RULES) - rules
    seeds = cfg.get("seeds")
    runs = set(cfg["variants"]) if not seeds else {f"{v}-s{s}" for v in cfg["variants"] for s in seeds}
    assert {w["run"] for r, w in jobs if r == "train"} == runs
    assert {w["benchmark"] for r, w in jobs if r == "evaluate"} == set(cfg["benchmarks"])
    assert {w["dataset"] for r, w in jobs if r == "load_problems"} == set(cfg["datasets"]) | set(cfg["benchmarks"])
    shards = {(w["dataset"], w["shard"]) for r, w in jobs if r == "sample_student"}
    assert len(shards) == len(cfg["datasets"]) * cfg["sampling"]["shards"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_multi_gpu_examples_train_sharded_as_the_paper(example):
    """The paper trained with DeepSpeed ZeRO-2 in bf16: an example on several GPUs must name an
    accelerate config that shards, or an 8B model does not fit."""
    training = yaml.safe_load(example.read_text())["training"]
    if training.get("gpus", 0) <= 1:
        return
    acc = training.get("accelerate_config")
    assert acc, f"{example.name}: training.gpus={training['gpus']} without accelerate_config"
    acc_cfg = yaml.safe_load((REPO / acc).read_text())
    assert acc_cfg["distributed_type"] in ("DEEPSPEED", "FSDP")
    if acc_cfg["distributed_type"] == "DEEPSPEED":
        ds = yaml.safe_load((REPO / acc_cfg["deepspeed_config"]["deepspeed_config_file"]).read_text())
        assert ds["zero_optimization"]["stage"] == 2 and ds["bf16"]["enabled"] in (True, "auto")


def test_plain_data_parallel_of_a_model_too_big_for_a_gpu_is_refused(tiny_model, tmp_path):
    """The check runs on the real tiny model, with a GPU memory small enough that it does not fit
    (the same arithmetic refuses an 8B model on 80 GB: 16 bytes per parameter = 128 GB)."""
    from lemma.config import count_parameters

    n = count_parameters(tiny_model)
    assert n and n > 1000
    example = REPO / "config/examples/llama3-8b-gpt4o.yaml"
    base = localized(example, tiny_model)
    too_small = 16 * n / 1e9 / 2  # GB: half of what plain DDP needs
    base["training"]["gpu_memory_gb"] = too_small
    name = str(example)

    cfg = copy.deepcopy(base)
    cfg["training"]["accelerate_config"] = None
    with pytest.raises(ConfigError) as e:
        load_workflow_config(cfg, [example], REPO, jobs_run_here=False)
    msg = str(e.value)
    assert f"{name}: key 'training.accelerate_config'" in msg and "plain data parallel" in msg
    assert "config/accelerate/zero2.yaml" in msg and "training.gpus=8" in msg

    cfg = copy.deepcopy(base)
    cfg["training"]["accelerate_config"] = "config/accelerate/ddp.yaml"  # MULTI_GPU: replicates too
    with pytest.raises(ConfigError, match="ddp.yaml.*MULTI_GPU"):
        load_workflow_config(cfg, [example], REPO, jobs_run_here=False)

    cfg = copy.deepcopy(base)
    cfg["training"]["accelerate_config"] = "config/accelerate/missing.yaml"
    with pytest.raises(
        ConfigError, match="'training.accelerate_config': 'config/accelerate/missing.yaml' does not exist"
    ):
        load_workflow_config(cfg, [example], REPO, jobs_run_here=False)

    for ok in ("config/accelerate/zero2.yaml", "config/accelerate/fsdp.yaml"):
        cfg = copy.deepcopy(base)
        cfg["training"]["accelerate_config"] = ok
        load_workflow_config(cfg, [example], REPO, jobs_run_here=False)
    cfg = copy.deepcopy(base)  # one GPU: nothing is replicated
    cfg["training"].update(gpus=1, accelerate_config=None)
    load_workflow_config(cfg, [example], REPO, jobs_run_here=False)
    cfg = copy.deepcopy(base)  # enough memory per GPU: plain DDP is fine
    cfg["training"].update(accelerate_config=None, gpu_memory_gb=too_small * 4)
    load_workflow_config(cfg, [example], REPO, jobs_run_here=False)
