"""The persistent request cache: keys, concurrent writers, and a job killed mid-batch."""

from __future__ import annotations

import json
import multiprocessing as mp
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lemma.engines.base import Completion, Engine, Request, SamplingParams
from lemma.engines.cache import CachedEngine, RequestCache, cache_key
from tests.fake_openai_server import FakeOpenAIServer


def chat(text, **params):
    return Request(messages=({"role": "user", "content": text},), params=SamplingParams(**params))


def test_key_depends_on_everything_that_decides_an_answer():
    base = cache_key("openai", "m", chat("q"), 0)
    assert base == cache_key("openai", "m", chat("q"), 0)
    variants = [
        cache_key("vllm", "m", chat("q"), 0),
        cache_key("openai", "m2", chat("q"), 0),
        cache_key("openai", "m", chat("q2"), 0),
        cache_key("openai", "m", chat("q", temperature=0.1), 0),
        cache_key("openai", "m", chat("q", seed=1), 0),
        cache_key("openai", "m", chat("q", max_new_tokens=9), 0),
        cache_key("openai", "m", chat("q", stop=("x",)), 0),
        cache_key("openai", "m", chat("q"), 1),
        cache_key("openai", "m", Request(prompt="q"), 0),
    ]
    assert len({base, *variants}) == len(variants) + 1
    # n is how many samples, not what one sample is: sample 0 of n=1 and of n=4 are one answer
    assert cache_key("openai", "m", chat("q", n=4), 0) == base


def test_store_lookup_and_counts(tmp_path):
    c = RequestCache(tmp_path / "c.sqlite")
    r = chat("q")
    k = cache_key("openai", "m", r, 0)
    assert c.get(k) is None
    c.put(k, {"engine": "openai", "model": "m"}, Completion("answer", "stop", 3, 4))
    c.put("failed", {"engine": "openai", "model": "m"}, Completion(None, "error", error="timeout"))
    assert c.get(k) == Completion("answer", "stop", 3, 4)
    assert c.get("failed") is None
    assert (c.hits, c.misses, len(c)) == (1, 2, 1)
    assert c._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    c.put(k, {"engine": "openai", "model": "m"}, Completion("answer", "stop", 3, 4))
    assert c.paid_twice() == [k]


def _writer(path, worker, n):
    c = RequestCache(path)
    for i in range(n):
        # half the keys are shared between workers, half are their own
        key = f"shared-{i}" if i % 2 == 0 else f"own-{worker}-{i}"
        if c.get(key) is None:
            c.put(key, {"engine": "e", "model": "m"}, Completion(f"{worker}:{i}", "stop"))
    c.close()


def test_several_processes_write_at_once(tmp_path):
    path = tmp_path / "c.sqlite"
    RequestCache(path).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 60)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    c = RequestCache(path)
    counts = c.live_counts()
    assert len(counts) == 30 + 3 * 30
    # every write landed; a shared key may have been paid by two racing workers, and the
    # count says so (that is what the chaos test reads)
    assert all(1 <= n <= 3 for n in counts.values())
    n_log = c._db.execute("SELECT COUNT(*) FROM live_calls").fetchone()[0]
    assert n_log == sum(counts.values())


def _opener(path, barrier):
    barrier.wait(30)
    RequestCache(path).close()


