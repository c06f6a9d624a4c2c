"""Tiny real HF model directories built inside a test (no download, a second or two on a CPU).

A Llama with a few thousand parameters and a byte-level BPE tokenizer trained here
(lemma.world.tokenizer), saved with save_pretrained: every engine, config check and trainer reads
it like any local model directory. Its weights are random, so what it writes is noise; tests use
it for plumbing (a config that must point at a real model directory, a dry run, a stage that
needs a student), never for what a model says.
"""

from __future__ import annotations

from pathlib import Path

# A chat template of our own, in the common shape (a turn marker, the role, the text, the end of
# turn = the tokenizer's eos). It starts with bos_token on purpose: many real templates do
# (Llama 3), while the tokenizer adds BOS itself too, the case where a rendered prompt must not
# get a second BOS.
TINY_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|turn|>{{ m['role'] }}\n{{ m['content'] }}{{ eos_token }}\n"
    "{% endfor %}{% if add_generation_prompt %}<|turn|>assistant\n{% endif %}"
)

_TEXTS = [
    "Tom reads 12 pages every day. How many pages does he read in 3 weeks?",
    "He reads 12 * 21 = 252 pages.\nThe answer is: 252",
    "Below is an instruction that describes a task. ### Instruction: ### Response: Let's think step by step.",
    "<|turn|>user\n<|turn|>assistant\nQuestion: Answer: The answer is",
]


def build_tiny_llama(out_dir: str | Path, chat_template: str | None = None, seed: int = 0) -> Path:
    """Save a random tiny Llama and its tokenizer (with `chat_template` if given) to `out_dir`."""
    from lemma.world.student import build_student
    from lemma.world.tokenizer import train_tokenizer

    out = Path(out_dir)
    tok = train_tokenizer(_TEXTS * 4, str(out), vocab_size=300)
    if chat_template is not None:
        tok.chat_template = chat_template
        tok.save_pretrained(out)
    model = build_student(tok, hidden=32, layers=1, heads=2, max_positions=1024, seed=seed)
    model.save_pretrained(out)
    return out
