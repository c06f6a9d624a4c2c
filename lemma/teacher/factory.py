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

OPERATIONAL_KEYS do not change any answer (how and when requests are sent, how much may be
spent): rules/common.smk keeps them out of the rules' params, so raising the budget or switching
to batch mode never reruns a finished job; the scripts read them from the workflow config
(lemma.pipeline.runner.teacher).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from lemma.engines.cache import RequestCache
from lemma.engines.base import SamplingParams
from lemma.teacher.base import Teacher
from lemma.engines.usage import Prices, UsageLog

KINDS = ("oracle", "llm")
LLM_ENGINES = ("openai", "vllm", "hf")
OPERATIONAL_KEYS = ("budget_usd", "mode", "batch", "requests_per_minute", "tokens_per_minute", "estimate",
                    "max_failed_fraction")
KNOWN_KEYS = {"kind", "engine", "model", "base_url", "api_key_env", "max_concurrency", "request_timeout_s",
              "max_retries", "params", "prices", "prompts_dir", "token_limit_param", "tokenizer",
              *OPERATIONAL_KEYS}
# Passed through to lemma.engines.factory.build_engine when the teacher runs on a local engine.
LOCAL_ENGINE_KEYS = {"tensor_parallel_size", "gpu_memory_utilization", "dtype", "max_model_len", "batch_size",
                     "threads", "device"}
PARAM_KEYS = {"temperature", "top_p", "max_new_tokens", "seed", "stop"}
# Paper defaults for teacher sampling (T=0.7, top_p=1.0, up to 4096 tokens).
DEFAULT_PARAMS = {"temperature": 0.7, "top_p": 1.0, "max_new_tokens": 4096}
OPENAI_URL = "https://api.openai.com/v1"

_SECRET_NAME = re.compile(r"(?:^|_)(?:api_?key|secret|token|password|passwd|authorization|bearer)$", re.I)
_SECRET_VALUE = re.compile(
    r"^(?:sk-[A-Za-z0-9_\-]{12,}|sk_[A-Za-z0-9]{16,}|hf_[A-Za-z0-9]{20,}|(?:Bearer|Basic)\s+\S{8,}|"
    r"gh[pousr]_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}|(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{40,})$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEY_ADVICE = ("put the key in an environment variable and give its NAME in teacher.api_key_env "
               "(e.g. api_key_env: OPENAI_API_KEY, then `export OPENAI_API_KEY=...`)")


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


