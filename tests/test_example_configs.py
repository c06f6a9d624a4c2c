"""The example configs in config/examples/ follow the schema and the taxonomy."""

from pathlib import Path

import pytest

from lemma.config import load_taxonomy, load_yaml, semantic_checks, validate
from lemma.teacher.factory import check_teacher_config

EXAMPLES = sorted(Path("config/examples").glob("*.yaml"))


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
