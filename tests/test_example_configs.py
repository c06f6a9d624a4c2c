"""The example configs in config/examples/ follow the schema and the taxonomy."""

from pathlib import Path

import pytest

from lemma.config import load_taxonomy, load_yaml, semantic_checks, validate
from lemma.teacher.factory import check_teacher_config

# real-model examples; world-study*.yaml run the built-in world (checked below)
EXAMPLES = sorted(p for p in Path("config/examples").glob("*.yaml") if not p.name.startswith("world-study"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_config_is_valid(path):
    cfg = load_yaml(path)
    problems = validate(cfg, "config", str(path))
    assert not problems, [str(p) for p in problems]
    names = [t.name for t in load_taxonomy(cfg["taxonomy"])]
    assert not semantic_checks(cfg, str(path), names)
    errors = check_teacher_config(cfg["teacher"])[0]
    assert not errors, errors
    assert cfg["prompt_template"] == "alpaca" and cfg["teacher"]["kind"] == "llm"
    assert all(src["source"] == "file" for src in {**cfg["datasets"], **cfg["benchmarks"]}.values())


def test_there_are_the_two_documented_examples():
    assert {p.name for p in EXAMPLES} >= {"llama3-8b-gpt4o.yaml", "local-vllm-teacher.yaml"}


def test_world_study_config_is_valid_and_the_default_world():
    path = Path("config/examples/world-study.yaml")
    cfg = load_yaml(path)
    assert not validate(cfg, "config", str(path))
    assert not semantic_checks(cfg, str(path), [t.name for t in load_taxonomy(cfg["taxonomy"])])
    default = load_yaml("config/config.yaml")
    validate(default, "config", "config/config.yaml")  # fills in the defaults, as for the study config
    for key in ("world", "pretrain", "sampling", "augment", "reflection_phrases"):
        assert cfg[key] == default[key], key  # the study runs on the default (calibrated) world
    assert len(cfg["seeds"]) >= 3 and {"sft", "rft", "lemma"} <= set(cfg["variants"])
