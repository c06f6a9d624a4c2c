"""The answer grader: is a completion's final answer equal to the reference?

    grade(completion, gold, style="gsm8k", timeout=10.0, require_marker=False) -> Grade(pred_answer, correct, status)
    grade_many(pairs, style=..., timeout=..., workers=None) -> list[Grade]
    extract_answer(completion, style) -> str | None
    find_answer(completion, style) -> Answer(text, start, answer_start, end, rule) | None

`status` is "ok", "no_answer" (no answer could be found), "timeout" (the comparison ran past its
hard time limit; not a wrong answer) or "error" (input over the size bounds, an answer too costly
to evaluate, or a reference that cannot be read). Modules: `extract` (finding the answer, in a
documented order; `unmarked` for completions without a marker), `several` (answers in several
parts: runs of boxes, lists, sets, named values), `normalize` (string forms and exact rationals), `guard` (bounds before sympy),
`equivalence` (fast rules, then math-verify with exact checks), `pool` (worker processes with hard
timeouts), `styles` (per-dataset settings).
"""

from lemma.grading.extract import Answer, extract_answer, find_answer, reference_answer
from lemma.grading.grader import (
    DEFAULT_TIMEOUT_S,
    MAX_ANSWER_CHARS,
    MAX_COMPLETION_CHARS,
    MAX_GOLD_CHARS,
    STATUSES,
    Grade,
    grade,
    grade_many,
)
from lemma.grading.styles import STYLES

__all__ = [
    "Grade",
    "grade",
    "grade_many",
    "extract_answer",
    "find_answer",
    "Answer",
    "reference_answer",
    "STATUSES",
    "DEFAULT_TIMEOUT_S",
    "STYLES",
    "MAX_COMPLETION_CHARS",
    "MAX_GOLD_CHARS",
    "MAX_ANSWER_CHARS",
]
