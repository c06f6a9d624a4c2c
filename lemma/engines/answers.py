"""The parts of an OpenAI-compatible answer that the live engine (openai_engine.py) and the Batch
API runner (batch.py) both read: a completion from an answer object, what makes a well-formed
answer a failure, and running the engine's coroutines from synchronous code. Both import it; neither
imports the other for it."""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass

from lemma.engines.base import Completion


class MalformedResponse(ValueError):
    """Valid JSON that is not a completion (a proxy's error page, a truncated object)."""


@dataclass(frozen=True)
class Failure:
    code: str
    detail: str
    retryable: bool
    retry_after: float | None = None


def completion_from(r, chat: bool) -> Completion:
    """A Completion from a chat or text completion object (a live answer or a batch output line)."""
    choice = first_choice(r)
    if chat:
        text = getattr(getattr(choice, "message", None), "content", None)
    else:
        text = getattr(choice, "text", None)
    usage = getattr(r, "usage", None)
    details = getattr(usage, "prompt_tokens_details", None)
    return Completion(
        text=text,
        finish_reason=getattr(choice, "finish_reason", None),
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cached_tokens=int(getattr(details, "cached_tokens", 0) or 0),
    )


def first_choice(r):
    choices = getattr(r, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise MalformedResponse(f"answer without choices: {str(r)[:200]}")
    return choices[0]


def check_answer(comp: Completion) -> Failure | None:
    """A well-formed HTTP answer that still carries no text."""
    if comp.text is not None:
        return None
    if comp.finish_reason == "content_filter":
        return Failure("content_filter", "the server filtered the answer", False)
    return Failure("empty_response", f"no text in the answer (finish_reason={comp.finish_reason})", False)


def run_coroutine(coro):
    """asyncio.run, also when the caller already runs an event loop (a notebook): then in a
    worker thread with its own loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