def check_teacher_config(cfg) -> tuple[list[str], list[str]]:
    """(errors, warnings) about a `teacher:` section. Errors stop the workflow at config load;
    warnings (an API key variable not set in this shell, say) matter only when the teacher
    rules run, possibly elsewhere (a cluster node), so they do not."""
    errors: list[str] = []
    warnings: list[str] = []
    if not isinstance(cfg, Mapping):
        return [f"teacher: expected a mapping with at least `kind`, got {type(cfg).__name__}"], []

    # Secrets first, for every kind: a key in a config file is an error even where unused.
    for path, value in _walk(cfg, "teacher"):
        leaf = path.rsplit(".", 1)[-1]
        if leaf == "api_key_env":
            continue
        if _SECRET_NAME.search(leaf) and value not in (None, ""):
            errors.append(f"{path}: API keys and tokens must not be written in the config; {_KEY_ADVICE}")
        elif isinstance(value, str) and _SECRET_VALUE.match(value.strip()) and "/" not in value:
            errors.append(f"{path}: this value looks like an API key or token; keys must not be written "
                          f"in the config; {_KEY_ADVICE}")
    env = cfg.get("api_key_env")
    if env is not None:
        looks_secret = isinstance(env, str) and bool(_SECRET_VALUE.match(env.strip()))
        if looks_secret or not isinstance(env, str) or not _ENV_NAME.match(env):
            # the value is never echoed: it may be the key itself
            errors.append("teacher.api_key_env: " + (
                "this looks like the key itself, not the name of an environment variable; "
                if looks_secret else "expected the name of an environment variable (letters, digits, _); ")
                + _KEY_ADVICE)
            env = None

    kind = cfg.get("kind")
    if kind not in KINDS:
        errors.append(f"teacher.kind: expected one of {list(KINDS)}, got {kind!r}")
        return errors, warnings
    if kind == "oracle":
        return errors, warnings  # the other keys may carry schema defaults; the oracle ignores them

    engine = cfg.get("engine", "openai")
    if engine not in LLM_ENGINES:
        errors.append(f"teacher.engine: expected one of {list(LLM_ENGINES)} for kind llm, got {engine!r}")
    allowed = KNOWN_KEYS | (LOCAL_ENGINE_KEYS if engine in ("vllm", "hf") else set())
    unknown = set(cfg) - allowed
    if unknown:
        errors.append(f"teacher: unknown key(s) {sorted(unknown)}; expected some of {sorted(allowed)}")
    model = cfg.get("model")
    if not isinstance(model, str) or not model.strip():
        errors.append("teacher.model: kind llm needs a model (an API model name such as gpt-4o, or a local "
                      "model directory for engine vllm/hf)")
    for key, kind_ok, text in (("max_concurrency", lambda v: isinstance(v, int) and v >= 1, "an integer >= 1"),
                               ("max_retries", lambda v: isinstance(v, int) and v >= 0, "an integer >= 0"),
                               ("request_timeout_s", lambda v: isinstance(v, (int, float)) and v > 0, "a number > 0")):
        if key in cfg and not (kind_ok(cfg[key]) and not isinstance(cfg[key], bool)):
            errors.append(f"teacher.{key}: expected {text}, got {cfg[key]!r}")
    params = cfg.get("params") or {}
    if not isinstance(params, Mapping):
        errors.append(f"teacher.params: expected a mapping, got {params!r}")
    else:
        bad = set(params) - PARAM_KEYS
        if bad:
            errors.append(f"teacher.params: unknown key(s) {sorted(bad)}; expected some of {sorted(PARAM_KEYS)}")
        try:
            _params(params, 0)
        except (TypeError, ValueError) as e:
            errors.append(f"teacher.params: {e}")
    try:
        prices = Prices.from_config(cfg.get("prices") or None)
    except (TypeError, ValueError) as e:
        errors.append(str(e))
        prices = None
    errors += _check_cost_and_limits(cfg, engine, prices)

    prompts_dir = cfg.get("prompts_dir")  # None: the packaged prompts
    from lemma.teacher.prompts import PromptError, PromptSet

    try:
        PromptSet.load(prompts_dir)
    except PromptError as e:
        errors.append(f"teacher.prompts_dir: {e}")

    if engine in ("vllm", "hf") and isinstance(model, str) and model.strip():
        from lemma.engines.factory import check_engine_config

        local = {k: v for k, v in cfg.items() if k in LOCAL_ENGINE_KEYS}
        errors += [f"teacher: {p}" for p in check_engine_config({**local, "engine": engine, "model": model})]
    if engine == "openai":
        url = cfg.get("base_url") or OPENAI_URL
        if not isinstance(url, str) or not re.match(r"^https?://", url):
            errors.append(f"teacher.base_url: expected an http(s) URL such as {OPENAI_URL}, got {url!r}")
        elif env is None and "api_key_env" not in cfg:
            if "api.openai.com" in url:
                errors.append(f"teacher.api_key_env: the OpenAI API needs a key; {_KEY_ADVICE}")
            elif not _is_local(url):
                warnings.append(f"teacher.api_key_env is not set: requests to {url} are sent without a key")
        if env is not None and not os.environ.get(env):
            warnings.append(f"teacher.api_key_env: the environment variable {env} is not set in this shell; "
                            f"the teacher rules will fail unless it is set where they run")
    return errors, warnings


