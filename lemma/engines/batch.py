"""teacher.mode: batch — a job's requests through the OpenAI Batch API (half price, up to 24 h).

One round: write the unanswered samples as JSONL lines (custom_id = the request-cache key, body =
exactly what a live call would send), upload the file, create the batch, poll until it ends,
read back the output file (answers) and the error file (failed lines), store every answer in the
request cache with its cost at the batch price. Later stages and reruns read the same cache, so
they cannot tell how an answer arrived.

Why it survives a killed job (a cluster's wall time, Ctrl-C, a lost node):
* the uploaded file id and the keys it carries are written to the cache *before* the batch is
  created, and the batch id right after; a rerun finds every batch not yet read back that carries
  one of its keys and waits for that batch instead of sending the lines again;
* a job killed between "create" and "record the id" is found too: its input file id is on record,
  and the provider's batch list names the batch created from that file;
* while a batch runs nothing is paid for it here; its answers are paid (in the ledger) when read
  back, exactly once, and the batch is then marked done.

Lines that fail (the error file: a 5xx for one line, a batch that expired or was cancelled before
running them, a batch that failed validation) go into the next round, up to `max_rounds`
batches, or are sent live right away (`retry: live`), or given up (`retry: none`). What is still
unanswered after that comes back as Completion(text=None, error="batch_<code> ..."), which the
teacher drops with that reason. A line refused with a 4xx (a bad request) is never retried.

`max_wait_s` bounds one job's wait: when it is reached the job fails with a message saying that
the batch keeps running at the provider and that rerunning the same command picks it up
(docs/teachers.md, "Batch mode on a cluster").
"""

from __future__ import annotations

import json
import logging
import time

import openai
from openai.types import Completion as TextCompletionObject
from openai.types.chat import ChatCompletion

from lemma.engines.answers import check_answer, completion_from, run_coroutine
from lemma.engines.base import Completion, Request
from lemma.engines.usage import BatchUsage

log = logging.getLogger("lemma.engines.batch")

FINAL = ("completed", "failed", "expired", "cancelled")
RETRY_MODES = ("batch", "live", "none")
DEFAULTS = {
    "poll_s": 30.0,
    "max_wait_s": None,
    "retry": "batch",
    "max_rounds": 3,
    "max_lines": 50000,
    "completion_window": "24h",
}


class BatchStillRunning(RuntimeError):
    """The wait limit was reached while a batch was running; a rerun reattaches to it."""


def batch_settings(cfg: dict | None) -> dict:
    """teacher.batch with defaults, checked."""
    cfg = dict(cfg or {})
    unknown = set(cfg) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"teacher.batch: unknown key(s) {sorted(unknown)}; expected some of {sorted(DEFAULTS)}")
    out = {**DEFAULTS, **cfg}
    if out["retry"] not in RETRY_MODES:
        raise ValueError(f"teacher.batch.retry: expected one of {RETRY_MODES}, got {out['retry']!r}")
    if not (isinstance(out["max_rounds"], int) and out["max_rounds"] >= 1):
        raise ValueError(f"teacher.batch.max_rounds: expected an integer >= 1, got {out['max_rounds']!r}")
    if not (isinstance(out["max_lines"], int) and 1 <= out["max_lines"] <= 50000):
        raise ValueError(f"teacher.batch.max_lines: expected an integer 1..50000, got {out['max_lines']!r}")
    if float(out["poll_s"]) <= 0 or (out["max_wait_s"] is not None and float(out["max_wait_s"]) <= 0):
        raise ValueError("teacher.batch: poll_s and max_wait_s must be > 0")
    return out


