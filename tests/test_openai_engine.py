"""The openai engine against a real HTTP server on 127.0.0.1 (tests/fake_openai_server.py)."""

from __future__ import annotations

import csv
import logging
import time

import pytest

from lemma.engines.base import Request, SamplingParams
from lemma.engines.cache import RequestCache
from lemma.engines.openai_engine import MissingAPIKey, OpenAIEngine, parse_retry_after, sample_seed
from lemma.engines.usage import Prices, UsageLog
from tests.fake_openai_server import FakeOpenAIServer

KEY_ENV = "LEMMA_TEST_OPENAI_KEY"


@pytest.fixture
def server():
    with FakeOpenAIServer() as s:
        yield s


@pytest.fixture(autouse=True)
def fake_key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "test-key-not-secret")


def engine_for(server, tmp_path=None, **kw):
    kw.setdefault("backoff_base_s", 0.01)
    kw.setdefault("backoff_max_s", 0.05)
    kw.setdefault("request_timeout_s", 2.0)
    kw.setdefault("max_retries", 4)
    return OpenAIEngine("fake-model", base_url=server.base_url, api_key_env=KEY_ENV, **kw)


def chat(text: str, n: int = 1, **params) -> Request:
    return Request(messages=({"role": "user", "content": text},), params=SamplingParams(n=n, **params))


def test_answers_every_sample_as_its_own_request_and_caches_them(server, tmp_path):
    cache = RequestCache(tmp_path / "cache.sqlite")
    usage = UsageLog(tmp_path / "usage.csv", engine="openai", model="fake-model", rule="unit", prices=Prices(2.5, 10.0))
    eng = engine_for(server, cache=cache, usage=usage, max_concurrency=3)
    reqs = [chat(f"item {i}", n=2) for i in range(5)] + [Request(prompt="raw prompt 1")]
    out = eng.generate(reqs, progress=None)

    assert [len(c) for c in out] == [2, 2, 2, 2, 2, 1]
    assert out[0][0].text == "echo: item 0" and out[4][1].text == "echo: item 4"
    assert out[5][0].text == "echo: raw prompt 1"  # the /v1/completions route
    assert all(c.prompt_tokens > 0 and c.completion_tokens > 0 for cs in out for c in cs)
    # n=2 is two calls with different seeds, not the API's `n`
    assert len(server.hits("ok")) == 11 and len({h.content for h in server.hits()}) == 11
    assert eng.last_batch.live_calls == 11 and eng.last_batch.cache_hits == 0
    assert server.max_in_flight <= 3

    again = eng.generate(reqs)
    assert [[c.text for c in cs] for cs in again] == [[c.text for c in cs] for cs in out]
    assert len(server.hits()) == 11, "a cached request was sent again"
    assert eng.last_batch.cache_hits == 11 and cache.hits == 11 and cache.misses == 11

    # asking for more samples later sends only the new sample indices
    eng.generate([chat("item 0", n=3)])
    assert len(server.hits()) == 12 and eng.last_batch.cache_hits == 2

    rows = list(csv.DictReader(open(tmp_path / "usage.csv")))
    assert [int(r["live_calls"]) for r in rows] == [11, 0, 1]
    assert [int(r["cache_hits"]) for r in rows] == [0, 11, 2]
    assert float(rows[0]["est_cost_usd"]) > 0 and float(rows[1]["est_cost_usd"]) == 0


def test_retries_429_500_timeouts_malformed_and_dropped_connections(server):
    server.add_fault("429", match="rate-limited", times=2, retry_after=0.5)
    server.add_fault("500", match="flaky", times=2)
    server.add_fault("slow", match="sluggish", times=1, delay=1.5)
    server.add_fault("malformed", match="garbled", times=1)
    server.add_fault("drop", match="hangup", times=2)
    eng = engine_for(server, request_timeout_s=0.5, max_concurrency=8)
    names = ["rate-limited", "flaky", "sluggish", "garbled", "hangup", "calm"]
    out = eng.generate([chat(n) for n in names])

    assert [cs[0].text for cs in out] == [f"echo: {n}" for n in names]
    assert eng.last_batch.retries == 2 + 2 + 1 + 1 + 2
    assert eng.last_batch.failed == 0
    limited = [h.time for h in server.hits() if h.text == "rate-limited"]
    assert len(limited) == 3
    # Retry-After: 0.5 honoured (loosely: the backoff alone would wait at most 0.05 s)
    assert limited[1] - limited[0] >= 0.4 and limited[2] - limited[1] >= 0.4


