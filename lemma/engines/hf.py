"""The `hf` engine: batched generation with transformers, on CPU or GPU, from a local directory.

How requests become model rows:
- a `prompt` request is tokenised as is (with the tokenizer's own special tokens, e.g. BOS);
- a `messages` request is rendered with the tokenizer's chat template when it has one, else with
  a plain role-prefixed layout (`render_plain_chat`): one "Role: content" line per message and a
  final "Assistant:" for the model to continue.
- sampled requests (temperature > 0) become `n` rows each; greedy requests become one row whose
  completion is repeated `n` times (greedy samples are identical by definition).

Rows with the same sampling settings are sorted by prompt length and cut into batches of
`batch_size` rows (less padding), generated with left padding and the KV cache, then put back in
request order. Each batch seeds torch from `params.seed` and its batch index, so a fixed config
gives the same completions on the same machine.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from lemma.engines.base import Completion, Engine, EngineUnavailable, Request, SamplingParams

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def render_plain_chat(messages) -> str:
    """Chat rendering for tokenizers without a chat template (documented layout, see module doc)."""
    lines = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    return "\n".join(lines) + "\nAssistant:"


def render_request(tokenizer, request: Request) -> tuple[str, bool]:
    """The text a request puts before the completion, and whether to add the tokenizer's special
    tokens when encoding it (a chat template already writes its own BOS, so no)."""
    if request.prompt is not None:
        return request.prompt, True
    messages = [dict(m) for m in request.messages]
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return text, False
    return render_plain_chat(messages), True


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """Text before the earliest stop string, and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def _batch_seed(seed: int, batch_index: int) -> int:
    # Mix the two so that neighbouring seeds do not share batches' streams.
    return (seed * 1_000_003 + batch_index) % (2**63 - 1)


