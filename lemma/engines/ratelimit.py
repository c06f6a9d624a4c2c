"""Provider rate limits for the openai engine: requests and tokens per minute, and the server's own
`x-ratelimit-*` headers.

Why not only retry on 429: at the paper's scale (hundreds of thousands of calls) a client that
runs into the limit spends most of its time backing off, and a 429 storm can trip a provider's
abuse guard. So the engine paces itself below the configured limits, and when a server says how
much is left (OpenAI, Azure, Groq, Together, ... send `x-ratelimit-remaining-requests`,
`x-ratelimit-remaining-tokens` and `x-ratelimit-reset-requests` / `-tokens`), it waits for the
reset instead of sending into an empty quota. 429s that still happen are retried by the engine.

* requests per minute: sends are spaced at least window/rpm apart (no bursts), so every stretch of
  a second holds at most ceil(rpm/60) + 1 sends and every minute at most rpm + 1;
* tokens per minute: a sliding window of (time, tokens) over the last minute; a request is
  counted as its prompt tokens plus its completion limit (`max_tokens`), which is what OpenAI
  counts against the limit when the request arrives; one request larger than the whole limit is
  sent alone once the window is empty;
* headers: `remaining` of 0 (requests) or below the next request's tokens pauses every sender
  until the matching reset time has passed.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_reset(value: str | None) -> float | None:
    """Seconds from a reset header: "1s", "6m0s", "20ms", "1h2m3.5s", or a plain number of seconds."""
    if value is None:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parts = _DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value.replace(" ", ""):
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * scale[u] for n, u in parts)


def _int_header(headers, name: str) -> int | None:
    value = headers.get(name) if headers is not None else None
    try:
        return None if value is None else int(float(value))
    except ValueError:
        return None


class RateLimiter:
    """Shared by every concurrent request of one engine (one asyncio loop)."""

    def __init__(
        self,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        *,
        window_s: float = 60.0,
        clock=time.monotonic,
        sleep=asyncio.sleep,
    ):
        if requests_per_minute is not None and requests_per_minute <= 0:
            raise ValueError("requests_per_minute must be > 0")
        if tokens_per_minute is not None and tokens_per_minute <= 0:
            raise ValueError("tokens_per_minute must be > 0")
        self.rpm, self.tpm, self.window_s = requests_per_minute, tokens_per_minute, window_s
        self._clock, self._sleep = clock, sleep
        self._next_send = 0.0
        self._tokens: deque[tuple[float, int]] = deque()
        self._pause_until = 0.0
        self._header_tokens_left: int | None = None
        self._tokens_reset_at = 0.0
        self._lock: asyncio.Lock | None = None
        self.waited_s = 0.0  # total time spent waiting, for the log

    async def acquire(self, tokens: int = 0) -> None:
        """Wait until one request of `tokens` tokens may be sent, then count it as sent."""
        if self._lock is None:
            self._lock = asyncio.Lock()  # created in the loop that uses it
        async with self._lock:  # one sender decides at a time, in arrival order
            while True:
                wait = self._wait_needed(tokens)
                if wait <= 0:
                    break
                self.waited_s += wait
                await self._sleep(wait)
            now = self._clock()
            if self.rpm:
                self._next_send = max(now, self._next_send) + self.window_s / self.rpm
            if self.tpm:
                self._tokens.append((now, tokens))
            if self._header_tokens_left is not None:
                self._header_tokens_left -= tokens

    def _wait_needed(self, tokens: int) -> float:
        now = self._clock()
        wait = max(0.0, self._pause_until - now)
        if self._header_tokens_left is not None:
            if now >= self._tokens_reset_at:
                self._header_tokens_left = None  # the server's token quota has been refilled
            elif tokens > self._header_tokens_left:
                wait = max(wait, self._tokens_reset_at - now)
        if self.rpm:
            wait = max(wait, self._next_send - now)
        if self.tpm:
            while self._tokens and self._tokens[0][0] <= now - self.window_s:
                self._tokens.popleft()
            used = sum(t for _, t in self._tokens)
            if self._tokens and used + tokens > self.tpm:
                # wait until enough of the oldest sends leave the window
                need, freed = used + tokens - self.tpm, 0
                for t0, n in self._tokens:
                    freed += n
                    if freed >= need:
                        wait = max(wait, t0 + self.window_s - now)
                        break
                else:  # larger than the whole limit: alone, once the window is empty
                    wait = max(wait, self._tokens[-1][0] + self.window_s - now)
        return wait

    def observe(self, headers) -> None:
        """Read a response's `x-ratelimit-*` headers (any response, errors included)."""
        if headers is None:
            return
        now = self._clock()
        left_requests = _int_header(headers, "x-ratelimit-remaining-requests")
        if left_requests is not None and left_requests <= 0:
            reset = parse_reset(headers.get("x-ratelimit-reset-requests"))
            self._pause_until = max(self._pause_until, now + (reset if reset is not None else 1.0))
        left_tokens = _int_header(headers, "x-ratelimit-remaining-tokens")
        if left_tokens is not None:
            reset = parse_reset(headers.get("x-ratelimit-reset-tokens"))
            self._header_tokens_left = left_tokens
            self._tokens_reset_at = now + (reset if reset is not None else 1.0)
