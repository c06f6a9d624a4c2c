"""teacher.mode: batch — the real `openai` client against the Batch API of the loopback server
(tests/fake_openai_server.py: files and batches endpoints): answers land in the request cache,
a job killed while waiting reattaches and pays once, and expired, cancelled and partially failed
batches end with every row answered or dropped with a reason."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lemma.engines.base import Request, SamplingParams
from lemma.engines.cache import RequestCache, cache_key
from lemma.engines.openai_engine import BudgetExceeded, OpenAIEngine
from lemma.engines.usage import Prices, UsageLog
from tests.fake_openai_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parent.parent
PRICES = Prices(2.5, 10.0)


def chat(text: str, n: int = 1) -> Request:
    return Request(messages=({"role": "user", "content": text},), params=SamplingParams(n=n, max_new_tokens=64))


def batch_engine(server, cache, usage=None, **batch):
    batch.setdefault("poll_s", 0.05)
    batch.setdefault("max_wait_s", 30)
    return OpenAIEngine(
        "fake-model",
        base_url=server.base_url,
        api_key_env=None,
        cache=cache,
        usage=usage,
        prices=PRICES,
        mode="batch",
        batch=batch,
        job="test-job",
        max_retries=1,
        request_timeout_s=5,
        backoff_base_s=0.01,
        backoff_max_s=0.02,
    )


def keys_of(reqs, model="fake-model"):
    return [cache_key("openai", model, r, s) for r in reqs for s in range(r.params.n)]


def test_a_completed_batch_fills_the_cache_at_half_price(tmp_path):
    with FakeOpenAIServer() as server:
        cache = RequestCache(tmp_path / "c.sqlite")
        usage = UsageLog(tmp_path / "u.csv", engine="openai", model="fake-model", prices=PRICES)
        reqs = [chat(f"problem {i}", n=2) for i in range(4)]
        out = batch_engine(server, cache, usage).generate(reqs, progress="inject")
        assert [c.text for cs in out for c in cs] == [f"echo: problem {i}" for i in range(4) for _ in range(2)]
        assert len(server.batches) == 1 and not server.hits()  # one batch, no live call
        assert sorted(server.batch_submitted.values()) == [1] * 8
        ledger = cache.ledger()
        assert len(ledger) == 8 and {r["mode"] for r in ledger} == {"batch"}
        live_price = sum(PRICES.cost(r["prompt_tokens"], r["completion_tokens"]) for r in ledger)
        assert cache.spent_usd() == pytest.approx(live_price / 2)
        assert usage.batches[0].batch_calls == 8 and usage.batches[0].cost_usd == pytest.approx(cache.spent_usd())
        # a later run (live or batch) reads the same answers from the cache and sends nothing
        again = batch_engine(server, cache).generate(reqs)
        assert [c.text for cs in again for c in cs] == [c.text for cs in out for c in cs]
        assert len(server.batches) == 1 and cache.paid_twice() == []


# Each way a batch goes wrong (FakeOpenAIServer.plan_batches; a partial answer where the kind has
# one) and the reason a row that no batch answered comes back with.
BATCH_FAILURES = [
    ({"kind": "expire", "answer": 1}, "batch_expired"),
    ({"kind": "cancel", "answer": 1}, "batch_cancelled"),
    ({"kind": "fail_lines", "match": "problem 1"}, "batch_http_500"),
    ({"kind": "failed"}, "batch_failed"),
]


@pytest.mark.parametrize(
    "plan, retry", [*((plan, "batch") for plan, _ in BATCH_FAILURES), (BATCH_FAILURES[0][0], "live")]
)
def test_failed_lines_are_retried_in_a_later_batch_or_live(tmp_path, plan, retry):
    with FakeOpenAIServer() as server:
        server.plan_batches(plan)  # the first batch goes wrong, later ones complete
        cache = RequestCache(tmp_path / "c.sqlite")
        reqs = [chat(f"problem {i}") for i in range(5)]
        out = batch_engine(server, cache, retry=retry).generate(reqs, progress="smooth")
        assert [cs[0].text for cs in out] == [f"echo: problem {i}" for i in range(5)]
        first = server.batches["batch_1"]["public"]
        answered_first = first["request_counts"]["completed"]
        if retry == "batch":
            assert (
                len(server.batches) == 2
                and server.batches["batch_2"]["public"]["request_counts"]["total"] == 5 - answered_first
            )
        else:
            assert len(server.batches) == 1 and len(server.hits("ok")) == 5 - answered_first
        # every line paid once: the ledger and the server agree
        assert cache.paid_twice() == [] and len(cache.ledger()) == 5
        assert len(server.batch_answered) + len(server.hits("ok")) == 5
        assert all(b["done"] for b in cache.batches())


@pytest.mark.parametrize("plan, reason", BATCH_FAILURES)
def test_rows_the_batches_never_answer_come_back_with_a_reason(tmp_path, plan, reason):
    """max_rounds: 2 and every batch goes the same way: each row is answered or names why not."""
    with FakeOpenAIServer() as server:
        server.plan_batches(plan, plan)
        cache = RequestCache(tmp_path / "c.sqlite")
        usage = UsageLog(None, engine="openai", model="fake-model", prices=PRICES)
        reqs = [chat(f"problem {i}") for i in range(4)]
        out = batch_engine(server, cache, usage, max_rounds=2).generate(reqs)
        texts = [cs[0].text for cs in out]
        errors = [cs[0].error for cs in out]
        assert any(t is None for t in texts)
        assert all((t is None) != (e is None) for t, e in zip(texts, errors))
        assert any(t is not None for t in texts) or plan["kind"] == "failed"
        assert all(e.startswith(reason) for e in errors if e), errors
        assert len(server.batches) == 2
        assert usage.batches[0].failed == sum(t is None for t in texts)
        assert usage.batches[0].errors == {reason: sum(t is None for t in texts)}
        # the LLM teacher turns this into its drop reason "<stage>:request_failed:<code>"
        assert {e.split(" ", 1)[0] for e in errors if e} == {reason}


@pytest.mark.slow
def test_a_job_killed_while_waiting_reattaches_and_pays_once(tmp_path):
    with FakeOpenAIServer() as server:
        server.batch_delay = 3.0  # the batch runs for 3 s: the first job is killed meanwhile
        db = tmp_path / "c.sqlite"
        script = tmp_path / "job.py"
        script.write_text(
            textwrap.dedent(f"""
            import sys
            sys.path.insert(0, {str(ROOT)!r})
            from tests.test_batch_mode import batch_engine, chat
            from lemma.engines.cache import RequestCache
            class S: base_url = {server.base_url!r}
            batch_engine(S, RequestCache({str(db)!r})).generate([chat(f"problem {{i}}") for i in range(6)])
            print("finished")
        """)
        )
        proc = subprocess.Popen(
            [sys.executable, str(script)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            start_new_session=True,
        )
        deadline = time.time() + 30
        while time.time() < deadline and not (
            server.batches and RequestCache(db).batches() and RequestCache(db).batches()[0]["batch_id"]
        ):
            assert proc.poll() is None, proc.stdout.read().decode()
            time.sleep(0.05)
        assert server.batches, "the first job never created its batch"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert server.batches["batch_1"]["public"]["status"] == "in_progress"  # killed while waiting

        cache = RequestCache(db)
        assert len(cache) == 0 and cache.batches()[0]["batch_id"] == "batch_1"
        reqs = [chat(f"problem {i}") for i in range(6)]
        out = batch_engine(server, cache).generate(reqs)
        assert [cs[0].text for cs in out] == [f"echo: problem {i}" for i in range(6)]
        assert len(server.batches) == 1  # reattached, not submitted again
        assert sorted(server.batch_submitted.values()) == [1] * 6 and len(server.batch_answered) == 6
        assert len(cache.ledger()) == 6 and cache.paid_twice() == []
        assert set(server.batch_submitted) == set(keys_of(reqs))


def test_a_job_killed_between_upload_and_create_finds_its_batch_by_the_file(tmp_path):
    """The batch id is written right after `create`; a job killed in between left only the input
    file id on record. The rerun finds the batch in the provider's list by that file."""
    with FakeOpenAIServer() as server:
        cache = RequestCache(tmp_path / "c.sqlite")
        reqs = [chat(f"problem {i}") for i in range(3)]
        eng = batch_engine(server, cache)
        # what the killed job did: the upload, its record, the create; not the id's record
        import json

        lines = [
            json.dumps({"custom_id": k, "method": "POST", "url": "/v1/chat/completions", "body": eng.body(r, 0)})
            for k, r in zip(keys_of(reqs), reqs)
        ]
        import openai

        client = openai.OpenAI(api_key="EMPTY", base_url=server.base_url)
        f = client.files.create(file=("x.jsonl", ("\n".join(lines) + "\n").encode()), purpose="batch")
        cache.add_batch_upload(f.id, keys_of(reqs), "test-job", "inject")
        client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
        out = eng.generate(reqs)
        assert [cs[0].text for cs in out] == [f"echo: problem {i}" for i in range(3)]
        assert len(server.batches) == 1 and len(cache.ledger()) == 3


def test_the_budget_holds_in_batch_mode(tmp_path):
    with FakeOpenAIServer() as server:
        cache = RequestCache(tmp_path / "c.sqlite")
        reqs = [chat(f"problem {i}") for i in range(6)]
        eng = batch_engine(server, cache)
        eng.budget_usd = 2.5 * eng.worst_case(reqs[0], batch=True)  # room for two lines' worst case
        with pytest.raises(BudgetExceeded, match="budget"):
            eng.generate(reqs)
        assert server.batches["batch_1"]["public"]["request_counts"]["total"] == 2
        assert cache.spent_usd() <= eng.budget_usd
        eng.budget_usd = 100.0
        out = eng.generate(reqs)
        assert all(cs[0].text for cs in out) and cache.paid_twice() == []
        assert sorted(server.batch_submitted.values()) == [1] * 6
