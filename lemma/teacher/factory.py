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
      estimate: {...}                     # assumptions of `lemma estimate` (lemma.cost.estimate)

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
from collections.abc import Mapping

from lemma.engines.base import SamplingParams
from lemma.engines.cache import RequestCache
from lemma.engines.usage import Prices, UsageLog
from lemma.serving.owner import served_url
from lemma.teacher.base import Teacher
from lemma.teacher.checks import LOCAL_ENGINE_KEYS, OPENAI_URL

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
# Paper defaults for teacher sampling (T=0.7, top_p=1.0, up to 4096 tokens).
DEFAULT_PARAMS = {"temperature": 0.7, "top_p": 1.0, "max_new_tokens": 4096}


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
    return LLMTeacher(engine, prompts, params, cache, teacher_cfg.get("prompt_form", "chat"))