def test_a_request_that_keeps_failing_becomes_an_error_not_an_exception(server, tmp_path):
    server.add_fault("500", match="doomed", times=100)
    server.add_fault("drop", match="gone", times=100)
    cache = RequestCache(tmp_path / "cache.sqlite")
    eng = engine_for(server, cache=cache, max_retries=2)
    out = eng.generate([chat("doomed"), chat("fine"), chat("gone")])

    assert out[1][0].text == "echo: fine"
    assert out[0][0].text is None and out[0][0].error.startswith("http_500 after 3 attempt(s)")
    assert out[2][0].text is None and out[2][0].error.startswith("connection after 3 attempt(s)")
    assert out[0][0].finish_reason == "error"
    assert eng.last_batch.failed == 2 and eng.last_batch.errors == {"http_500": 1, "connection": 1}
    assert len(cache) == 1, "a failure must not be cached: a rerun asks again"


def test_sampling_params_reach_the_server(tmp_path):
    seen = []

    def responder(body):
        seen.append(body)
        return "ok"

    with FakeOpenAIServer(responder=responder) as s:
        eng = engine_for(s)
        eng.generate([chat("x", n=2, temperature=0.3, top_p=0.9, max_new_tokens=77, stop=("END",), seed=5)])
    seen.sort(key=lambda b: b["seed"])
    assert [b["seed"] for b in seen] == [sample_seed(5, 0), sample_seed(5, 1)] and sample_seed(5, 0) == 5
    assert {(b["temperature"], b["top_p"], b["max_tokens"], tuple(b["stop"]), b["model"]) for b in seen} == {
        (0.3, 0.9, 77, ("END",), "fake-model")
    }
    assert all("n" not in b for b in seen)


def test_missing_key_is_a_clear_error(monkeypatch, server):
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(MissingAPIKey, match=KEY_ENV):
        engine_for(server)
    # a server without auth (local vllm serve): no env variable at all
    eng = OpenAIEngine("m", base_url=server.base_url, api_key_env=None)
    assert eng.generate([chat("hi")])[0][0].text == "echo: hi"
    assert server.auth_headers[-1] == "Bearer EMPTY"


def test_api_key_value_appears_nowhere_on_disk(monkeypatch, server, tmp_path):
    secret = "sk-lemmaTEST-9f3b2c7d1e0a4b5c6d7e8f9a"
    monkeypatch.setenv(KEY_ENV, secret)
    log_file = tmp_path / "rule.log"
    handler = logging.FileHandler(log_file)
    root = logging.getLogger("lemma")
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        server.add_fault("500", match="fails", times=100)
        server.add_fault("429", match="limited", times=1, retry_after=0.05)
        cache = RequestCache(tmp_path / "cache.sqlite")
        usage = UsageLog(tmp_path / "usage.csv", engine="openai", model="fake-model", rule="keytest")
        eng = engine_for(server, cache=cache, usage=usage, max_retries=1)
        out = eng.generate([chat("hello"), chat("fails"), chat("limited")])
        assert "sk-lemma" not in repr(eng) and secret not in str(out)
        cache.close()
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(old_level)

    assert f"Bearer {secret}" in server.auth_headers, "the key must have been used, or this test proves nothing"
    files = [p for p in tmp_path.iterdir() if p.is_file()]
    assert {"cache.sqlite", "usage.csv", "rule.log"} <= {p.name for p in files}
    assert log_file.stat().st_size > 0
    for p in files:
        assert secret.encode() not in p.read_bytes(), f"API key found in {p.name}"


