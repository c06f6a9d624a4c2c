"""Reading a completion that states its answer without a marker (lemma.grading.extract calls
these only when no marked statement and no concluding sentence answers, and never with
`require_marker`):

- `bare_answer`: a completion that is nothing but a short value (``-5``, ``7,425,000``, ``$E$``,
  ``28 percent``) is its own answer;
- `last_math`: the last displayed or inline math expression of the last paragraph (the ``math``
  style), as MATH harnesses read such text, with the spans that run into it.
"""

from __future__ import annotations

import re

from lemma.grading.clean import RELATION, acceptable, clean_answer, has_value
from lemma.grading.normalize import compact
from lemma.grading.several import joined_answer
from lemma.grading.spans import MAX_TRIES, Answer, math_spans


def last_math(text: str) -> Answer | None:
    """The last math span that states a value, with the spans that run into it (``$x = 2$ and
    $x = 3$``). A chain (``$f(2) = 4 \\cdot 2 - 1 = 7$``) states its last side."""
    # Only the last paragraph: an expression paragraphs before the end of a rambling text is not
    # its answer (a human reader would not take it; a final display line is its own paragraph).
    last_paragraph = text.rstrip().rfind("\n\n")
    spans = [s for s in math_spans(text, MAX_TRIES) if s[0] > last_paragraph and _math_value(text[s[1] : s[2]])]
    found = joined_answer(text, spans, "last_math")
    if found is None or _restated(text, spans, found):
        return None
    answer = found.text
    if answer.count("=") >= 2 and "," not in answer and not RELATION.search(answer):
        answer = answer.rpartition("=")[2].strip()
    return Answer(answer, found.start, found.answer_start, found.end, "last_math")


def _math_value(content: str) -> bool:
    """Whether a math span states something: a number, a command, or an equation (``f(y) = y``);
    a lone name (``$n$``) does not."""
    return has_value(content) or "=" in content


# A completion that is nothing but its answer: one short line ("-5", "7,425,000", "$E$",
# "28 percent"). Words of two letters or more outside math mean prose, not a bare answer.
MAX_BARE_CHARS = 80
_MATH_WRAPPED = re.compile(r"^(?:\$\$?|\\\(|\\\[)(?P<inner>.*?)(?:\$\$?|\\\)|\\\])$", re.DOTALL)
_PROSE_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
_UNIT_OR_PERCENT = re.compile(r"(?:percent|pct)\s*$", re.IGNORECASE)


def bare_answer(text: str) -> Answer | None:
    """The whole completion as its answer, when it is only a short value."""
    s = text.strip()
    if not s or len(s) > MAX_BARE_CHARS or "\n" in s.strip("$ \\[]()\n"):
        return None
    wrapped = _MATH_WRAPPED.match(s)
    inner = (wrapped.group("inner") if wrapped else s).strip()
    if not re.search(r"[A-Za-z0-9]", inner):
        return None  # "...", "?": no value at all
    if inner.count("$") > 1 or "\\(" in inner or "\\[" in inner:
        return None  # several math spans: a calculation or a restatement, not one bare value
    # (one "$" is a currency sign: "$1,250.50")
    if "\\boxed" in inner or "\\fbox" in inner or inner.count("{") != inner.count("}"):
        return None  # a box the marker rules could not read is broken, not bare
    if not wrapped and _PROSE_WORD.search(_UNIT_OR_PERCENT.sub("", inner)):
        return None
    cleaned = clean_answer(s)
    if not acceptable(cleaned):
        return None
    start = text.find(s)
    return Answer(cleaned, start, start, start + len(s), "bare")


def _restated(text: str, spans: list[tuple[int, int, int]], found: Answer) -> bool:
    """``$\\sqrt{72}$ = $\\sqrt{72}$``: a last expression that only restates the one before it
    is not an answer (as a bare last calculation that restates is not, in lemma.grading.extract._conclusion)."""
    k = next((i for i, s in enumerate(spans) if s[0] == found.start), 0)
    if k == 0:
        return False
    before = spans[k - 1]
    gap = text[before[2] : found.start].strip("$\\)] \t")
    same = compact(text[before[1] : before[2]]) == compact(found.text)
    return gap == "=" and same
