"""What a `teacher:` section must not hold or get wrong, checked where the config is loaded
(lemma.config): secrets written into it, a key variable that is not a name, the kind of engine and
what each needs (prompt files, a local model directory, teacher.serve's rules). Imports nothing of
lemma.config, which imports it."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

KINDS = ("oracle", "llm")
LLM_ENGINES = ("openai", "vllm", "hf")
# Passed through to lemma.engines.factory.build_engine when the teacher runs on a local engine.
LOCAL_ENGINE_KEYS = {
    "tensor_parallel_size",
    "gpu_memory_utilization",
    "dtype",
    "max_model_len",
    "batch_size",
    "threads",
    "device",
}
OPENAI_URL = "https://api.openai.com/v1"

# A valid API-key variable name, the one definition (config load and `lemma doctor` both use it):
# the portable shell names, upper-case letters, digits and _, as every provider documents its key
# (OPENAI_API_KEY). Lower case is refused too: it is far likelier a pasted value than a name.
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,63}$")
_SECRET_NAME = re.compile(r"(?:^|_)(?:api_?key|secret|token|password|passwd|authorization|bearer)$", re.I)
_SECRET_VALUE = re.compile(
    r"^(?:sk-[A-Za-z0-9_\-]{12,}|sk_[A-Za-z0-9]{16,}|hf_[A-Za-z0-9]{20,}|(?:Bearer|Basic)\s+\S{8,}|"
    r"gh[pousr]_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}|(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{40,})$"
)
KEY_ADVICE = (
    "put the key in an environment variable and give its NAME in teacher.api_key_env "
    "(e.g. api_key_env: OPENAI_API_KEY, then `export OPENAI_API_KEY=...`)"
)


def _walk(obj, path: str):
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _walk(v, f"{path}[{i}]")
    else:
        yield path, obj


def _is_local(url: str) -> bool:
    return bool(re.match(r"^https?://(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])(?::\d+)?(?:/|$)", url))


def looks_like_secret(value) -> bool:
    """A string shaped like an API key or token (sk-..., hf_..., a long random token)."""
    return isinstance(value, str) and "/" not in value and bool(_SECRET_VALUE.match(value.strip()))


def env_name_problem(value) -> str | None:
    """Why `value` cannot be teacher.api_key_env (None when it can). The value is never echoed:
    it may be the key itself."""
    if isinstance(value, str) and ENV_NAME.match(value):
        return None
    what = (
        "this looks like the key itself, not the name of an environment variable"
        if looks_like_secret(value)
        else (
            "expected the NAME of an environment variable (upper-case letters, digits and _, not starting with a digit)"
        )
    )
    return f"{what} (value not shown: it may be the key itself); {KEY_ADVICE}"


def secret_problems(section, path: str = "teacher") -> list[tuple[str, str]]:
    """(key, message) for every secret written into a config section: a key-like name with a value,
    or a key-like value, anywhere in it (configs are committed, shared and printed in logs); and an
    api_key_env that is not a variable name. Messages never repeat the value."""
    out = []
    for key, value in _walk(section, path):
        leaf = key.rsplit(".", 1)[-1]
        if leaf == "api_key_env":
            if value is not None and (problem := env_name_problem(value)):
                out.append((key, problem))
        elif _SECRET_NAME.search(leaf) and value not in (None, ""):
            out.append((key, f"API keys and tokens must not be written in the config; {KEY_ADVICE}"))
        elif looks_like_secret(value):
            out.append(
                (
                    key,
                    (
                        f"this value looks like an API key or token; keys must not be written in the "
                        f"config; {KEY_ADVICE}"
                    ),
                )
            )
    return out


def teacher_problems(cfg: Mapping) -> tuple[list[tuple[str, str]], list[str]]:
    """The checks of a `teacher:` section a schema cannot make, as ((key, message) errors, warnings):
    a secret written into it, its prompt files, a local engine's model directory. Errors stop the
    workflow at config load; warnings (an API key variable not set in this shell, say) matter only
    when the teacher rules run, possibly elsewhere (a cluster node), so they do not.
    Reads `cfg` only; expects it to have passed the schema (lemma.config). secret_problems is
    separate: it runs whatever the schema found, so a key is refused even in a misspelt key."""
    errors: list[tuple[str, str]] = []
    warnings: list[str] = []
    if cfg.get("kind") != "llm":
        return errors, warnings  # the oracle reads no other key
    from lemma.teacher.prompts import PromptError, PromptSet

    try:
        PromptSet.load(cfg.get("prompts_dir"))  # None: the packaged prompts
    except PromptError as e:
        errors.append(("teacher.prompts_dir", str(e)))
    engine, model, env = cfg.get("engine", "openai"), cfg.get("model"), cfg.get("api_key_env")
    if cfg.get("serve"):
        if engine != "openai":
            errors.append(
                (
                    "teacher.serve",
                    "the workflow serves teacher.model and the jobs reach it through the OpenAI API: set engine: openai",
                )
            )
        if cfg.get("base_url"):
            errors.append(("teacher.base_url", "teacher.serve publishes the server's URL itself: remove base_url"))
        return errors, warnings
    if engine in ("vllm", "hf"):
        from lemma.engines.factory import check_engine_config

        local = {k: v for k, v in cfg.items() if k in LOCAL_ENGINE_KEYS}
        errors += [("teacher", p) for p in check_engine_config({**local, "engine": engine, "model": model})]
    elif env is None:
        url = cfg.get("base_url") or OPENAI_URL
        if not _is_local(url):
            warnings.append(f"teacher.api_key_env is not set: requests to {url} are sent without a key")
    elif ENV_NAME.match(env) and not os.environ.get(env):
        warnings.append(
            f"teacher.api_key_env: the environment variable {env} is not set in this shell; "
            f"the teacher rules will fail unless it is set where they run"
        )
    return errors, warnings
