"""The persistent request cache shared by every teacher rule.

One SQLite file in WAL mode. A row per answered request, keyed by a hash of
(engine, model, prompt or messages, sampling params, sample index). Answers are stored the moment
each arrives, in its own short transaction, so a job killed mid-batch and rerun sends only the
requests that have no stored answer; several jobs (processes) may write at once: WAL lets readers
run beside the one writer, and `busy_timeout` makes a writer wait for the lock instead of failing.

What is stored: the key material (model, messages/prompt, params, sample index) for auditing,
the answer text, finish reason and token counts. Never an API key, a base URL or any header: the
engine never hands those to the cache.

Accounting: `hits` / `misses` count lookups by this process; each row's `live_count` says how
many times a live (paid) answer was stored for its key, and the `live_calls` table logs each of
those stores with time and process id, so a test (or a user) can prove nothing was paid twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

from lemma.engines.base import Completion, Request

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    request TEXT NOT NULL,          -- canonical JSON of the key material (no secrets)
    text TEXT NOT NULL,
    finish_reason TEXT,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    live_count INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS live_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    time REAL NOT NULL,
    pid INTEGER NOT NULL
);
"""


def key_material(engine: str, model: str, request: Request, sample_index: int) -> dict:
    """Everything that decides an answer, as plain JSON-able data."""
    return {
        "engine": engine,
        "model": model,
        "prompt": request.prompt,
        "messages": [dict(m) for m in request.messages] if request.messages is not None else None,
        "params": request.params.key(),
        "sample_index": sample_index,
    }


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def cache_key(engine: str, model: str, request: Request, sample_index: int) -> str:
    return hashlib.sha256(canonical_json(key_material(engine, model, request, sample_index)).encode()).hexdigest()


class RequestCache:
    """A process-local handle on the shared cache file. Thread-safe (one lock around the
    connection); use one handle per process."""

    def __init__(self, path: str | os.PathLike, busy_timeout_s: float = 120.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        # isolation_level=None: autocommit, so each statement (or explicit BEGIN..COMMIT) is one
        # short transaction and no lock is held between calls.
        self._db = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise RuntimeError(f"request cache {self.path}: SQLite refused WAL mode (got {mode!r}); "
                               "is the file on a filesystem without shared-memory support (NFS)?")
        # NORMAL is durable against a killed process (the WAL is in the OS page cache); only a
        # power cut could lose the last answers, which would simply be asked again.
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)

    # -- lookups -----------------------------------------------------------------------------
    def get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._db.execute(
                "SELECT text, finish_reason, prompt_tokens, completion_tokens FROM responses WHERE key = ?",
                (key,),
            ).fetchone()
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
        return Completion(text=row[0], finish_reason=row[1], prompt_tokens=row[2], completion_tokens=row[3])

    def put(self, key: str, material: dict, completion: Completion) -> None:
        """Store a live answer now. Failed requests (text None) are never stored, so a rerun
        asks them again."""
        if completion.text is None:
            return
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO responses (key, engine, model, request, text, finish_reason,"
                    " prompt_tokens, completion_tokens, created, live_count)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"
                    " ON CONFLICT(key) DO UPDATE SET live_count = live_count + 1",
                    (key, material["engine"], material["model"], canonical_json(material), completion.text,
                     completion.finish_reason, completion.prompt_tokens, completion.completion_tokens, now),
                )
                self._db.execute("INSERT INTO live_calls (key, time, pid) VALUES (?, ?, ?)", (key, now, os.getpid()))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # -- accounting --------------------------------------------------------------------------
    def live_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT key, live_count FROM responses").fetchall())

    def paid_twice(self) -> list[str]:
        """Keys for which more than one live answer was stored (should be empty)."""
        return [k for k, n in self.live_counts().items() if n > 1]

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedEngine:
    """Puts the request cache in front of an engine that does not cache by itself (hf, vllm:
    offline batch engines, which can only store their answers when the batch returns). The
    openai engine caches per answer itself and is never wrapped."""

    caches_requests = True

    def __init__(self, engine, cache: RequestCache, model: str | None = None):
        self.engine = engine
        self.cache = cache
        self.name = getattr(engine, "name", "engine")
        self.model = model or str(getattr(engine, "model", "unknown"))

    def generate(self, requests: list[Request], progress: str | None = None) -> list[list[Completion]]:
        out: list[list[Completion | None]] = []
        todo: list[int] = []
        for i, req in enumerate(requests):
            got = [self.cache.get(cache_key(self.name, self.model, req, s)) for s in range(req.params.n)]
            out.append(got)
            if any(c is None for c in got):
                todo.append(i)
        if todo:
            fresh = self.engine.generate([requests[i] for i in todo], progress=progress)
            for i, comps in zip(todo, fresh):
                for s, comp in enumerate(comps):
                    if out[i][s] is None:
                        material = key_material(self.name, self.model, requests[i], s)
                        self.cache.put(cache_key(self.name, self.model, requests[i], s), material, comp)
                        out[i][s] = comp
        return out  # type: ignore[return-value]

    def close(self) -> None:
        self.engine.close()