class BatchRunner:
    def __init__(self, engine, api_key: str):
        self.engine = engine
        self.cache = engine.cache
        self.cfg = batch_settings(engine.batch_cfg)
        self.client = openai.OpenAI(
            api_key=api_key, base_url=engine.base_url, max_retries=engine.max_retries, timeout=engine.request_timeout_s
        )

    # -- the whole job ----------------------------------------------------------------------------
    def run(self, requests: list[Request], todo: list[tuple], usage: BatchUsage, stage: str) -> list[Completion]:
        self.requests, self.usage, self.stage = requests, usage, stage
        self.items = {key: (i, s, material) for i, s, key, material in todo}
        self.answers: dict[str, Completion] = {}
        self.reasons: dict[str, str] = {}  # key -> why its last attempt failed
        self.final: set[str] = set()  # keys not to retry (refused by the budget, a 4xx)
        self.reservations: dict[str, int] = {}
        self.counted: set[str] = set()  # failures already in the usage counts
        try:
            self._reattach()
            rounds = 0
            while True:
                pending = [k for k in self.items if k not in self.answers and k not in self.final]
                if not pending or rounds >= self.cfg["max_rounds"]:
                    break
                if rounds > 0 and self.cfg["retry"] == "none":
                    break
                if rounds > 0 and self.cfg["retry"] == "live":
                    self._live(pending)
                    break
                rounds += 1
                self._round(pending)
        finally:
            for rid in self.reservations.values():
                self.cache.release(rid)
            self.client.close()
        out = []
        for _i, _s, key, _ in todo:
            comp = self.answers.get(key) or self.engine.cache.get(key)
            if comp is None:
                reason = self.reasons.get(key, "batch_not_sent")
                if key not in self.counted:
                    self.counted.add(key)
                    self.usage.failed += 1
                    code = reason.split(" ", 1)[0].rstrip(":")
                    self.usage.errors[code] = self.usage.errors.get(code, 0) + 1
                comp = Completion(text=None, finish_reason="error", error=reason)
            out.append(comp)
        return out

    # -- one round: upload, create, wait, read back -------------------------------------------------
    def _round(self, pending: list[str]) -> None:
        allowed = []
        for key in pending:
            i, _, _ = self.items[key]
            ok, rid = self.engine.reserve(self.requests[i], batch=True)
            if not ok:  # the rest stays unsent: the budget stops the job, like in live mode
                for k in pending[len(allowed) :]:
                    self.final.add(k)
                    self.reasons[k] = self.engine.refused().error
                break
            allowed.append(key)
            if rid is not None:
                self.reservations[key] = rid
        submitted = []
        for start in range(0, len(allowed), self.cfg["max_lines"]):
            submitted.append(self._submit(allowed[start : start + self.cfg["max_lines"]]))
        for ref, batch_id, keys in submitted:
            self._collect(ref, self._wait(batch_id), keys)

    def _submit(self, keys: list[str]) -> tuple[int, str, list[str]]:
        lines = []
        for key in keys:
            i, s, _ = self.items[key]
            req = self.requests[i]
            url = "/v1/chat/completions" if req.messages is not None else "/v1/completions"
            lines.append(
                json.dumps(
                    {"custom_id": key, "method": "POST", "url": url, "body": self.engine.body(req, s)},
                    ensure_ascii=False,
                )
            )
        endpoint = json.loads(lines[0])["url"]
        data = ("\n".join(lines) + "\n").encode()
        f = self.client.files.create(file=(f"lemma-{self.stage or 'teacher'}.jsonl", data), purpose="batch")
        ref = self.cache.add_batch_upload(f.id, keys, self.engine.job, self.stage)  # before the batch exists
        b = self.client.batches.create(
            input_file_id=f.id,
            endpoint=endpoint,
            completion_window=self.cfg["completion_window"],
            metadata={"lemma_job": self.engine.job[:500], "lemma_stage": self.stage},
        )
        self.cache.set_batch(ref, batch_id=b.id, status=b.status)
        log.info(
            "batch %s created: %d request(s) of %s (file %s); recorded in %s",
            b.id,
            len(keys),
            self.stage or "the teacher",
            f.id,
            self.cache.path,
        )
        return ref, b.id, keys

    def _wait(self, batch_id: str):
        start, last = time.monotonic(), None
        while True:
            b = self.client.batches.retrieve(batch_id)
            counts = getattr(b, "request_counts", None)
            state = (b.status, getattr(counts, "completed", None), getattr(counts, "failed", None))
            if state != last:
                log.info(
                    "batch %s: %s (%s done, %s failed of %s)",
                    batch_id,
                    b.status,
                    state[1],
                    state[2],
                    getattr(counts, "total", "?"),
                )
                last = state
            if b.status in FINAL:
                return b
            waited = time.monotonic() - start
            if self.cfg["max_wait_s"] is not None and waited >= float(self.cfg["max_wait_s"]):
                raise BatchStillRunning(
                    f"batch {batch_id} is still {b.status} after {waited:.0f}s (teacher.batch.max_wait_s); it keeps "
                    f"running at the provider and is recorded in {self.cache.path}: rerun the same command later "
                    f"and this job picks it up without sending its requests again"
                )
            time.sleep(float(self.cfg["poll_s"]))

    def _collect(self, ref: int, b, keys: list[str]) -> None:
        """Store what a finished batch answered; note why each other line failed; mark it done."""
        seen: set[str] = set()
        for line in self._lines(getattr(b, "output_file_id", None)) + self._lines(getattr(b, "error_file_id", None)):
            key = line.get("custom_id")
            if key not in self.items or key in seen:
                continue
            seen.add(key)
            self._line(key, line)
        whole = {"expired": "batch_expired", "cancelled": "batch_cancelled", "failed": "batch_failed"}.get(b.status)
        for key in keys:
            if key not in seen and key not in self.answers:
                detail = ""
                if b.status == "failed" and getattr(b, "errors", None) is not None:
                    detail = "; ".join(f"{e.code}: {e.message}" for e in (b.errors.data or []))
                self.reasons[key] = f"{whole or 'batch_missing_line'} (batch {b.id}) {detail}".strip()
        for key in keys:
            rid = self.reservations.pop(key, None)
            if rid is not None:
                self.cache.release(rid)
        self.cache.set_batch(ref, status=b.status, done=True)

    def _line(self, key: str, line: dict) -> None:
        i, _, material = self.items[key]
        resp, err = line.get("response") or {}, line.get("error")
        status = resp.get("status_code")
        if err or status != 200:
            code = (err or {}).get("code") or (f"http_{status}" if status else "batch_error")
            message = (err or {}).get("message") or json.dumps(resp.get("body"))[:200]
            self.reasons[key] = f"batch_{code.removeprefix('batch_')} {message}"[:300]
            if status is not None and 400 <= status < 500 and status not in (408, 409, 429):
                self.final.add(key)  # a bad request stays bad
            return
        chat = self.requests[i].messages is not None
        try:
            obj = (ChatCompletion if chat else TextCompletionObject).model_validate(resp.get("body") or {})
            comp = completion_from(obj, chat=chat)
        except Exception as e:  # a line the client cannot read: retried like a malformed answer
            self.reasons[key] = f"batch_malformed_response {type(e).__name__}: {str(e)[:200]}"
            return
        failure = check_answer(comp)
        if failure is not None:
            self.reasons[key] = f"batch_{failure.code} {failure.detail}"
            self.final.add(key)
            return
        cost = self.engine.cost(comp, batch=True)
        self.cache.put(key, material, comp, cost_usd=cost, mode="batch", job=self.engine.job, stage=self.stage)
        self.answers[key] = comp
        u = self.usage
        u.live_calls += 1
        u.batch_calls += 1
        u.prompt_tokens += comp.prompt_tokens
        u.completion_tokens += comp.completion_tokens
        u.cached_tokens += comp.cached_tokens
        u.cost_usd += cost

    def _lines(self, file_id: str | None) -> list[dict]:
        if not file_id:
            return []
        text = self.client.files.content(file_id).text
        return [json.loads(x) for x in text.splitlines() if x.strip()]

    # -- a rerun finds its batches ----------------------------------------------------------------
    def _reattach(self) -> None:
        for rec in self.cache.open_batches(self.items):
            batch_id = rec["batch_id"] or self._find_created(rec["input_file_id"])
            if batch_id is None:
                # killed after the upload, before the batch was created: nothing runs, nothing paid
                log.info(
                    "batch input %s was uploaded but never became a batch; its requests are sent again",
                    rec["input_file_id"],
                )
                self.cache.set_batch(rec["ref"], status="never_created", done=True)
                continue
            self.cache.set_batch(rec["ref"], batch_id=batch_id)
            keys = [k for k in rec["keys"] if k in self.items]
            log.info("reattaching to batch %s (%d of its requests are this job's)", batch_id, len(keys))
            for key in keys:  # held again while it runs, so parallel jobs see it (no budget check: sent)
                i, _, _ = self.items[key]
                if self.engine.budget_usd is not None:
                    self.reservations[key] = self.cache.reserve(
                        self.engine.worst_case(self.requests[i], batch=True), float("inf")
                    )
            self._collect(rec["ref"], self._wait(batch_id), keys)

    def _find_created(self, input_file_id: str) -> str | None:
        for b in self.client.batches.list(limit=100):
            if b.input_file_id == input_file_id:
                return b.id
        return None

    # -- retry: live ------------------------------------------------------------------------------
    def _live(self, pending: list[str]) -> None:
        todo = [(self.items[k][0], self.items[k][1], k, self.items[k][2]) for k in pending]
        answers = run_coroutine(self.engine._run_all(self.requests, todo, self.usage, self.stage))
        for (_, _, key, _), comp in zip(todo, answers):
            if comp.text is not None:
                self.answers[key] = comp
            else:
                self.reasons[key] = comp.error or "live_retry_failed"
                self.final.add(key)
                self.counted.add(key)  # _run_all counted this failure
