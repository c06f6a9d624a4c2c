"""Config and taxonomy validation: errors name the file, the key and what was expected."""

import copy

import pytest
import yaml

from lemma.config import ConfigError, load_taxonomy, load_workflow_config

BASE = yaml.safe_load(open("config/config.yaml"))
# an LLM teacher on a local OpenAI-compatible server (no key needed), for the teacher rules
LLM = {"kind": "llm", "engine": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1"}


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
        (lambda c: c.pop("reflection_phrases"), "reflection_phrases", "required but missing"),
        (lambda c: c["datasets"].update(extra={"source": "builtin"}), "datasets.extra.split", "needs split"),
        (lambda c: c["training"].update(protocol="tokens"), "training.max_tokens", "protocol tokens needs it"),
        (
            lambda c: c["training"].update(global_batch=20),
            "training.global_batch",
            "multiple of training.per_device_batch",
        ),
        (lambda c: c["training"].update(optim=3), "training.optim", "expected string"),
        (lambda c: c["training"].update(learning_rate=1e-5), "training", "unknown key(s): 'learning_rate'"),
        (lambda c: c["student"].update(batch=8), "student", "unknown key(s): 'batch'"),
        (lambda c: c["teacher"].update(temperature=0.7), "teacher", "unknown key(s): 'temperature'"),
        (
            lambda c: c.update(teacher=dict(LLM, tensor_parallel_size=2)),
            "teacher.tensor_parallel_size",
            "a local engine's setting (engine vllm or hf), not engine openai's",
        ),
        (
            lambda c: c.update(teacher=dict(LLM, mode="batch", engine="hf")),
            "teacher.engine",
            "batch needs engine openai",
        ),
        (lambda c: c.update(teacher=dict(LLM, budget_usd=5)), "teacher.prices", "budget_usd needs teacher.prices"),
        (lambda c: c.update(teacher=dict(LLM, params={"temprature": 1})), "teacher.params", "'temprature'"),
        (lambda c: c.update(teacher=dict(LLM, max_concurrency=0)), "teacher.max_concurrency", ">= 1"),
        (lambda c: c.update(teacher={"kind": "llm"}), "teacher.model", "kind llm needs a model"),
        (
            lambda c: c.update(teacher={"kind": "llm", "model": "gpt-4o"}),
            "teacher.api_key_env",
            "the OpenAI API needs a key",
        ),
        (
            lambda c: c["benchmarks"].update(train={"source": "builtin", "split": "test"}),
            "benchmarks.train",
            "also a dataset",
        ),
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
    with pytest.raises(
        ConfigError,
        match=r"config/config.yaml: key 'prompt_template': 'chat' needs a student whose "
        r"tokenizer has a chat template; the built-in student has none",
    ):
        load(cfg)
    plain = build_tiny_llama(tmp_path / "plain")
    cfg["student"]["model"] = str(plain)
    with pytest.raises(ConfigError, match=r"key 'prompt_template': 'chat': the tokenizer in .* has no chat template"):
        load(cfg)
    cfg["student"]["model"] = str(build_tiny_llama(tmp_path / "chat", TINY_CHAT_TEMPLATE))
    assert load(cfg)[0]["prompt_template"] == "chat"


# --- the API-key variable: one definition, the same verdict from config loading and doctor -------

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"


@pytest.mark.parametrize(
    "name, why",
    [
        ("openai_api_key", "expected the NAME of an environment variable"),  # lower case: refused
        ("OPENAI-API-KEY", "expected the NAME of an environment variable"),
        ("1KEY", "expected the NAME of an environment variable"),
        (KEY, "looks like the key itself"),  # the key pasted where its variable's name belongs
    ],
)
def test_a_bad_api_key_env_is_refused_by_config_loading_and_doctor_alike(name, why):
    from lemma.cli.doctor import check_api_key, check_config

    cfg = copy.deepcopy(BASE)
    cfg["teacher"] = dict(LLM, api_key_env=name)
    with pytest.raises(ConfigError) as e:
        load(cfg)
    msg = str(e.value)
    assert "config/config.yaml: key 'teacher.api_key_env'" in msg and why in msg and "value not shown" in msg
    assert name not in msg, "an error message must not repeat what may be the key"
    doctor = check_config(copy.deepcopy(cfg), "config/config.yaml")
    assert doctor[0] == {"level": "FAIL", "name": "config", "detail": msg}
    (api,) = check_api_key(cfg["teacher"], environ={name: "x"})
    assert api["level"] == "FAIL" and why in api["detail"] and name not in api["detail"]


def test_a_valid_api_key_env_passes_and_a_key_elsewhere_in_the_teacher_is_refused():
    cfg = copy.deepcopy(BASE)
    cfg["teacher"] = dict(LLM, api_key_env="MY_PROVIDER_KEY_2")
    load(cfg)
    cfg["teacher"]["params"] = {"stop": [KEY]}
    with pytest.raises(ConfigError) as e:
        load(cfg)
    assert "key 'teacher.params.stop[0]': this value looks like an API key" in str(e.value)
    assert KEY not in str(e.value)


# --- doctor and config loading: the same check ---------------------------------------------------


def _every_config():
    from tests.workflow_helpers import REPO

    return [REPO / "config/config.yaml", *sorted((REPO / "config/examples").glob("*.yaml"))]


@pytest.mark.parametrize("localize", [False, True], ids=["as-committed", "placeholders-filled"])
def test_doctor_and_config_loading_agree_on_every_shipped_config(localize, tmp_path, monkeypatch):
    """`lemma doctor` must find exactly the problems the Snakefile's config load finds: on the
    examples as committed (their /path/to/... placeholders do not exist here) and with local
    files and a tiny model in their place (tests/test_example_configs.py)."""
    from lemma.cli.doctor import check_config
    from tests.test_example_configs import localized
    from tests.tiny_models import TINY_CHAT_TEMPLATE, build_tiny_llama
    from tests.workflow_helpers import REPO

    monkeypatch.chdir(REPO)
    model = build_tiny_llama(tmp_path / "tiny", TINY_CHAT_TEMPLATE) if localize else None
    verdicts = {}
    for path in _every_config():
        raw = localized(path, model) if localize else yaml.safe_load(path.read_text())
        if localize and raw["student"]["engine"] == "vllm" and not _vllm_importable():
            raw["student"]["engine"] = "hf"  # as the dry-run test does: vLLM has an env of its own
        try:
            load_workflow_config(copy.deepcopy(raw), [str(path)], REPO)
            expected = {"level": "ok", "name": "config", "detail": f"{path} is valid"}
        except ConfigError as e:
            expected = {"level": "FAIL", "name": "config", "detail": str(e)}
        assert check_config(copy.deepcopy(raw), str(path))[0] == expected, path.name
        verdicts[path.name] = expected["level"]
    assert verdicts["config.yaml"] == "ok" and verdicts["world-study.yaml"] == "ok"
    if localize:  # filled in, every shipped config is valid
        assert set(verdicts.values()) == {"ok"}, verdicts
    else:  # the real-model examples name /path/to/... files that are not here
        assert verdicts["llama3-8b-gpt4o.yaml"] == "FAIL"


def _vllm_importable() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


# --- checks are pure -----------------------------------------------------------------------------


def test_checks_do_not_change_the_config():
    from lemma.config import (
        check_teacher_config,
        file_checks,
        fill_defaults,
        fill_derived,
        schema_problems,
        semantic_checks,
        training_checks,
    )
    from lemma.teacher.checks import teacher_problems

    cfg = copy.deepcopy(BASE)
    cfg["augment"].pop("types")
    cfg["teacher"] = dict(LLM, api_key_env="sk-abcdefghijklmnopqrstuvwxyz0123")
    fill_defaults(cfg, "config")
    before = copy.deepcopy(cfg)
    names = [t.name for t in load_taxonomy("config/taxonomy.yaml")]
    schema_problems(cfg, "config", "f")
    semantic_checks(cfg, "f", names)
    file_checks(cfg, "f")
    training_checks(cfg, "f")
    teacher_problems(cfg["teacher"])
    check_teacher_config(cfg["teacher"])
    assert cfg == before
    fill_derived(cfg, names)  # the one that derives, named for it
    assert cfg["augment"]["types"][0] == "calculation_error" and len(cfg["augment"]["types"]) == 6
