"""A real OpenAI-compatible HTTP server on 127.0.0.1 for the engine and teacher tests.

It serves POST /v1/chat/completions and POST /v1/completions with OpenAI-shaped JSON (including
`usage`), from a stdlib ThreadingHTTPServer in a daemon thread. Tests script it with:

* `responder(body) -> str | (str, finish_reason)`: the reply for a request body (default: echo
  of the last user message), so a test can pick a teacher reply by a marker in the prompt;
* `add_fault(kind, match=..., times=..., ...)`: the next `times` requests whose serialized body
  contains `match` get a fault instead of an answer: "429" (with Retry-After), "500", "slow"
  (answer after `delay` seconds, longer than the client's timeout), "malformed" (HTTP 200 with a
  body that is not JSON), "drop" (close the connection without any response);
* `delay`: a pause before every answer, so a kill test can stop a client mid-batch.

Every request lands in `log` as a `Hit(content, outcome, time, auth)`: `content` is a hash of
the JSON body (model, messages, sampling fields), `outcome` is "ok" or the fault kind. The
Authorization header is kept apart (in `auth_headers`) so the key test can show the key reached
the server and nowhere else.

Provider behaviour for the cost and limit tests:
* `cached_tokens`: reported as `usage.prompt_tokens_details.cached_tokens` on every answer;
* `ratelimit(limit, reset_s)`: the server allows `limit` answers per `reset_s` window and sends
  `x-ratelimit-remaining-requests` / `x-ratelimit-reset-requests` headers; a request over the
  limit gets a 429 (counted in `over_limit`).

The Batch API (POST /v1/files, GET /v1/files/{id}/content, POST /v1/batches, GET /v1/batches,
GET /v1/batches/{id}, POST /v1/batches/{id}/cancel): a created batch stays `in_progress` for
`batch_delay` seconds, then is settled when next retrieved, by the next entry of `batch_plan`
(default "complete"): "complete" answers every line; "expire" / "cancel" answer the first
`answer` lines and leave the rest `batch_expired` / `batch_cancelled` in the error file; "fail_lines"
answers every line except those whose body contains `match`, which get a 500 in the error file;
"failed" fails the whole batch (no output). `batch_submitted` counts each custom_id per created
batch and `batch_answered` lists every answered (paid) line.
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def teacher_config(base_url: str, key_env: str, model: str = "fake-teacher", **settings) -> dict:
    """The `teacher:` section of an LLM teacher that asks this server through the openai engine
    (the key read from `key_env`), with the packaged prompts, 4 requests at a time, and no retry
    after a 5 s timeout (a test fails fast); `settings` add to or override these."""
    return {
        "kind": "llm",
        "engine": "openai",
        "model": model,
        "base_url": base_url,
        "api_key_env": key_env,
        "max_concurrency": 4,
        "request_timeout_s": 5,
        "max_retries": 0,
        "prompts_dir": None,
        **settings,
    }


def content_hash(body: dict) -> str:
    """The identity of a request by content: the body without transport-only fields."""
    keep = {k: v for k, v in body.items() if k not in ("stream", "user")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


def last_user_text(body: dict) -> str:
    if "messages" in body:
        users = [m["content"] for m in body["messages"] if m.get("role") == "user"]
        return users[-1] if users else ""
    return body.get("prompt", "")


@dataclass
class Fault:
    kind: str  # 429 | 500 | slow | malformed | drop
    match: str = ""  # substring of the serialized body; "" matches every request
    times: int = 1
    retry_after: float | None = None
    delay: float = 0.0


@dataclass(frozen=True)
class Hit:
    content: str
    outcome: str
    time: float
    text: str  # the last user message / prompt, for readable assertions


class FakeOpenAIServer:
    def __init__(self, responder: Callable[[dict], str] | None = None, delay: float = 0.0, port: int = 0):
        self.responder = responder or (lambda body: f"echo: {last_user_text(body)}")
        self.delay = delay
        self.faults: list[Fault] = []
        self.log: list[Hit] = []
        self.auth_headers: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests the server was handling at one time
        self.cached_tokens = 0
        self.rate_limit: tuple[int, float] | None = None
        self._window: list[float] = []
        self.over_limit = 0
        # Batch API state
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.batch_plan: list[dict] = []
        self.batch_delay = 0.0
        self.batch_submitted: Counter = Counter()
        self.batch_answered: list[str] = []
        self._lock = threading.Lock()
        # port 0: any free port; a given port lets a test bring a "dead" teacher's address to life
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------------------
    def add_fault(
        self, kind: str, match: str = "", times: int = 1, retry_after: float | None = None, delay: float = 0.0
    ) -> None:
        if kind not in ("429", "500", "slow", "malformed", "drop"):
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self.faults.append(Fault(kind, match, times, retry_after, delay))

    def ratelimit(self, limit: int, reset_s: float) -> None:
        """Answer at most `limit` requests per `reset_s` seconds, telling the client with headers."""
        self.rate_limit = (limit, reset_s)

    def _rate_headers(self) -> tuple[bool, dict]:
        """(allowed, headers) for one chat/completions request under `rate_limit`."""
        if self.rate_limit is None:
            return True, {}
        limit, reset_s = self.rate_limit
        now = time.time()
        with self._lock:
            self._window = [t for t in self._window if t > now - reset_s]
            allowed = len(self._window) < limit
            if allowed:
                self._window.append(now)
            else:
                self.over_limit += 1
            left = limit - len(self._window)
            reset = (self._window[0] + reset_s - now) if self._window else 0.0
        return allowed, {
            "x-ratelimit-limit-requests": str(limit),
            "x-ratelimit-remaining-requests": str(left),
            "x-ratelimit-reset-requests": f"{max(reset, 0.0):.3f}s",
        }

    def plan_batches(self, *plans: dict) -> None:
        with self._lock:
            self.batch_plan.extend(plans)

    def _take_fault(self, raw: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.times > 0 and f.match in raw:
                    f.times -= 1
                    return f
        return None

    def hits(self, outcome: str | None = None) -> list[Hit]:
        with self._lock:
            return [h for h in self.log if outcome is None or h.outcome == outcome]

    def _record(self, hit: Hit) -> None:
        with self._lock:
            self.log.append(hit)

    # -- HTTP --------------------------------------------------------------------------------
    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def _send_json(self, status: int, payload: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(payload)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self):
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._serve()
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def do_GET(self):
                server.auth_headers.append(self.headers.get("Authorization", ""))
                path = self.path.split("?", 1)[0]
                if path.startswith("/v1/files/") and path.endswith("/content"):
                    data = server.files.get(path.split("/")[3])
                    if data is None:
                        self._send_json(404, b'{"error": {"message": "no such file"}}')
                        return
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                elif path == "/v1/batches":
                    with server._lock:
                        data = [dict(b["public"]) for b in server.batches.values()][::-1]
                    self._send_json(
                        200,
                        json.dumps(
                            {
                                "object": "list",
                                "data": data,
                                "has_more": False,
                                "first_id": data[0]["id"] if data else None,
                                "last_id": data[-1]["id"] if data else None,
                            }
                        ).encode(),
                    )
                elif path == "/v1/models":  # what a served teacher's readiness check asks
                    self._send_json(200, b'{"object": "list", "data": [{"id": "fake-teacher", "object": "model"}]}')
                elif path.startswith("/v1/batches/"):
                    b = server._settle(path.split("/")[3])
                    if b is None:
                        self._send_json(404, b'{"error": {"message": "no such batch"}}')
                    else:
                        self._send_json(200, json.dumps(b).encode())
                else:
                    self._send_json(404, b'{"error": {"message": "no such route"}}')

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw_bytes = self.rfile.read(length)
                server.auth_headers.append(self.headers.get("Authorization", ""))
                if self.path == "/v1/files":
                    self._send_json(
                        200, json.dumps(server._upload(self.headers.get("Content-Type", ""), raw_bytes)).encode()
                    )
                    return
                if self.path == "/v1/batches":
                    self._send_json(200, json.dumps(server._create_batch(json.loads(raw_bytes))).encode())
                    return
                if self.path.startswith("/v1/batches/") and self.path.endswith("/cancel"):
                    b = server._cancel(self.path.split("/")[3])
                    self._send_json(
                        200 if b else 404, json.dumps(b or {"error": {"message": "no such batch"}}).encode()
                    )
                    return
                raw = raw_bytes.decode()
                if self.path not in ("/v1/chat/completions", "/v1/completions"):
                    self._send_json(404, b'{"error": {"message": "no such route"}}')
                    return
                allowed, rate_headers = server._rate_headers()
                if not allowed:
                    self._send_json(429, b'{"error": {"message": "rate limited", "type": "rate_limit"}}', rate_headers)
                    return
                body = json.loads(raw)
                key, text = content_hash(body), last_user_text(body)
                fault = server._take_fault(raw)
                if fault is not None:
                    server._record(Hit(key, fault.kind, time.time(), text))
                    self._fault(fault)
                    return
                if server.delay:
                    time.sleep(server.delay)
                reply = server.responder(body)
                payload = self._completion(body, reply)
                # Logged as answered before the bytes leave: a client killed right now may never
                # store this answer, which the kill test tolerates for in-flight requests only.
                server._record(Hit(key, "ok", time.time(), text))
                self._send_json(200, payload, rate_headers)

            def _fault(self, fault: Fault) -> None:
                if fault.kind == "429":
                    headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
                    self._send_json(429, b'{"error": {"message": "rate limited", "type": "rate_limit"}}', headers)
                elif fault.kind == "500":
                    self._send_json(500, b'{"error": {"message": "server exploded"}}')
                elif fault.kind == "malformed":
                    self._send_json(200, b'{"id": "x", "choices": [{"mess')
                elif fault.kind == "slow":
                    time.sleep(fault.delay)
                    self._send_json(200, self._completion({}, "too late"))
                elif fault.kind == "drop":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

            def _completion(self, body: dict, reply) -> bytes:
                return json.dumps(server.completion_object(body, reply, chat=self.path != "/v1/completions")).encode()

        return Handler

    # -- answers -----------------------------------------------------------------------------
    def completion_object(self, body: dict, reply, chat: bool = True) -> dict:
        reply, finish = reply if isinstance(reply, tuple) else (reply, "stop")
        prompt_tokens = len(json.dumps(body.get("messages", body.get("prompt", ""))).split())
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(reply.split()),
            "total_tokens": prompt_tokens + len(reply.split()),
            "prompt_tokens_details": {"cached_tokens": min(self.cached_tokens, prompt_tokens)},
        }
        if not chat:
            choice = {"index": 0, "text": reply, "finish_reason": finish, "logprobs": None}
            obj = "text_completion"
        else:
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": reply},
                "finish_reason": finish,
                "logprobs": None,
            }
            obj = "chat.completion"
        return {
            "id": "cmpl-fake",
            "object": obj,
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [choice],
            "usage": usage,
        }

    # -- the Batch API -----------------------------------------------------------------------
    def _new_file(self, data: bytes, filename: str, purpose: str) -> dict:
        with self._lock:
            fid = f"file-{len(self.files) + 1}"
            self.files[fid] = data
        return {
            "id": fid,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }

    def _upload(self, content_type: str, raw: bytes) -> dict:
        msg = email.parser.BytesParser().parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
        fields, data, filename = {}, b"", "upload.jsonl"
        for part in msg.get_payload():
            name = part.get_param("name", header="content-disposition")
            if part.get_filename():
                data, filename = part.get_payload(decode=True), part.get_filename()
            else:
                fields[name] = part.get_payload(decode=True).decode()
        return self._new_file(data, filename, fields.get("purpose", ""))

    def _create_batch(self, body: dict) -> dict:
        lines = [json.loads(x) for x in self.files[body["input_file_id"]].decode().splitlines() if x.strip()]
        with self._lock:
            bid = f"batch_{len(self.batches) + 1}"
            plan = self.batch_plan.pop(0) if self.batch_plan else {"kind": "complete"}
            for line in lines:
                self.batch_submitted[line["custom_id"]] += 1
            public = {
                "id": bid,
                "object": "batch",
                "endpoint": body["endpoint"],
                "input_file_id": body["input_file_id"],
                "completion_window": body.get("completion_window", "24h"),
                "status": "in_progress",
                "created_at": int(time.time()),
                "metadata": body.get("metadata"),
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            }
            self.batches[bid] = {"public": public, "lines": lines, "plan": plan, "t0": time.time()}
            return dict(public)

    def _settle(self, bid: str, cancel: bool = False) -> dict | None:
        with self._lock:
            b = self.batches.get(bid)
            if b is None:
                return None
            pub = b["public"]
            if pub["status"] != "in_progress" or (time.time() - b["t0"] < self.batch_delay and not cancel):
                return dict(pub)
            plan = dict(b["plan"])
            pub["status"] = "finalizing"  # settled once, even if two clients poll at once
            if cancel:
                plan = {"kind": "cancel", "answer": plan.get("answer", 0)}
        kind = plan["kind"]
        outputs, errors = [], []
        for n, line in enumerate(b["lines"]):
            cid = line["custom_id"]
            if kind == "failed":
                break
            if kind in ("expire", "cancel") and n >= plan.get("answer", 0):
                code = "batch_expired" if kind == "expire" else "batch_cancelled"
                errors.append(
                    {
                        "id": f"r{n}",
                        "custom_id": cid,
                        "response": None,
                        "error": {"code": code, "message": f"this request was not run ({code})"},
                    }
                )
            elif kind == "fail_lines" and plan.get("match", "\0") in json.dumps(line["body"]):
                errors.append(
                    {
                        "id": f"r{n}",
                        "custom_id": cid,
                        "error": None,
                        "response": {
                            "status_code": 500,
                            "request_id": f"q{n}",
                            "body": {"error": {"message": "server exploded"}},
                        },
                    }
                )
            else:
                reply = self.responder(line["body"])
                outputs.append(
                    {
                        "id": f"r{n}",
                        "custom_id": cid,
                        "error": None,
                        "response": {
                            "status_code": 200,
                            "request_id": f"q{n}",
                            "body": self.completion_object(
                                line["body"], reply, chat=line["url"].endswith("chat/completions")
                            ),
                        },
                    }
                )
        with self._lock:
            self.batch_answered.extend(o["custom_id"] for o in outputs)
            status = {
                "complete": "completed",
                "fail_lines": "completed",
                "expire": "expired",
                "cancel": "cancelled",
                "failed": "failed",
            }[kind]
            pub.update(
                status=status,
                request_counts={"total": len(b["lines"]), "completed": len(outputs), "failed": len(errors)},
            )
            if kind == "failed":
                pub["errors"] = {"object": "list", "data": [{"code": "invalid_request", "message": "bad input file"}]}
        if outputs:
            pub["output_file_id"] = self._new_file(
                "\n".join(json.dumps(o) for o in outputs).encode() + b"\n", "output.jsonl", "batch_output"
            )["id"]
        if errors:
            pub["error_file_id"] = self._new_file(
                "\n".join(json.dumps(e) for e in errors).encode() + b"\n", "errors.jsonl", "batch_output"
            )["id"]
        return dict(pub)

    def _cancel(self, bid: str) -> dict | None:
        return self._settle(bid, cancel=True)


def main(argv: list[str] | None = None) -> int:
    """A server of its own process: `python tests/fake_openai_server.py [--port P] [--log FILE]`
    (as a teacher.serve.command, the way a real server is started); it serves until SIGTERM and
    appends one line per request (outcome and content hash) to --log."""
    import argparse
    import signal
    import sys

    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
    a = ap.parse_args(argv)
    server = FakeOpenAIServer(port=a.port, delay=a.delay)
    if a.log:
        original = server._record

        def record(hit: Hit) -> None:
            original(hit)
            with open(a.log, "a") as f:
                f.write(f"{hit.outcome} {hit.content}\n")

        server._record = record
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with server:
        print(server.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