def test_parse_retry_after_forms():
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({}) is None
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= parse_retry_after({"retry-after": date}) <= 31
    assert parse_retry_after({"retry-after": "soon"}) is None


def test_built_by_the_engine_factory_and_callable_inside_an_event_loop(server):
    import asyncio

    from lemma.engines.factory import build_engine

    eng = build_engine({"engine": "openai", "model": "fake-model", "base_url": server.base_url, "max_concurrency": 2})
    assert eng.max_concurrency == 2 and eng.model == "fake-model"

    async def inside_a_notebook():
        return eng.generate([chat("from a loop")])

    assert asyncio.run(inside_a_notebook())[0][0].text == "echo: from a loop"


# -- budget, provider limits, cached tokens, the completion-limit field -----------------------------


def test_the_budget_stops_before_the_call_that_could_pass_it_and_a_rerun_pays_nothing_twice(server, tmp_path):
    from lemma.engines.openai_engine import BudgetExceeded

    cache = RequestCache(tmp_path / "cache.sqlite")
    prices = Prices(2.5, 10.0)
    reqs = [chat(f"item {i} " + "word " * (i % 5), max_new_tokens=64) for i in range(30)]
    eng = engine_for(server, cache=cache, prices=prices, max_concurrency=1)
    eng.budget_usd = 2 * eng.worst_case(reqs[0])
    with pytest.raises(BudgetExceeded) as e:
        eng.generate(reqs)
    msg = str(e.value)
    assert "spent" in msg and "teacher.budget_usd" in msg and "raise" in msg and "not sent" in msg

    ledger = cache.ledger()
    sent = len(ledger)
    assert 2 <= sent < len(reqs), sent
    assert len(server.hits()) == sent  # nothing sent beyond what the ledger holds
    # the right call: every sent one fitted its worst case, the first unsent one did not
    spent = 0.0
    for i, row in enumerate(ledger):
        assert spent + eng.worst_case(reqs[i]) <= eng.budget_usd + 1e-12
        assert row["cost_usd"] == pytest.approx(prices.cost(row["prompt_tokens"], row["completion_tokens"]))
        spent += row["cost_usd"]
    assert spent + eng.worst_case(reqs[sent]) > eng.budget_usd
    assert cache.spent_usd() == pytest.approx(spent) and cache.spent_usd() <= eng.budget_usd
    assert cache.reserved_usd() == 0  # nothing left held
    assert eng.last_batch.errors == {"budget_exceeded": len(reqs) - sent}

    # a rerun with a higher budget finishes, and no request is paid twice
    eng2 = engine_for(server, cache=cache, prices=prices, max_concurrency=4)
    eng2.budget_usd = 1.0
    out = eng2.generate(reqs)
    assert all(cs[0].text for cs in out)
    assert len(server.hits()) == len(reqs) and len({h.content for h in server.hits()}) == len(reqs)
    assert cache.paid_twice() == [] and len(cache.ledger()) == len(reqs)


def test_the_budget_is_shared_by_jobs_through_the_ledger(server, tmp_path):
    """A second job (another engine on the same cache file) sees what the first one paid."""
    from lemma.engines.openai_engine import BudgetExceeded

    prices = Prices(2.5, 10.0)
    first = engine_for(server, cache=RequestCache(tmp_path / "c.sqlite"), prices=prices, max_concurrency=2)
    first.budget_usd = 10.0
    first.generate([chat(f"a{i}", max_new_tokens=64) for i in range(5)])
    paid = first.cache.spent_usd()
    second = engine_for(server, cache=RequestCache(tmp_path / "c.sqlite"), prices=prices)
    second.budget_usd = paid + 0.5 * second.worst_case(chat("b0", max_new_tokens=64))
    with pytest.raises(BudgetExceeded, match=r"spent of teacher.budget_usd"):
        second.generate([chat("b0", max_new_tokens=64)])
    assert len(server.hits()) == 5


def _busiest_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + 1.0) for t in times)


