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
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


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

    def start(self) -> "FakeOpenAIServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------------------
    def add_fault(self, kind: str, match: str = "", times: int = 1, retry_after: float | None = None,
                  delay: float = 0.0) -> None:
        if kind not in ("429", "500", "slow", "malformed", "drop"):
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self.faults.append(Fault(kind, match, times, retry_after, delay))

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

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                server.auth_headers.append(self.headers.get("Authorization", ""))
                if self.path not in ("/v1/chat/completions", "/v1/completions"):
                    self._send_json(404, b'{"error": {"message": "no such route"}}')
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
                self._send_json(200, payload)

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
                reply, finish = reply if isinstance(reply, tuple) else (reply, "stop")
                prompt_tokens = len(json.dumps(body.get("messages", body.get("prompt", ""))).split())
                usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(reply.split()),
                         "total_tokens": prompt_tokens + len(reply.split())}
                if self.path == "/v1/completions":
                    choice = {"index": 0, "text": reply, "finish_reason": finish, "logprobs": None}
                    obj = "text_completion"
                else:
                    choice = {"index": 0, "message": {"role": "assistant", "content": reply},
                              "finish_reason": finish, "logprobs": None}
                    obj = "chat.completion"
                return json.dumps({"id": "cmpl-fake", "object": obj, "created": int(time.time()),
                                   "model": body.get("model", "fake"), "choices": [choice],
                                   "usage": usage}).encode()

        return Handler


if __name__ == "__main__":  # a manual server: python tests/fake_openai_server.py
    with FakeOpenAIServer() as s:
        print(s.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
