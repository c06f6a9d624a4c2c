"""The built-in world's solution format: one `Step k: a op b = c` line per step, then
`The answer is: N`.

Writing and reading that format live together here, so the generator's reference solutions and
every text the oracle writes come from `solution_text`, and the oracle and the tests read
solutions back with the same `parse_line`. The answer line itself is the project's one answer
statement, written and read by `lemma.grading.extract` (`answer_statement`,
`answer_of_statement_line`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lemma.grading.statement import answer_of_statement_line, answer_statement

OPS = ("+", "-", "*", "/")

# A step: optional "Step k:" label, then "a op b = c". Numbers may carry thousands commas and a
# sign; "x", "×" and "÷" are read as * and / because LLM teachers and students write them.
_NUM = r"-?\d[\d,]*"
_STEP_RE = re.compile(
    rf"^(?:step\s*(\d+)\s*[:.)]\s*)?({_NUM})\s*([-+*/x×÷])\s*({_NUM})\s*=\s*({_NUM})\s*\.?$",
    re.IGNORECASE,
)
# The world's answer is an integer, "$" allowed before it.
_ANSWER_VALUE_RE = re.compile(rf"\$?({_NUM})")
_LABEL_RE = re.compile(r"^step\s*(\d+)\s*[:.)]\s*", re.IGNORECASE)
_OP_ALIASES = {"x": "*", "X": "*", "×": "*", "÷": "/"}


@dataclass(frozen=True)
class StepLine:
    a: int
    op: str
    b: int
    c: int
    label: int | None = None  # the "Step k" number as written, if any


@dataclass(frozen=True)
class AnswerLine:
    value: int


def apply_op(op: str, a: int, b: int) -> int | None:
    """a op b over the integers; None where division is not exact (the world never needs it)."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0 or a % b:
            return None
        return a // b
    raise ValueError(f"unknown operator {op!r}; expected one of {OPS}")


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def parse_line(line: str) -> StepLine | AnswerLine | None:
    """One line of a world solution, or None when it is neither a step nor an answer."""
    line = line.strip()
    m = _STEP_RE.match(line)
    if m:
        label, a, op, b, c = m.groups()
        return StepLine(_int(a), _OP_ALIASES.get(op, op), _int(b), _int(c), int(label) if label else None)
    answer = answer_of_statement_line(line)
    m = None if answer is None else _ANSWER_VALUE_RE.fullmatch(answer)
    if m:
        return AnswerLine(_int(m.group(1)))
    return None


def step_label(line: str) -> int | None:
    """The "Step k" number a line starts with, if any (also for lines that do not parse)."""
    m = _LABEL_RE.match(line.strip())
    return int(m.group(1)) if m else None


def strip_label(line: str) -> str:
    return _LABEL_RE.sub("", line.strip(), count=1)


def format_step(k: int, a: int, op: str, b: int, c: int) -> str:
    return f"Step {k}: {a} {op} {b} = {c}"


def format_answer(value: int) -> str:
    return answer_statement(value)


def solution_text(steps: Iterable[tuple[int, str, int, int]], answer: int, start: int = 1) -> str:
    """The one writer of world solutions: `steps` are (a, op, b, c) tuples numbered from `start`."""
    lines = [format_step(k, a, op, b, c) for k, (a, op, b, c) in enumerate(steps, start)]
    lines.append(format_answer(answer))
    return "\n".join(lines)


def final_answer(text: str) -> int | None:
    """The value of the last "The answer is" line of a solution, if any."""
    value = None
    for line in text.splitlines():
        parsed = parse_line(line)
        if isinstance(parsed, AnswerLine):
            value = parsed.value
    return value
