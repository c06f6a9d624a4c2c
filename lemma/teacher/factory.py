"""Build the configured teacher, and check the `teacher:` config section before any job starts.

    teacher:
      kind: oracle | llm
      engine: openai | vllm | hf          # llm only
      model: gpt-4o                       # API model name, or a local model directory for vllm/hf
      base_url: https://api.openai.com/v1 # openai engine: any OpenAI-compatible server
      api_key_env: OPENAI_API_KEY         # the NAME of the env variable holding the key; omit for
                                          # a server without auth (a local `vllm serve`)
      max_concurrency: 16
      request_timeout_s: 120
      max_retries: 8
      params: {temperature: 0.7, top_p: 1.0, max_new_tokens: 4096, seed: 0, stop: []}
      prices: {input_per_mtok: 2.5, output_per_mtok: 10.0,   # optional: the cost estimate, the budget
               cached_input_per_mtok: 1.25, batch_discount: 0.5}
      prompts_dir: my-prompts             # optional: a copy of lemma/prompts/ to edit (default: those)
      budget_usd: 500                     # stop before the ledger's total would pass it (needs prices)
      mode: live | batch                  # batch: the OpenAI Batch API (half price, up to 24 h)
      batch: {poll_s: 30, max_wait_s: null, retry: batch, max_rounds: 3, max_lines: 50000}
      requests_per_minute: 500            # provider limits, next to max_concurrency
      tokens_per_minute: 800000
      token_limit_param: auto             # auto | max_tokens | max_completion_tokens
      tokenizer: null                     # a local HF tokenizer dir for counting prompt tokens
      estimate: {...}                     # assumptions of `lemma estimate` (lemma.estimate)

A key written into the config is refused: configs are committed, shared and printed in logs.
The schema (lemma/schemas/config.schema.yaml) checks every key's type and which keys go with which
kind and engine; teacher_problems adds what it cannot say (secret_problems, the prompt files, a
local model directory).

OPERATIONAL_KEYS do not change any answer (how and when requests are sent, how much may be
spent): rules/common.smk keeps them out of the rules' params, so raising the budget or switching
to batch mode never reruns a finished job; the scripts read them from the workflow config
(lemma.pipeline.runner.teacher).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from lemma.engines.base import SamplingParams
from lemma.engines.cache import RequestCache
from lemma.engines.usage import Prices, UsageLog
from lemma.serving.owner import served_url
from lemma.teacher.base import Teacher

KINDS = ("oracle", "llm")
LLM_ENGINES = ("openai", "vllm", "hf")
OPERATIONAL_KEYS = (
    "serve",  # where the model is served, not what it answers (the request cache keys on the model)
    "budget_usd",
    "mode",
    "batch",
    "requests_per_minute",
    "tokens_per_minute",
    "estimate",
    "max_failed_fraction",
)
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
# Paper defaults for teacher sampling (T=0.7, top_p=1.0, up to 4096 tokens).
DEFAULT_PARAMS = {"temperature": 0.7, "top_p": 1.0, "max_new_tokens": 4096}
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


def check_teacher_config(cfg) -> tuple[list[str], list[str]]:
    """(errors, warnings) about one `teacher:` section on its own (build_teacher's check): the
    config schema's teacher node and secret_problems, then (schema passed) teacher_problems, as
    lemma.config.load_workflow_config runs them. Errors read "teacher.key: message"."""
    from lemma.config import section_problems

    errors = [(p.key, p.message) for p in section_problems(cfg, "teacher")] + secret_problems(cfg)
    warnings: list[str] = []
    if not errors:
        errors, warnings = teacher_problems(cfg)
    return [f"{key}: {msg}" for key, msg in errors], warnings


def _params(cfg: Mapping, seed: int) -> SamplingParams:
    merged = {**DEFAULT_PARAMS, **cfg}
    stop = merged.get("stop") or ()
    if isinstance(stop, str):
        stop = (stop,)
    p = SamplingParams(
        temperature=float(merged["temperature"]),
        top_p=float(merged["top_p"]),
        max_new_tokens=int(merged["max_new_tokens"]),
        n=1,
        stop=tuple(stop),
        seed=int(merged.get("seed", seed)),
    )
    if p.temperature < 0 or not 0 < p.top_p <= 1 or p.max_new_tokens < 1:
        raise ValueError(f"expected temperature >= 0, 0 < top_p <= 1, max_new_tokens >= 1; got {dict(cfg)}")
    return p


def job_label(usage_path: str | None, rule: str = "") -> str:
    """The job a paid answer is booked to in the ledger: the usage table's name
    (results/usage/inject_errors-calculation_error.csv -> inject_errors-calculation_error)."""
    if usage_path:
        return os.path.splitext(os.path.basename(str(usage_path)))[0]
    return rule


def answer_keys(teacher_cfg: Mapping) -> dict:
    """The teacher section without OPERATIONAL_KEYS: what decides the answers (rule params)."""
    return {k: v for k, v in teacher_cfg.items() if k not in OPERATIONAL_KEYS}


def build_teacher(
    teacher_cfg: dict, *, cache_path: str | None, usage_path: str | None = None, seed: int = 0, rule: str = ""
) -> Teacher:
    """The teacher a rule uses. kind oracle -> OracleTeacher(seed); kind llm -> LLMTeacher over the
    configured engine, behind the request cache at `cache_path` (None: no cache), writing its
    usage table to `usage_path` (None: log lines only). `seed` seeds the oracle, and is the LLM
    sampling seed unless teacher.params.seed is set. Raises ValueError on a bad section."""
    errors, _ = check_teacher_config(teacher_cfg)
    if errors:
        raise ValueError("invalid teacher config:\n  " + "\n  ".join(errors))
    if teacher_cfg["kind"] == "oracle":
        from lemma.teacher.oracle import OracleTeacher  # lazily: the oracle pulls in the world

        return OracleTeacher(seed)

    from lemma.teacher.llm import LLMTeacher
    from lemma.teacher.prompts import PromptSet

    engine_kind = teacher_cfg.get("engine", "openai")
    model = teacher_cfg["model"]
    prompts = PromptSet.load(teacher_cfg.get("prompts_dir"))
    params = _params(teacher_cfg.get("params") or {}, seed)
    cache = RequestCache(cache_path) if cache_path else None
    if engine_kind == "openai":
        from lemma.engines.openai_engine import OpenAIEngine

        usage = UsageLog(
            usage_path,
            engine=engine_kind,
            model=model,
            rule=rule,
            prices=Prices.from_config(teacher_cfg.get("prices") or None),
        )

        if teacher_cfg.get("serve"):  # the run's own server: wait for its URL (lemma.serving)
            base_url = served_url(timeout_s=teacher_cfg["serve"].get("startup_timeout_s"))
        else:
            base_url = teacher_cfg.get("base_url") or OPENAI_URL
        engine = OpenAIEngine(
            model,
            base_url=base_url,
            api_key_env=teacher_cfg.get("api_key_env"),
            max_concurrency=int(teacher_cfg.get("max_concurrency", 16)),
            request_timeout_s=float(teacher_cfg.get("request_timeout_s", 120)),
            max_retries=int(teacher_cfg.get("max_retries", 8)),
            cache=cache,
            usage=usage,
            prices=usage.prices,
            budget_usd=teacher_cfg.get("budget_usd"),
            requests_per_minute=teacher_cfg.get("requests_per_minute"),
            tokens_per_minute=teacher_cfg.get("tokens_per_minute"),
            token_limit=teacher_cfg.get("token_limit_param", "auto"),
            mode=teacher_cfg.get("mode", "live"),
            batch=teacher_cfg.get("batch"),
            job=job_label(usage_path, rule),
            tokenizer=teacher_cfg.get("tokenizer"),
        )
    else:
        # Local engines (vllm, hf) come from the engine factory; LLMTeacher wraps them in the cache.
        from lemma.engines.factory import build_engine

        local_cfg = {k: v for k, v in teacher_cfg.items() if k in LOCAL_ENGINE_KEYS}
        engine = build_engine({**local_cfg, "engine": engine_kind, "model": model})
    return LLMTeacher(engine, prompts, params, cache)