def _check_cost_and_limits(cfg: Mapping, engine: str, prices: Prices | None) -> list[str]:
    errors = []
    budget = cfg.get("budget_usd")
    if budget is not None:
        if isinstance(budget, bool) or not isinstance(budget, (int, float)) or budget <= 0:
            errors.append(f"teacher.budget_usd: expected a number of US dollars > 0, got {budget!r}")
        elif prices is None or (prices.input_per_mtok == 0 and prices.output_per_mtok == 0):
            errors.append("teacher.budget_usd needs teacher.prices (input_per_mtok, output_per_mtok): the budget "
                          "is counted in dollars from the tokens each answer used")
        elif engine != "openai":
            errors.append("teacher.budget_usd applies to engine openai (a local engine is not paid per token)")
    mode = cfg.get("mode", "live")
    if mode not in ("live", "batch"):
        errors.append(f"teacher.mode: expected live or batch, got {mode!r}")
    elif mode == "batch" and engine != "openai":
        errors.append("teacher.mode: batch needs engine openai (a provider's Batch API)")
    if cfg.get("batch") is not None:
        from lemma.engines.batch import batch_settings

        try:
            batch_settings(cfg["batch"])
        except (TypeError, ValueError) as e:
            errors.append(str(e))
    for key in ("requests_per_minute", "tokens_per_minute"):
        v = cfg.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0):
            errors.append(f"teacher.{key}: expected a number > 0 (or null: no limit), got {v!r}")
    tlp = cfg.get("token_limit_param", "auto")
    if tlp not in ("auto", "max_tokens", "max_completion_tokens"):
        errors.append(f"teacher.token_limit_param: expected auto, max_tokens or max_completion_tokens, got {tlp!r}")
    if cfg.get("estimate") is not None:
        from lemma.estimate import estimate_settings

        try:
            estimate_settings(cfg["estimate"])
        except (TypeError, ValueError) as e:
            errors.append(str(e))
    return errors


def _params(cfg: Mapping, seed: int) -> SamplingParams:
    merged = {**DEFAULT_PARAMS, **cfg}
    stop = merged.get("stop") or ()
    if isinstance(stop, str):
        stop = (stop,)
    p = SamplingParams(temperature=float(merged["temperature"]), top_p=float(merged["top_p"]),
                       max_new_tokens=int(merged["max_new_tokens"]), n=1, stop=tuple(stop),
                       seed=int(merged.get("seed", seed)))
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


def build_teacher(teacher_cfg: dict, *, cache_path: str | None, usage_path: str | None = None, seed: int = 0,
                  rule: str = "") -> Teacher:
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

        usage = UsageLog(usage_path, engine=engine_kind, model=model, rule=rule,
                         prices=Prices.from_config(teacher_cfg.get("prices") or None))

        engine = OpenAIEngine(
            model, base_url=teacher_cfg.get("base_url") or OPENAI_URL, api_key_env=teacher_cfg.get("api_key_env"),
            max_concurrency=int(teacher_cfg.get("max_concurrency", 16)),
            request_timeout_s=float(teacher_cfg.get("request_timeout_s", 120)),
            max_retries=int(teacher_cfg.get("max_retries", 8)), cache=cache, usage=usage,
            prices=usage.prices, budget_usd=teacher_cfg.get("budget_usd"),
            requests_per_minute=teacher_cfg.get("requests_per_minute"),
            tokens_per_minute=teacher_cfg.get("tokens_per_minute"),
            token_limit=teacher_cfg.get("token_limit_param", "auto"), mode=teacher_cfg.get("mode", "live"),
            batch=teacher_cfg.get("batch"), job=job_label(usage_path, rule), tokenizer=teacher_cfg.get("tokenizer"))
    else:
        # Local engines (vllm, hf) come from the engine factory; LLMTeacher wraps them in the cache.
        from lemma.engines.factory import build_engine

        local_cfg = {k: v for k, v in teacher_cfg.items() if k in LOCAL_ENGINE_KEYS}
        engine = build_engine({**local_cfg, "engine": engine_kind, "model": model})
    return LLMTeacher(engine, prompts, params, cache)
