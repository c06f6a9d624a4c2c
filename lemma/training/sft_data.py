"""SFT examples -> token ids with the loss on response tokens only; padding or packing collators.

An example is {"prompt": str, "response": str}. The prompt is tokenised with the tokenizer's own
special tokens (a BOS for Llama-style tokenizers), the response without, and EOS is appended to the
response so the model learns to stop. Prompt and response are tokenised separately, as at
generation time the prompt is tokenised alone; so the ids the model is trained on are the ids it
will be conditioned on when sampling. Labels are -100 over the prompt, the ids over the response.

Packing is padding-free flattening (transformers' `DataCollatorWithFlattening`): the examples of a
micro-batch are laid end to end in one row, `position_ids` restart at 0 for every example and the
first label of every example is -100, so each example keeps exactly its own masking. There is no
attention mask: transformers derives a block-diagonal causal mask from the restarting position ids
(eager and SDPA) or passes sequence boundaries to FlashAttention, so tokens never attend across
example boundaries (tests check that packed logits equal unpacked ones). Because a micro-batch
still holds the same examples, a packed run takes the same number of optimizer steps over the same
examples as an unpacked one; only the padding disappears.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import DataCollatorForSeq2Seq, DataCollatorWithFlattening, PreTrainedTokenizerBase

from lemma.tables.jsonl import iter_jsonl

log = logging.getLogger(__name__)

IGNORE_INDEX = -100


def load_sft_jsonl(path: str | Path) -> list[dict]:
    """Read SFT rows ({"prompt", "response"} strings); errors name the file, line and field."""
    rows = []
    for where, row in iter_jsonl(path):
        check_example(row, where)
        rows.append({"prompt": row["prompt"], "response": row["response"]})
    if not rows:
        raise ValueError(f"{path}: no SFT rows")
    return rows


def check_example(row: object, where: str) -> None:
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected an object with 'prompt' and 'response', got {type(row).__name__}")
    for key in ("prompt", "response"):
        if not isinstance(row.get(key), str):
            raise ValueError(f"{where}: field {key!r} must be a string, got {row.get(key)!r:.60}")
    if not row["response"].strip():
        raise ValueError(f"{where}: field 'response' is empty")


@dataclass
class TokenizedSFT(torch.utils.data.Dataset):
    """Tokenised examples; items are {"input_ids", "labels"} lists, as the collators expect."""

    items: list[dict]
    truncated: int = 0  # examples whose response was cut at cutoff_len
    dropped: int = 0  # examples whose prompt alone filled cutoff_len
    lengths: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]

    @property
    def n_tokens(self) -> int:
        return sum(self.lengths)

    @property
    def n_response_tokens(self) -> int:
        return sum(sum(1 for t in it["labels"] if t != IGNORE_INDEX) for it in self.items)


def tokenize_examples(
    examples: Sequence[dict], tokenizer: PreTrainedTokenizerBase, cutoff_len: int = 4096
) -> TokenizedSFT:
    """Tokenise and mask; responses longer than the room left after the prompt are cut (EOS kept
    only when the whole response fits), examples whose prompt leaves no room are dropped."""
    if tokenizer.eos_token_id is None:
        raise ValueError("tokenizer has no eos_token: cannot mark where a response ends")
    items, lengths, truncated, dropped = [], [], 0, 0
    for i, ex in enumerate(examples):
        check_example(ex, f"example {i}")
        prompt_ids = tokenizer(ex["prompt"], add_special_tokens=True)["input_ids"]
        response_ids = tokenizer(ex["response"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        room = cutoff_len - len(prompt_ids)
        if room <= 0:
            dropped += 1
            continue
        if len(response_ids) > room:
            truncated += 1
            response_ids = response_ids[:room]
        ids = prompt_ids + response_ids
        items.append({"input_ids": ids, "labels": [IGNORE_INDEX] * len(prompt_ids) + response_ids})
        lengths.append(len(ids))
    if truncated or dropped:
        log.warning(
            "cutoff_len=%d: %d responses truncated, %d examples dropped (prompt too long) of %d",
            cutoff_len,
            truncated,
            dropped,
            len(examples),
        )
    if not items:
        raise ValueError(f"no example fits cutoff_len={cutoff_len}")
    return TokenizedSFT(items=items, truncated=truncated, dropped=dropped, lengths=lengths)


def make_collator(tokenizer: PreTrainedTokenizerBase, packing: bool):
    """Padding collator (labels padded with -100, attention mask) or the padding-free flattener."""
    if packing:
        return DataCollatorWithFlattening(return_position_ids=True, separator_id=IGNORE_INDEX)
    if tokenizer.pad_token_id is None:
        raise ValueError("tokenizer has no pad_token: set one (e.g. the eos token) or use packing")
    return DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=IGNORE_INDEX, return_tensors="pt")


def iter_token_counts(batches: Iterable[dict]) -> tuple[int, int]:
    """(real tokens, tokens including padding) over collated batches: for throughput accounting."""
    real = total = 0
    for b in batches:
        total += b["input_ids"].numel()
        real += int(b["attention_mask"].sum()) if "attention_mask" in b else b["input_ids"].numel()
    return real, total