class HFEngine(Engine):
    name = "hf"

    def __init__(
        self,
        model_path: str,
        *,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 64,
        threads: int | None = None,
    ):
        from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

        path = Path(model_path)
        if not (path / "config.json").is_file():
            raise EngineUnavailable(
                f"engine 'hf': {model_path!r} is not a model directory (no config.json); expected a "
                "model saved with save_pretrained"
            )
        if batch_size < 1:
            raise ValueError(f"engine 'hf': batch_size must be >= 1, got {batch_size}")
        if threads is not None:
            torch.set_num_threads(threads)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if dtype != "auto" and dtype not in _DTYPES:
            raise ValueError(f"engine 'hf': dtype {dtype!r}; expected auto or one of {sorted(_DTYPES)}")
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.model_path = str(path)

        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.tokenizer.padding_side = "left"  # decoder-only: new tokens must follow the prompt directly
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=_DTYPES.get(dtype, "auto"))
        if self.device.type == "cpu" and model.dtype == torch.float16:
            model = model.float()  # half precision matmuls are slow or missing on CPU
        self.model = model.to(self.device).eval()
        # Sampling is decided by SamplingParams alone (they are the request-cache key), so drop
        # the sampling defaults a checkpoint may ship (temperature, top_p, repetition_penalty,
        # ...), which generate() would otherwise merge into every call; keep its special tokens.
        shipped = self.model.generation_config
        self.model.generation_config = GenerationConfig(
            bos_token_id=shipped.bos_token_id,
            eos_token_id=shipped.eos_token_id,
            pad_token_id=shipped.pad_token_id,
        )

        self.eos_ids = self._eos_ids()
        if self.tokenizer.pad_token_id is None:
            if not self.eos_ids:
                raise EngineUnavailable(f"engine 'hf': the tokenizer in {model_path!r} has neither pad nor eos token")
            self.tokenizer.pad_token_id = self.eos_ids[0]
        self.pad_id = self.tokenizer.pad_token_id

    def _eos_ids(self) -> list[int]:
        ids = []
        for source in (self.model.generation_config.eos_token_id, self.tokenizer.eos_token_id):
            if source is None:
                continue
            for i in source if isinstance(source, (list, tuple)) else [source]:
                if i not in ids:
                    ids.append(int(i))
        return ids

    # ------------------------------------------------------------------ generation

    def generate(self, requests: list[Request], progress: str | None = None) -> list[list[Completion]]:
        encoded = []
        for request in requests:
            text, special = render_request(self.tokenizer, request)
            encoded.append(self.tokenizer(text, add_special_tokens=special)["input_ids"])

        # Rows: (request index, token ids). Group rows by everything that sampling depends on
        # except n, since one generate call takes one set of settings.
        groups: dict[SamplingParams, list[tuple[int, list[int]]]] = {}
        for i, (request, ids) in enumerate(zip(requests, encoded)):
            params = request.params
            copies = params.n if params.temperature > 0 else 1
            groups.setdefault(replace(params, n=1), []).extend((i, ids) for _ in range(copies))

        plan = []  # (params, batch index within its group, rows)
        for params, rows in groups.items():
            rows.sort(key=lambda row: len(row[1]))  # stable: ties keep request order
            for b, start in enumerate(range(0, len(rows), self.batch_size)):
                plan.append((params, b, rows[start : start + self.batch_size]))

        results: list[list[Completion]] = [[] for _ in requests]
        reporter = _Progress(progress, len(plan))
        for params, batch_index, rows in plan:
            completions = self._generate_batch(params, batch_index, [ids for _, ids in rows])
            for (i, _), completion in zip(rows, completions):
                results[i].append(completion)
            reporter.step(len(rows))
        reporter.close()

        for request, completions in zip(requests, results):
            if request.params.temperature <= 0 and request.params.n > 1:
                completions.extend(completions[0] for _ in range(request.params.n - 1))
        return results

    @torch.inference_mode()
    def _generate_batch(self, params: SamplingParams, batch_index: int, rows: list[list[int]]) -> list[Completion]:
        from transformers import GenerationConfig

        batch = self.tokenizer.pad({"input_ids": rows}, return_tensors="pt").to(self.device)
        sampling = params.temperature > 0
        # top_k=0 turns off the library's default top-k of 50: the paper samples with top_p only
        knobs = {"temperature": params.temperature, "top_p": params.top_p, "top_k": 0} if sampling else {}
        config = GenerationConfig(
            max_new_tokens=params.max_new_tokens,
            do_sample=sampling,
            eos_token_id=self.eos_ids or None,
            pad_token_id=self.pad_id,
            stop_strings=list(params.stop) or None,
            **knobs,
        )
        torch.manual_seed(_batch_seed(params.seed, batch_index))
        out = self.model.generate(**batch, generation_config=config, tokenizer=self.tokenizer)
        new_tokens = out[:, batch["input_ids"].shape[1] :].tolist()
        return [self._completion(len(prompt), ids, params) for prompt, ids in zip(rows, new_tokens)]

    def _completion(self, prompt_len: int, ids: list[int], params: SamplingParams) -> Completion:
        # A finished row is filled with pad up to the batch's longest row; when pad is also eos the
        # first "eos" after a stop string is filler, not a generated token.
        end = next((k for k, t in enumerate(ids) if t in self.eos_ids or t == self.pad_id), len(ids))
        text = self.tokenizer.decode(ids[:end], skip_special_tokens=True)
        text, stopped_by_string = cut_at_stop(text, params.stop)
        ended_by_eos = end < len(ids) and ids[end] in self.eos_ids and not stopped_by_string
        n_generated = end + 1 if ended_by_eos else end
        finish = "stop" if (stopped_by_string or ended_by_eos or end < params.max_new_tokens) else "length"
        return Completion(text=text, finish_reason=finish, prompt_tokens=prompt_len, completion_tokens=n_generated)


class _Progress:
    """A tqdm bar on a terminal; one plain line per batch otherwise (logs, SLURM output files),
    where a carriage-return bar would write one unreadable line."""

    def __init__(self, name: str | None, total: int):
        self.name, self.total, self.done, self.start = name, total, 0, time.monotonic()
        self.bar = None
        if name is not None and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=name, unit="batch")

    def step(self, rows: int) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.name is not None:
            elapsed = time.monotonic() - self.start
            print(
                f"{self.name}: batch {self.done}/{self.total} ({rows} rows), {elapsed:.1f}s",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
