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

The ledger (docs/teachers.md, "Budget"): each `live_calls` row also carries what that answer cost
(tokens, cached prompt tokens, USD at the configured prices, live or batch price), the job and the
stage that paid it. `spent_usd()` is the running total over every job and rerun that ever used the
file; `reserve()` / `release()` hold a worst-case amount for a request in flight, in the same
database, so that several teacher jobs running at once share one budget.

Batch mode (lemma.engines.batch) records each uploaded input file and each created batch here, with
the keys it carries, before it waits: a job killed while waiting finds its batch again on rerun.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
from pathlib import Path

from lemma.engines.base import Completion, Request
from lemma.engines.processes import pid_alive

_HOST = socket.gethostname()


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
CREATE TABLE IF NOT EXISTS reservations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    amount REAL NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    time REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    input_file_id TEXT NOT NULL,
    batch_id TEXT,                  -- NULL between upload and create (see lemma.engines.batch)
    job TEXT NOT NULL DEFAULT '',
    stage TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'uploaded',
    done INTEGER NOT NULL DEFAULT 0, -- 1 once its results and errors were read back
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_items (
    batch INTEGER NOT NULL,         -- batches.id
    key TEXT NOT NULL,
    PRIMARY KEY (batch, key)
);
"""

# Columns added after the first release; a cache file made before gets them on open.
_ADDED_COLUMNS = {
    "responses": {
        "cached_tokens": "INTEGER NOT NULL DEFAULT 0",
        "stage": "TEXT NOT NULL DEFAULT ''",
        "job": "TEXT NOT NULL DEFAULT ''",
        "mode": "TEXT NOT NULL DEFAULT 'live'",
    },
    "live_calls": {
        "job": "TEXT NOT NULL DEFAULT ''",
        "stage": "TEXT NOT NULL DEFAULT ''",
        "mode": "TEXT NOT NULL DEFAULT 'live'",
        "prompt_tokens": "INTEGER NOT NULL DEFAULT 0",
        "cached_tokens": "INTEGER NOT NULL DEFAULT 0",
        "completion_tokens": "INTEGER NOT NULL DEFAULT 0",
        "cost_usd": "REAL NOT NULL DEFAULT 0",
    },
}


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
        self._db = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
        self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        mode = self._journal_mode_wal(busy_timeout_s)
        if mode.lower() != "wal":
            raise RuntimeError(
                f"request cache {self.path}: SQLite refused WAL mode (got {mode!r}); "
                "is the file on a filesystem without shared-memory support (NFS)?"
            )
        # NORMAL is durable against a killed process (the WAL is in the OS page cache); only a
        # power cut could lose the last answers, which would simply be asked again.
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)
        # Columns added since a cache file was made. Two jobs opening one cache at the same moment
        # (locate_errors beside inject_errors) would both see a column missing and both add it:
        # the write lock taken first makes the second wait, then find it there.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for table, columns in _ADDED_COLUMNS.items():
                have = {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}
                for name, decl in columns.items():
                    if name not in have:
                        self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _journal_mode_wal(self, busy_timeout_s: float) -> str:
        """Switch the file to WAL. On a brand-new file several jobs may try at the same moment;
        SQLite answers the losers "database is locked" at once, without waiting on busy_timeout,
        so wait and retry here (bounded by the same timeout)."""
        deadline = time.monotonic() + busy_timeout_s
        while True:
            try:
                return self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    # -- lookups -----------------------------------------------------------------------------
    def get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._db.execute(
                "SELECT text, finish_reason, prompt_tokens, completion_tokens, cached_tokens FROM responses"
                " WHERE key = ?",
                (key,),
            ).fetchone()
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
        return Completion(
            text=row[0], finish_reason=row[1], prompt_tokens=row[2], completion_tokens=row[3], cached_tokens=row[4]
        )

    def peek(self, keys) -> dict[str, Completion]:
        """The stored answers among `keys`, without counting hits or misses (lemma estimate)."""
        keys = list(keys)
        out: dict[str, Completion] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                rows = self._db.execute(
                    "SELECT key, text, finish_reason, prompt_tokens, completion_tokens, cached_tokens FROM responses"
                    f" WHERE key IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                for r in rows:
                    out[r[0]] = Completion(
                        text=r[1], finish_reason=r[2], prompt_tokens=r[3], completion_tokens=r[4], cached_tokens=r[5]
                    )
        return out

    def put(
        self,
        key: str,
        material: dict,
        completion: Completion,
        *,
        cost_usd: float = 0.0,
        mode: str = "live",
        job: str = "",
        stage: str = "",
        release: int | None = None,
    ) -> None:
        """Store a paid answer now, with its line in the ledger (and drop the reservation `release`
        held for it, in the same transaction). Failed requests (text None) are never stored, so a
        rerun asks them again."""
        if completion.text is None:
            if release is not None:
                self.release(release)
            return
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO responses (key, engine, model, request, text, finish_reason,"
                    " prompt_tokens, completion_tokens, created, live_count, cached_tokens, stage, job, mode)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET live_count = live_count + 1",
                    (
                        key,
                        material["engine"],
                        material["model"],
                        canonical_json(material),
                        completion.text,
                        completion.finish_reason,
                        completion.prompt_tokens,
                        completion.completion_tokens,
                        now,
                        completion.cached_tokens,
                        stage,
                        job,
                        mode,
                    ),
                )
                self._db.execute(
                    "INSERT INTO live_calls (key, time, pid, job, stage, mode, prompt_tokens, cached_tokens,"
                    " completion_tokens, cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        now,
                        os.getpid(),
                        job,
                        stage,
                        mode,
                        completion.prompt_tokens,
                        completion.cached_tokens,
                        completion.completion_tokens,
                        float(cost_usd),
                    ),
                )
                if release is not None:
                    self._db.execute("DELETE FROM reservations WHERE id = ?", (release,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # -- the ledger and the budget --------------------------------------------------------------
    def spent_usd(self) -> float:
        """What every paid answer stored in this file cost, at the prices configured when it arrived."""
        with self._lock:
            return float(self._db.execute("SELECT COALESCE(SUM(cost_usd), 0) FROM live_calls").fetchone()[0])

    def reserved_usd(self) -> float:
        with self._lock:
            self._drop_stale_reservations()
            return float(self._db.execute("SELECT COALESCE(SUM(amount), 0) FROM reservations").fetchone()[0])

    def reserve(self, amount: float, budget_usd: float) -> int | None:
        """Hold `amount` (a request's worst-case cost) if spent + held + amount stays within the
        budget; the reservation id, or None when it would pass the budget. One transaction, so
        two jobs cannot both take the last dollars."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._drop_stale_reservations()
                spent = self._db.execute("SELECT COALESCE(SUM(cost_usd), 0) FROM live_calls").fetchone()[0]
                held = self._db.execute("SELECT COALESCE(SUM(amount), 0) FROM reservations").fetchone()[0]
                if spent + held + amount > budget_usd + 1e-12:
                    self._db.execute("COMMIT")
                    return None
                cur = self._db.execute(
                    "INSERT INTO reservations (amount, pid, host, time) VALUES (?, ?, ?, ?)",
                    (float(amount), os.getpid(), _HOST, time.time()),
                )
                self._db.execute("COMMIT")
                return int(cur.lastrowid)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def release(self, reservation: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM reservations WHERE id = ?", (reservation,))

    def _drop_stale_reservations(self) -> None:
        """Reservations of processes on this host that are gone (a killed job), and any older than
        a day (a job on another node cannot be checked; no request waits that long)."""
        rows = self._db.execute("SELECT id, pid, host, time FROM reservations").fetchall()
        stale = [r[0] for r in rows if (r[2] == _HOST and not pid_alive(r[1])) or time.time() - r[3] > 86400]
        for rid in stale:
            self._db.execute("DELETE FROM reservations WHERE id = ?", (rid,))

    def ledger(self) -> list[dict]:
        """Every paid answer: key, time, pid, job, stage, mode, tokens and cost."""
        with self._lock:
            cur = self._db.execute(
                "SELECT key, time, pid, job, stage, mode, prompt_tokens, cached_tokens,"
                " completion_tokens, cost_usd FROM live_calls ORDER BY id"
            )
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

    # -- batch bookkeeping (lemma.engines.batch) ------------------------------------------------
    def add_batch_upload(self, input_file_id: str, keys: list[str], job: str, stage: str) -> int:
        """Record an uploaded batch input file and its keys, before the batch is created."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cur = self._db.execute(
                    "INSERT INTO batches (input_file_id, job, stage, created) VALUES (?, ?, ?, ?)",
                    (input_file_id, job, stage, time.time()),
                )
                ref = int(cur.lastrowid)
                self._db.executemany(
                    "INSERT OR IGNORE INTO batch_items (batch, key) VALUES (?, ?)", [(ref, k) for k in keys]
                )
                self._db.execute("COMMIT")
                return ref
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def set_batch(
        self, ref: int, *, batch_id: str | None = None, status: str | None = None, done: bool | None = None
    ) -> None:
        with self._lock:
            if batch_id is not None:
                self._db.execute("UPDATE batches SET batch_id = ? WHERE id = ?", (batch_id, ref))
            if status is not None:
                self._db.execute("UPDATE batches SET status = ? WHERE id = ?", (status, ref))
            if done is not None:
                self._db.execute("UPDATE batches SET done = ? WHERE id = ?", (int(done), ref))

    def open_batches(self, keys) -> list[dict]:
        """Batches not yet read back that carry any of `keys`: {ref, input_file_id, batch_id,
        status, keys}."""
        wanted = set(keys)
        with self._lock:
            rows = self._db.execute(
                "SELECT id, input_file_id, batch_id, status FROM batches WHERE done = 0 ORDER BY id"
            ).fetchall()
            out = []
            for ref, file_id, batch_id, status in rows:
                ks = [r[0] for r in self._db.execute("SELECT key FROM batch_items WHERE batch = ?", (ref,))]
                if wanted & set(ks):
                    out.append(
                        {"ref": ref, "input_file_id": file_id, "batch_id": batch_id, "status": status, "keys": ks}
                    )
            return out

    def batches(self) -> list[dict]:
        with self._lock:
            cur = self._db.execute(
                "SELECT id, input_file_id, batch_id, job, stage, status, done, created FROM batches ORDER BY id"
            )
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

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
        # the model directory (hf and vllm keep it as `model_path`; their `model` is the loaded
        # network or absent, whose repr must not become part of a key), so the key is
        # (engine, model path, ...) as `lemma estimate` computes it from the config
        self.model = model or str(getattr(engine, "model_path", None) or getattr(engine, "model", "unknown"))

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
                        self.cache.put(
                            cache_key(self.name, self.model, requests[i], s),
                            material,
                            comp,
                            mode="local",
                            stage=progress or "",
                        )
                        out[i][s] = comp
        return out  # type: ignore[return-value]

    def close(self) -> None:
        self.engine.close()
