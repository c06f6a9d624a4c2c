"""One interface for every engine: `generate(requests) -> completions`.

A request is either a chat (`messages`) or a raw `prompt`, with its sampling parameters. Engines
return one `Completion` per request *per sample* (`n`), in request order. Engines: `hf`
(transformers), `vllm` (offline LLM, on GPUs or CPUs, imported lazily), `openai` (any OpenAI-compatible
server). The built-in world's oracle is a Teacher, not an engine: it never generates free text.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


class EngineUnavailable(RuntimeError):
    """An engine cannot be built here (package missing, model directory absent, ...)."""


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.7
    top_p: float = 1.0
    max_new_tokens: int = 512
    n: int = 1
    stop: tuple[str, ...] = ()
    seed: int = 0

    def key(self) -> dict:
        """The fields that decide an answer: part of the request-cache key."""
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_new_tokens": self.max_new_tokens,
            "stop": list(self.stop),
            "seed": self.seed,
        }


@dataclass(frozen=True)
class Request:
    prompt: str | None = None
    messages: tuple[dict, ...] | None = None  # [{"role": ..., "content": ...}, ...]
    params: SamplingParams = field(default_factory=SamplingParams)

    def __post_init__(self):
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("a Request has exactly one of `prompt` or `messages`")


@dataclass(frozen=True)
class Completion:
    text: str | None
    finish_reason: str | None = None  # "stop" | "length" | "error"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None  # why text is None
    cached_tokens: int = 0  # prompt tokens the provider served from its prompt cache (cheaper)


class Engine(ABC):
    name: str = "engine"

    @abstractmethod
    def generate(self, requests: list[Request], progress: str | None = None) -> list[list[Completion]]:
        """For each request, `params.n` completions. `progress` names a progress bar, if any."""

    def close(self) -> None:
        pass