def test_jobs_opening_a_fresh_cache_at_once_all_start(tmp_path):
    """Teacher jobs that start together (locate_errors beside inject_errors) open a fresh cache at
    the same moment; they used to race twice there: switching the new file to WAL ("database is
    locked", answered at once, without waiting) and adding the later columns ("duplicate column
    name"). Seen in the chaos test's run; fails most runs without the fix."""
    ctx = mp.get_context("spawn")
    for attempt in range(4):
        path = tmp_path / f"fresh{attempt}.sqlite"
        barrier = ctx.Barrier(4)
        procs = [ctx.Process(target=_opener, args=(path, barrier)) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert [p.exitcode for p in procs] == [0, 0, 0, 0], attempt
        columns = {r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(live_calls)")}
        assert "cost_usd" in columns


class _CountingEngine(Engine):
    name = "counting"
    model = "m0"

    def __init__(self):
        self.calls = []

    def generate(self, requests, progress=None):
        self.calls.append(list(requests))
        return [[Completion(f"{r.messages[0]['content']}#{s}", "stop") for s in range(r.params.n)] for r in requests]


def test_cached_engine_asks_only_what_is_missing(tmp_path):
    inner = _CountingEngine()
    eng = CachedEngine(inner, RequestCache(tmp_path / "c.sqlite"))
    first = eng.generate([chat("a", n=2), chat("b")])
    assert [[c.text for c in cs] for cs in first] == [["a#0", "a#1"], ["b#0"]]
    second = eng.generate([chat("a", n=2), chat("b"), chat("c")])
    assert [[c.text for c in cs] for cs in second] == [["a#0", "a#1"], ["b#0"], ["c#0"]]
    assert [len(c) for c in inner.calls] == [2, 1]
    assert eng.cache.paid_twice() == []


_JOB = textwrap.dedent("""
    import json, sys
    from lemma.teacher.base import ProblemView, SmoothRequest
    from lemma.teacher.factory import build_teacher
    base_url, cache_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cfg = {"kind": "llm", "engine": "openai", "model": "fake-model", "base_url": base_url,
           "max_concurrency": 4, "request_timeout_s": 5, "max_retries": 2, "prompts_dir": sys.argv[4]}
    teacher = build_teacher(cfg, cache_path=cache_path, rule="smooth_and_filter")
    reqs = [SmoothRequest(ProblemView(f"p{i}", f"Question {i}?", "s", str(i)), f"item {i}") for i in range(n)]
    out = teacher.smooth(reqs)
    assert all(t.text.endswith(f"The answer is: {i}") for i, t in enumerate(out)), out
    batch = teacher.engine.last_batch
    print("done", batch.cache_hits, batch.live_calls)
""")


def _answer(body):
    # a patient teacher that always agrees: reads the item number back from the prompt
    item = re.search(r"item (\d+)", body["messages"][-1]["content"]).group(1)
    return f"Smoothed item {item}.\nThe answer is: {item}"


@pytest.mark.slow
def test_killed_job_rerun_sends_only_unanswered_requests(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(_JOB)
    cache_path = tmp_path / "cache.sqlite"
    n = 60
    prompts = Path(__file__).resolve().parent.parent / "lemma" / "prompts"  # a prompts_dir given as a path
    with FakeOpenAIServer(responder=_answer, delay=0.05) as server:
        cmd = [sys.executable, str(script), server.base_url, str(cache_path), str(n), str(prompts)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while len(server.hits("ok")) < 15 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, "the job finished before it could be killed"
        killed_at = len(server.log)
        answered_first = {h.text for h in server.hits("ok")}
        assert 15 <= len(answered_first) < n

        with sqlite3.connect(cache_path) as db:
            stored = {json.loads(r)["messages"][-1]["content"] for (r,) in db.execute("SELECT request FROM responses")}
        assert stored and stored <= answered_first

        rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        second = server.log[killed_at:]

    resent = {h.text for h in second}
    assert not resent & stored, "a request with a stored answer was sent again"
    # Only answers in flight at the kill (sent by the server, never stored) may be asked twice;
    # at most max_concurrency of them.
    assert len(resent & answered_first) <= 4
    assert len({h.text for h in server.log if h.outcome == "ok"}) == n
    hits, live = map(int, rerun.stdout.split()[1:3])
    assert hits == len(stored) and hits + live == n
    c = RequestCache(cache_path)
    assert len(c) == n and c.paid_twice() == []


class _LocalEngine(_CountingEngine):
    """Like the hf engine: `model` is the loaded network, `model_path` the directory."""

    name = "hf"

    def __init__(self):
        super().__init__()
        self.model_path = "/models/teacher"
        self.model = object()  # its repr changes from process to process


def test_a_local_engine_is_keyed_by_its_model_directory(tmp_path):
    cache = RequestCache(tmp_path / "c.sqlite")
    CachedEngine(_LocalEngine(), cache).generate([chat("a")], progress="smooth")
    key = cache_key("hf", "/models/teacher", chat("a"), 0)
    assert cache.peek([key])[key].text == "a#0"  # found again by another process, and by lemma estimate
    assert cache.ledger()[0]["stage"] == "smooth"


def test_pid_alive_tells_a_running_process_from_a_finished_one():
    import os
    import subprocess

    from lemma.engines.processes import pid_alive

    done = subprocess.Popen(["true"])
    done.wait()  # reaped: its pid names no process now
    assert pid_alive(os.getpid()) and not pid_alive(done.pid)
