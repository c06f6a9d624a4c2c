"""The `openai` engine: any OpenAI-compatible server (OpenAI, `vllm serve`, SGLang, ...).

Why it looks the way it does:
* The client's own retries are off (`max_retries=0`); this module owns the policy so it is
  visible and tested: up to `max_retries` retries on 429, 408/409, 5xx, timeouts, dropped
  connections and malformed bodies, with exponential backoff and jitter, and a server's
  `Retry-After` (or `retry-after-ms`) honoured when it sends one.
* Concurrency is bounded by an asyncio.Semaphore; each attempt has a wall-clock timeout.
* `n` samples of a request are `n` separate API calls, one per sample index (never the API's
  own `n`), each with its own cache entry and its own derived seed, so sample 3 of a request is
  the same cached answer no matter how many samples a later run asks for.
* Every answer goes into the request cache the moment it arrives; a killed job that is rerun
  only sends what has no stored answer.
* One bad request never raises: after its last attempt it becomes
  Completion(text=None, finish_reason="error", error="<code> after <k> attempt(s): <detail>"),
  where <code> is one of timeout, connection, malformed_response, http_<status>,
  content_filter, empty_response, unexpected:<ExceptionName>.
* The API key is read from the environment variable named in the config and only ever given to
  the HTTP client; it is scrubbed from error texts (servers echo masked keys back on 401).
* Provider limits (lemma.engines.ratelimit): requests and tokens per minute, and the server's
  `x-ratelimit-*` headers, pace the sends; the completion limit is sent as `max_tokens` or
  `max_completion_tokens` depending on the model (`token_limit_param`).
* Cost: each answer is priced when it arrives (prompt tokens the provider served from its cache at
  `cached_input_per_mtok`), and that cost goes into the request cache's ledger with the answer.
* Budget: with `budget_usd`, a request is sent only after its worst-case cost (its counted prompt
  tokens plus the full completion limit) is reserved in the cache's ledger without passing the
  budget; the first request that does not fit stops all sending, the answers already in are kept,
  and `generate` raises BudgetExceeded saying what was spent and what is left.
* mode "batch" sends the requests through the OpenAI Batch API instead (lemma.engines.batch).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import re
import time
from collections.abc import Mapping

import openai

from lemma.engines.answers import Failure, MalformedResponse, check_answer, completion_from, run_coroutine
from lemma.engines.base import Completion, Engine, Request
from lemma.engines.batch import BatchRunner
from lemma.engines.cache import RequestCache, cache_key, key_material
from lemma.engines.ratelimit import RateLimiter
from lemma.engines.usage import BatchUsage, Prices, UsageLog

log = logging.getLogger("lemma.engines.openai")

RETRYABLE_STATUS = frozenset({408, 409, 429}) | frozenset(range(500, 600))
_KEYLIKE = re.compile(r"sk-[A-Za-z0-9_\-*]{6,}")


class MissingAPIKey(RuntimeError):
    pass


class BudgetExceeded(RuntimeError):
    """The next request would pass teacher.budget_usd; nothing more was sent."""


BUDGET_CODE = "budget_exceeded"
TOKEN_LIMIT_PARAMS = ("auto", "max_tokens", "max_completion_tokens")
# OpenAI's reasoning models (o1, o3, o4-mini, ...) and the gpt-5 family refuse `max_tokens`.
_COMPLETION_TOKENS_MODELS = re.compile(r"^(?:openai/)?(?:o\d|gpt-5)", re.I)


def token_limit_param(model: str, configured: str = "auto") -> str:
    """The request field that carries the completion limit. `auto`: `max_completion_tokens` for
    OpenAI o-series and gpt-5 models, which reject `max_tokens`; `max_tokens` for every other model,
    which every OpenAI-compatible server (vLLM, SGLang, TGI, Together, Groq, ...) accepts."""
    if configured not in TOKEN_LIMIT_PARAMS:
        raise ValueError(f"token_limit_param: expected one of {TOKEN_LIMIT_PARAMS}, got {configured!r}")
    if configured != "auto":
        return configured
    return "max_completion_tokens" if _COMPLETION_TOKENS_MODELS.match(model) else "max_tokens"


def sample_seed(seed: int, sample_index: int) -> int:
    """The seed sent for one sample: distinct per sample index (a server honouring seeds would
    otherwise return the same text for every sample), and equal to `seed` for sample 0."""
    return (seed + 7919 * sample_index) % (2**31)


def parse_retry_after(headers) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date), else None."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        import email.utils

        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return max(0.0, email.utils.mktime_tz(parsed) - time.time())


class OpenAIEngine(Engine):
    name = "openai"
    caches_requests = True  # the teacher must not wrap it in lemma.engines.cache.CachedEngine

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key_env: str | None = "OPENAI_API_KEY",
        *,
        max_concurrency: int = 16,
        request_timeout_s: float = 120.0,
        max_retries: int = 8,
        cache: RequestCache | None = None,
        usage: UsageLog | None = None,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        retry_after_max_s: float = 600.0,
        prices: Prices | None = None,
        budget_usd: float | None = None,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        token_limit: str = "auto",
        mode: str = "live",
        batch: dict | None = None,
        job: str = "",
        tokenizer: str | None = None,
    ):
        if isinstance(model, Mapping):
            # lemma.engines.factory.build_engine passes its whole config block
            cfg = model
            model = cfg["model"]
            base_url = cfg.get("base_url", base_url)
            api_key_env = cfg.get("api_key_env")  # absent: a server without auth
            max_concurrency = int(cfg.get("max_concurrency", max_concurrency))
            request_timeout_s = float(cfg.get("request_timeout_s", request_timeout_s))
            max_retries = int(cfg.get("max_retries", max_retries))
        if max_concurrency < 1 or max_retries < 0 or request_timeout_s <= 0:
            raise ValueError("openai engine: max_concurrency >= 1, max_retries >= 0 and request_timeout_s > 0 required")
        self.model = model
        self.base_url = base_url
        self.max_concurrency = max_concurrency
        self.request_timeout_s = float(request_timeout_s)
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.retry_after_max_s = retry_after_max_s
        self.cache = cache
        self.usage = usage or UsageLog(None, engine=self.name, model=model, prices=prices)
        self.prices = prices if prices is not None else self.usage.prices
        if budget_usd is not None and (self.prices is None or cache is None):
            raise ValueError(
                "openai engine: budget_usd needs prices (teacher.prices) and the request cache, "
                "whose ledger is the running total"
            )
        if mode not in ("live", "batch"):
            raise ValueError(f"openai engine: mode must be live or batch, got {mode!r}")
        if mode == "batch" and cache is None:
            raise ValueError("openai engine: batch mode needs the request cache (it records each batch there)")
        self.budget_usd = budget_usd
        self.requests_per_minute, self.tokens_per_minute = requests_per_minute, tokens_per_minute
        self.token_param = token_limit_param(model, token_limit)
        self.mode = mode
        self.batch_cfg = dict(batch or {})
        self.job = job
        self.tokenizer = tokenizer
        self.last_batch: BatchUsage | None = None
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                raise MissingAPIKey(
                    f"teacher.api_key_env names {api_key_env!r}, but that environment variable is not set; "
                    f"export {api_key_env}=... before running the teacher rules"
                )
        else:
            key = "EMPTY"  # servers without auth (a local `vllm serve`) still need a non-empty value
        self.__api_key = key  # name-mangled, never logged, never cached

    def __repr__(self) -> str:  # no key in reprs or tracebacks
        return f"OpenAIEngine(model={self.model!r}, base_url={self.base_url!r})"

    # -- public --------------------------------------------------------------------------------
    def generate(self, requests: list[Request], progress: str | None = None) -> list[list[Completion]]:
        batch = BatchUsage(stage=progress or "")
        out: list[list[Completion | None]] = [[None] * r.params.n for r in requests]
        todo: list[tuple[int, int, str, dict]] = []
        for i, req in enumerate(requests):
            for s in range(req.params.n):
                batch.requests += 1
                key = cache_key(self.name, self.model, req, s)
                hit = self.cache.get(key) if self.cache is not None else None
                if hit is not None:
                    batch.cache_hits += 1
                    out[i][s] = hit
                else:
                    todo.append((i, s, key, key_material(self.name, self.model, req, s)))
        try:
            if todo:
                if self.mode == "batch":
                    answers = BatchRunner(self, self.__api_key).run(requests, todo, batch, progress or "")
                else:
                    answers = run_coroutine(self._run_all(requests, todo, batch, progress))
                for (i, s, _, _), comp in zip(todo, answers):
                    out[i][s] = comp
        finally:
            self.last_batch = batch
            self.usage.record(batch)
        refused = [t for t, c in zip(todo, answers) if c.error and c.error.startswith(BUDGET_CODE)] if todo else []
        if refused:
            raise BudgetExceeded(self.budget_message(requests, refused))
        return out  # type: ignore[return-value]

    # -- cost, budget --------------------------------------------------------------------------
    def counter(self):
        from lemma.text.tokens import token_counter

        return token_counter(self.model, "openai", self.tokenizer)

    def prompt_tokens(self, req: Request) -> int:
        c = self.counter()
        n = c.count(messages=req.messages) if req.messages is not None else c.count(prompt=req.prompt)
        # an approximate count gets a margin, so that the worst case stays a worst case
        return n if c.exact else int(n * 1.25) + 16

    def cost(self, comp: Completion, batch: bool = False) -> float:
        if self.prices is None:
            return 0.0
        return self.prices.cost(comp.prompt_tokens, comp.completion_tokens, comp.cached_tokens, batch=batch)

    def worst_case(self, req: Request, batch: bool = False) -> float:
        """The most one sample of `req` can cost: its whole prompt at the full input price and the
        full completion limit."""
        if self.prices is None:
            return 0.0
        return self.prices.cost(self.prompt_tokens(req), req.params.max_new_tokens, 0, batch=batch)

    def reserve(self, req: Request, batch: bool = False) -> tuple[bool, int | None]:
        """(allowed, reservation id) for one sample about to be sent."""
        if self.budget_usd is None:
            return True, None
        rid = self.cache.reserve(self.worst_case(req, batch), self.budget_usd)
        return rid is not None, rid

    def refused(self) -> Completion:
        return Completion(
            text=None,
            finish_reason="error",
            error=f"{BUDGET_CODE}: not sent, it could pass teacher.budget_usd={self.budget_usd:g}",
        )

    def budget_message(self, requests: list[Request], refused: list[tuple]) -> str:
        spent = self.cache.spent_usd()
        expected = 0.0
        for i, _, _, _ in refused:
            expected += self.worst_case(requests[i], batch=self.mode == "batch")
        return (
            f"teacher budget reached: ${spent:.4f} spent of teacher.budget_usd=${self.budget_usd:g} "
            f"(the request cache's ledger {self.cache.path}, over every job and rerun); "
            f"{len(refused)} request(s) of this job ({self.job or 'this job'}) were not sent, "
            f"at most ${expected:.4f} more at the configured prices. Answers already paid are kept. "
            f"To go on, raise teacher.budget_usd in your config file (for example to "
            f"{max(self.budget_usd * 2, spent + expected):.2f}) and rerun the same command: nothing "
            f"answered is paid again. `lemma estimate --configfile ...` shows what the rest costs."
        )

    # -- async core ----------------------------------------------------------------------------
    async def _run_all(self, requests, todo, batch: BatchUsage, progress) -> list[Completion]:
        sem = asyncio.Semaphore(self.max_concurrency)
        limiter = RateLimiter(self.requests_per_minute, self.tokens_per_minute)
        self._stopped = False
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc=progress, leave=False, disable=None)  # None: no bar unless a terminal
        async with openai.AsyncOpenAI(
            api_key=self.__api_key, base_url=self.base_url, max_retries=0, timeout=self.request_timeout_s
        ) as client:

            async def one(i, s, key, material):
                comp, rid = await self._one(client, sem, limiter, requests[i], s, batch)
                if comp.text is not None and self.cache is not None:
                    cost = self.cost(comp)
                    batch.cost_usd += cost
                    # stored now, not at the end of the batch, with its line in the ledger
                    self.cache.put(
                        key, material, comp, cost_usd=cost, mode="live", job=self.job, stage=progress or "", release=rid
                    )
                elif rid is not None:
                    self.cache.release(rid)
                if bar is not None:
                    bar.update(1)
                return comp

            try:
                return await asyncio.gather(*(one(*t) for t in todo))
            finally:
                if bar is not None:
                    bar.close()

    async def _one(self, client, sem, limiter, req: Request, s: int, batch: BatchUsage):
        attempts = 0
        rid = None
        while True:
            attempts += 1
            async with sem:
                if attempts == 1:
                    # reserved once in flight, not when queued, so the held amounts are those of
                    # requests really on their way; once one does not fit, nothing more is sent
                    ok, rid = (False, None) if self._stopped else self.reserve(req)
                    if not ok:
                        self._stopped = True
                        batch.failed += 1
                        batch.errors[BUDGET_CODE] = batch.errors.get(BUDGET_CODE, 0) + 1
                        return self.refused(), None
                # always: the server's x-ratelimit-* headers may pause sending without configured limits
                tokens = self.prompt_tokens(req) + req.params.max_new_tokens if self.tokens_per_minute else 0
                await limiter.acquire(tokens)
                try:
                    comp = await asyncio.wait_for(self._call(client, limiter, req, s), timeout=self.request_timeout_s)
                    failure = check_answer(comp)
                except (TimeoutError, openai.APITimeoutError):
                    failure = Failure("timeout", f"no answer within {self.request_timeout_s:g}s", True)
                except openai.APIConnectionError as e:
                    failure = Failure("connection", str(e), True)
                except openai.APIStatusError as e:
                    headers = getattr(e.response, "headers", None)
                    limiter.observe(headers)
                    failure = Failure(
                        f"http_{e.status_code}",
                        _detail(e),
                        e.status_code in RETRYABLE_STATUS,
                        parse_retry_after(headers),
                    )
                except (json.JSONDecodeError, openai.APIResponseValidationError, MalformedResponse) as e:
                    failure = Failure("malformed_response", str(e), True)
                except Exception as e:  # one request's surprise must not sink the batch
                    failure = Failure(f"unexpected:{type(e).__name__}", str(e), False)
            if failure is None:
                batch.live_calls += 1
                batch.prompt_tokens += comp.prompt_tokens
                batch.completion_tokens += comp.completion_tokens
                batch.cached_tokens += comp.cached_tokens
                return comp, rid
            if not failure.retryable or attempts > self.max_retries:
                code = failure.code
                batch.failed += 1
                batch.errors[code] = batch.errors.get(code, 0) + 1
                detail = self._scrub(failure.detail)[:300]
                log.warning("request failed for good: %s after %d attempt(s): %s", code, attempts, detail)
                return Completion(
                    text=None, finish_reason="error", error=f"{code} after {attempts} attempt(s): {detail}"
                ), rid
            batch.retries += 1
            delay = self._delay(attempts, failure.retry_after)
            log.info("retry %d/%d after %s in %.2fs", attempts, self.max_retries, failure.code, delay)
            await asyncio.sleep(delay)

    def _delay(self, attempts: int, retry_after: float | None) -> float:
        if retry_after is not None:
            # The server said when; a little jitter keeps many waiting requests from returning
            # in the same instant.
            return min(retry_after, self.retry_after_max_s) * (1.0 + 0.1 * random.random())
        cap = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempts - 1))
        return cap * (0.5 + 0.5 * random.random())

    def body(self, req: Request, s: int) -> dict:
        """The request body of one sample (also a batch input line's `body`)."""
        p = req.params
        body = dict(model=self.model, temperature=p.temperature, top_p=p.top_p, seed=sample_seed(p.seed, s))
        body[self.token_param] = p.max_new_tokens
        if p.stop:
            body["stop"] = list(p.stop)
        if req.messages is not None:
            body["messages"] = [dict(m) for m in req.messages]
        else:
            body["prompt"] = req.prompt
        return body

    async def _call(self, client, limiter, req: Request, s: int) -> Completion:
        body = self.body(req, s)
        if req.messages is not None:
            raw = await client.chat.completions.with_raw_response.create(**body, timeout=self.request_timeout_s)
        else:
            raw = await client.completions.with_raw_response.create(**body, timeout=self.request_timeout_s)
        limiter.observe(raw.headers)
        return completion_from(raw.parse(), chat=req.messages is not None)

    def _scrub(self, text: str) -> str:
        if self.__api_key and self.__api_key != "EMPTY":
            text = text.replace(self.__api_key, "[api key]")
        return _KEYLIKE.sub("[api key]", text)


def _detail(e: openai.APIStatusError) -> str:
    body = getattr(e, "body", None)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return str(e)
