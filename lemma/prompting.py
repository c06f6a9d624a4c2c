"""Student prompt templates: how a question becomes the text a student completes.

`world` is short because the built-in student is tiny and every prompt token costs CPU time;
`alpaca` is the instruction/response layout the paper trains and evaluates with, ending
"Let's think step by step." The same template must be used for sampling, SFT and evaluation of
one model, so it is a config value (`prompt_template`), not a code choice.
"""

from __future__ import annotations

TEMPLATES = {
    "world": "Question: {question}\nAnswer: Let's think step by step.\n",
    "alpaca": (
        "Below is an instruction that describes a task. "
        "Write a response that appropriately completes the request.\n\n"
        "### Instruction:\n{question}\n\n### Response: Let's think step by step.\n"
    ),
}

# Where a completion should stop: the start of a new question in either layout.
STOP_STRINGS = {
    "world": ("\nQuestion:",),
    "alpaca": ("### Instruction", "\n\n\n"),
}


def format_prompt(question: str, template: str = "world") -> str:
    try:
        return TEMPLATES[template].format(question=question.strip())
    except KeyError:
        raise ValueError(f"unknown prompt template {template!r}; expected one of {sorted(TEMPLATES)}") from None
