"""Config and taxonomy validation: errors name the file, the key and what was expected."""

import copy

import pytest
import yaml

from lemma.config import ConfigError, load_taxonomy, load_workflow_config

BASE = yaml.safe_load(open("config/config.yaml"))


def load(cfg):
    return load_workflow_config(copy.deepcopy(cfg), ["config/config.yaml"])


def test_default_config_is_valid_and_gets_defaults():
    cfg, taxonomy = load(BASE)
    assert len(taxonomy) == 12
    assert cfg["variants"]["sft"]["reference"] is True
    assert cfg["variants"]["lemma"]["strategies"] == ["fix_continue", "fresh_restart"]


@pytest.mark.parametrize(
    "edit, key, expected",
    [
        (lambda c: c["sampling"].update(temperature="hot"), "sampling.temperature", "expected number"),
        (lambda c: c["sampling"].update(n=0), "sampling.n", ">= 1"),
        (lambda c: c["teacher"].update(kind="gpt"), "teacher.kind", "expected one of ['oracle', 'llm']"),
        (lambda c: c.update(bogus=1), "(top level)", "'bogus'"),
        (lambda c: c["augment"]["types"].append("typo_error"), "augment.types.6", "not in the taxonomy"),
        (lambda c: c["datasets"].update(extra={"source": "file"}), "datasets.extra.path", "needs it"),
        (lambda c: c["variants"]["sft"].update(reference=False), "variants.sft", "empty SFT set"),
        (lambda c: c.pop("reflection_phrases"), "(top level)", "'reflection_phrases' is required"),
        (lambda c: c["benchmarks"].update(train={"source": "builtin", "split": "test"}), "benchmarks.train", "also a dataset"),
    ],
)
def test_config_errors_name_file_key_and_expectation(edit, key, expected):
    cfg = copy.deepcopy(BASE)
    edit(cfg)
    with pytest.raises(ConfigError) as e:
        load(cfg)
    msg = str(e.value)
    assert "config/config.yaml" in msg and f"key '{key}'" in msg and expected in msg, msg


def test_taxonomy_errors(tmp_path):
    data = yaml.safe_load(open("config/taxonomy.yaml"))
    data["types"][1]["name"] = data["types"][0]["name"]
    data["types"][2]["definition"] = "short"
    p = tmp_path / "taxonomy.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as e:
        load_taxonomy(p)
    assert f"{p}: key 'types.2.definition'" in str(e.value)
    assert "duplicate error type 'calculation_error'" in str(e.value)


def test_taxonomy_codes_stay_strings():
    # YAML reads a bare NO as false: the codes must be quoted
    assert [t.code for t in load_taxonomy("config/taxonomy.yaml")][-1] == "NO"


def test_chat_prompt_template_needs_a_student_tokenizer_with_a_chat_template(tmp_path):
    from tests.tiny_models import TINY_CHAT_TEMPLATE, build_tiny_llama

    cfg = copy.deepcopy(BASE)
    cfg["prompt_template"] = "chat"
    with pytest.raises(ConfigError, match=r"config/config.yaml: key 'prompt_template': 'chat' needs a student whose "
                                          r"tokenizer has a chat template; the built-in student has none"):
        load(cfg)
    plain = build_tiny_llama(tmp_path / "plain")
    cfg["student"]["model"] = str(plain)
    with pytest.raises(ConfigError, match=r"key 'prompt_template': 'chat': the tokenizer in .* has no chat template"):
        load(cfg)
    cfg["student"]["model"] = str(build_tiny_llama(tmp_path / "chat", TINY_CHAT_TEMPLATE))
    assert load(cfg)[0]["prompt_template"] == "chat"