def test_requests_per_minute_hold_under_a_burst(server):
    eng = engine_for(server, max_concurrency=16, requests_per_minute=300)  # 5 per second
    t0 = time.monotonic()
    out = eng.generate([chat(f"burst {i}") for i in range(16)])
    took = time.monotonic() - t0
    assert all(cs[0].text for cs in out)
    times = [h.time for h in server.hits()]
    assert len(times) == 16
    assert _busiest_second(times) <= 6, _busiest_second(times)  # 5 per second, +1 at a window's edge
    assert took >= 15 * 0.2 * 0.95


def test_rate_limit_headers_are_honoured(server):
    """The server allows 3 requests per second and says so in x-ratelimit-* headers; the client
    waits for the reset instead of running into 429s."""
    server.ratelimit(3, 1.0)
    eng = engine_for(server, max_concurrency=1, max_retries=0)
    out = eng.generate([chat(f"limited {i}") for i in range(8)])
    assert all(cs[0].text for cs in out), [cs[0].error for cs in out]
    assert server.over_limit == 0
    assert _busiest_second([h.time for h in server.hits()]) <= 3


def test_tokens_per_minute_window():
    """The token window with a fake clock: bounded, deterministic."""
    import asyncio

    from lemma.engines.ratelimit import RateLimiter, parse_reset

    now = [0.0]
    slept = []

    async def sleep(s):
        slept.append(s)
        now[0] += s

    lim = RateLimiter(tokens_per_minute=1000, clock=lambda: now[0], sleep=sleep)

    async def run():
        for _ in range(5):
            await lim.acquire(400)

    asyncio.run(run())
    # 400 + 400 fit in the first minute; the third waits until the first leaves the window, ...
    assert slept == [60.0, 60.0] or slept == pytest.approx([60.0, 60.0])
    assert now[0] == pytest.approx(120.0)
    assert parse_reset("6m0s") == 360 and parse_reset("20ms") == pytest.approx(0.02)
    assert parse_reset("1h2m3.5s") == pytest.approx(3723.5) and parse_reset("1.5") == 1.5
    assert parse_reset("soon") is None


def test_cached_prompt_tokens_are_priced_apart(server, tmp_path):
    server.cached_tokens = 4
    cache = RequestCache(tmp_path / "cache.sqlite")
    prices = Prices(2.5, 10.0, cached_input_per_mtok=1.25)
    usage = UsageLog(tmp_path / "usage.csv", engine="openai", model="fake-model", prices=prices)
    eng = engine_for(server, cache=cache, usage=usage, prices=prices)
    out = eng.generate([chat("a cached prompt")])
    c = out[0][0]
    assert c.cached_tokens == 4 and c.prompt_tokens > 4
    expected = ((c.prompt_tokens - 4) * 2.5 + 4 * 1.25 + c.completion_tokens * 10.0) / 1e6
    assert cache.ledger()[0]["cost_usd"] == pytest.approx(expected)
    row = next(csv.DictReader(open(tmp_path / "usage.csv")))
    assert int(row["cached_tokens"]) == 4 and float(row["est_cost_usd"]) == pytest.approx(expected, abs=1e-6)
    assert eng.generate([chat("a cached prompt")])[0][0].cached_tokens == 4  # kept in the cache


@pytest.mark.parametrize(
    "model, field",
    [
        ("gpt-4o", "max_tokens"),
        ("o3-mini", "max_completion_tokens"),
        ("gpt-5-mini", "max_completion_tokens"),
        ("o1", "max_completion_tokens"),
        ("meta-llama/Llama-3.1-8B-Instruct", "max_tokens"),
    ],
)
def test_the_completion_limit_field_follows_the_model(model, field):
    seen = []
    with FakeOpenAIServer(responder=lambda b: seen.append(b) or "ok") as s:
        OpenAIEngine(model, base_url=s.base_url, api_key_env=None).generate([chat("x", max_new_tokens=33)])
    other = {"max_tokens", "max_completion_tokens"} - {field}
    assert seen[0][field] == 33 and not other & set(seen[0])
