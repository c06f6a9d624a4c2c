"""Student prompt templates: how a question becomes the text a student completes, where that
completion must stop, and what is cut from it afterwards.

`world` is short because the built-in student is tiny and every prompt token costs CPU time;
`alpaca` is the instruction/response layout the paper trains and evaluates with, ending
"Let's think step by step."; `chat` renders the question as one user turn through the student
tokenizer's own chat template (instruct models were tuned on it, and answer much worse without it).
The same template must be used for sampling, SFT and evaluation of one model, so it is a config
value (`prompt_template`), not a code choice.

The prompt is rendered here, as text, for every engine: `hf` and `vllm` receive the same text and
the same stop list, and the SFT set is built from the same text. A rendered chat template that
starts with the tokenizer's BOS loses it here when the tokenizer adds BOS itself on encoding
(otherwise the model would see two).

Stops, as in the paper: end of text (each engine's eos) and the start of a new instruction. Real
models also go on after their answer with an invented next problem ("### Response:" and a new
question, "Question: ..."); `cut_completion` removes that from any completion, whatever an engine's
stop handling missed, so it never reaches grading, the judges or an SFT set.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

TEMPLATES = {
    "world": "Question: {question}\nAnswer: Let's think step by step.\n",
    "alpaca": (
        "Below is an instruction that describes a task. "
        "Write a response that appropriately completes the request.\n\n"
        "### Instruction:\n{question}\n\n### Response: Let's think step by step.\n"
    ),
}
TEMPLATE_NAMES = ("world", "alpaca", "chat")
ALPACA_PREAMBLE = "Below is an instruction that describes a task"

# Where a completion should stop: the start of a new question, instruction or response header.
STOP_STRINGS = {
    "world": ("\nQuestion:",),
    "alpaca": ("### Instruction", "### Response", "Instruction:", ALPACA_PREAMBLE, "\n\n\n"),
}

# A line that opens a new task: a markdown/bold header or a plain label naming an instruction,
# response, question or problem (optionally numbered), or the alpaca preamble. Whatever follows
# was not asked for. Matched at the start of a line only, so "the problem: ..." inside a sentence
# stays.
_HEADER = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*|\*\*[ \t]*)?"
    r"(?:(?:new[ \t]+|next[ \t]+|another[ \t]+)?(?:instruction|response|question|problem|exercise)"
    r"(?:[ \t]*\d+)?[ \t]*(?:\*\*)?[ \t]*:"
    r"|" + re.escape(ALPACA_PREAMBLE) + r")",
    re.IGNORECASE | re.MULTILINE,
)


def cut_completion(text: str, stops: tuple[str, ...] = ()) -> tuple[str, bool]:
    """`text` up to the earliest stop string or invented-task header; whether anything was cut.
    Trailing whitespace before the cut goes too."""
    ends = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    m = _HEADER.search(text)
    if m:
        ends.append(m.start())
    if not ends:
        return text, False
    return text[: min(ends)].rstrip(), True


def _chat_stops(tokenizer) -> tuple[str, ...]:
    """The text that opens a new user turn in this chat template (after the end of an assistant
    turn): a model that writes it is inventing the next question."""
    a, b, c = "\x00A\x00", "\x00B\x00", "\x00C\x00"
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": a}, {"role": "assistant", "content": b}, {"role": "user", "content": c}],
        tokenize=False,
    )
    between = text[text.index(b) + len(b) : text.index(c)] if b in text and c in text else ""
    eos = tokenizer.eos_token or ""
    if eos and between.lstrip().startswith(eos):  # the end of turn is eos: every engine stops there
        between = between.lstrip()[len(eos) :]
    between = between.strip()
    return (between,) if between else ()


@dataclass(frozen=True)
class PromptFormat:
    """One prompt template, ready to render: its name, and for `chat` the tokenizer whose chat
    template renders it (loaded from `tokenizer_dir`)."""

    template: str
    tokenizer_dir: str | None = None
    _tokenizer: object = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, spec) -> PromptFormat:
        """From the rules' `template` param: a template name, or {"name": "chat", "tokenizer": dir}."""
        if isinstance(spec, PromptFormat):
            return spec
        if isinstance(spec, dict):
            return _load_cached(spec["name"], spec.get("tokenizer"))
        return _load_cached(spec, None)

    @classmethod
    def load(cls, template: str, tokenizer_dir: str | None = None, tokenizer=None) -> PromptFormat:
        if template not in TEMPLATE_NAMES:
            raise ValueError(f"unknown prompt template {template!r}; expected one of {list(TEMPLATE_NAMES)}")
        if template != "chat":
            return cls(template)
        if tokenizer is None:
            if not tokenizer_dir:
                raise ValueError("prompt template 'chat' needs the student's tokenizer directory")
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir, local_files_only=True)
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError(f"prompt template 'chat': the tokenizer in {tokenizer_dir!r} has no chat template")
        return cls("chat", None if tokenizer_dir is None else str(tokenizer_dir), tokenizer)

    # -- rendering -------------------------------------------------------------------------------
    def _render_chat(self, messages: list[dict]) -> str:
        tok = self._tokenizer
        text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        bos = tok.bos_token
        if bos and text.startswith(bos) and tok.bos_token_id in tok("", add_special_tokens=True)["input_ids"]:
            text = text[len(bos) :]  # the tokenizer writes it again when the prompt is encoded
        return text

    def prompt(self, question: str) -> str:
        if self.template == "chat":
            return self._render_chat([{"role": "user", "content": question.strip()}])
        return TEMPLATES[self.template].format(question=question.strip())

    def fewshot(self, question: str, shots: list[dict], separator: str = "\n\n") -> str:
        """`shots` (question/solution pairs) solved, then `question`: earlier turns of the chat
        for `chat`, blocks of the template joined by `separator` otherwise."""
        for i, shot in enumerate(shots):
            missing = [key for key in ("question", "solution") if not str(shot.get(key) or "").strip()]
            if missing:
                raise ValueError(f"exemplar {i + 1} has no {' or '.join(missing)}")
        if self.template == "chat":
            messages = []
            for shot in shots:
                messages += [
                    {"role": "user", "content": shot["question"].strip()},
                    {"role": "assistant", "content": shot["solution"].strip()},
                ]
            return self._render_chat(messages + [{"role": "user", "content": question.strip()}])
        blocks = [self.prompt(s["question"]) + s["solution"].strip() + separator for s in shots]
        return "".join(blocks) + self.prompt(question)

    @property
    def stops(self) -> tuple[str, ...]:
        if self.template == "chat":
            return _chat_stops(self._tokenizer)
        return STOP_STRINGS[self.template]

    def clean(self, text: str) -> tuple[str, bool]:
        """A completion without what follows a stop string or an invented new task."""
        return cut_completion(text, self.stops)


@functools.lru_cache(maxsize=8)
def _load_cached(template: str, tokenizer_dir: str | None) -> PromptFormat:
    return PromptFormat.load(template, tokenizer_dir)


def format_prompt(question: str, template="world") -> str:
    """The prompt for `question`; `template` is a name, a rules' spec or a PromptFormat."""
    return PromptFormat.of(template).prompt(question)


def has_chat_template(model_dir: str | Path) -> bool:
    """Whether a local model directory's tokenizer carries a chat template (checked without
    loading it: the config check runs before any job)."""
    d = Path(model_dir)
    if (d / "chat_template.jinja").is_file() or (d / "chat_template.json").is_file():
        return True
    cfg = d / "tokenizer_config.json"
    if cfg.is_file():
        try:
            return bool(json.loads(cfg.read_text()).get("chat_template"))
        except ValueError:
            return False
    return False
