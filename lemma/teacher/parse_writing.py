"""Reading what the teacher writes back into text the method keeps: an injected wrong solution (with
its explanation, its wrong step and a final answer that differs from the reference), a correction
that continues a wrong prefix after the reflection phrase, and a smoothed trajectory. Code fences,
leading labels, re-typed prefixes and leaked step labels are tidied away. A parser never raises:
it returns a short reason (empty_reply, no_explanation, no_final_answer, answer_only,
same_answer_as_reference)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lemma.grading.extract import find_marked
from lemma.grading.statement import ANSWER_STATEMENT, answer_statement
from lemma.teacher.reply_text import ANY_STEP, Parsed, squash, strip_markdown, to_int
from lemma.text.steps import split_steps

# ---------------------------------------------------------------------------------------------
# final answers and generated solutions
# Replies must end "The answer is: X"; the grader's extractor reads that statement (in any wording:
# "the final answer is $\boxed{5}$.", "So the answer is 5"), so a teacher's answer is the one the
# grader will read. Other statements (a "#### X" line, a \boxed{} inside a sentence) cannot be
# rewritten as the answer line, so they do not end a reply.
_FINAL_RULES = ("answer_is",)
# The words of the statement before the extractor's marker ("answer is"): cut with it ("the
# correct answer is 24" becomes "The answer is: 24").
_STATEMENT_LEAD = re.compile(r"\b(?:(?:the|my|our)\s+)?(?:(?:final|correct|right|actual)\s+)?$", re.I)


def find_final_answer(text: str) -> tuple[str, int] | None:
    """(answer, end offset of the answer) of the last "The answer is: X" statement of `text` with
    its markdown removed, else None."""
    found = find_marked(strip_markdown(text), _FINAL_RULES)
    return None if found is None else (found.text, found.end)


def answers_match(a: str, b: str) -> bool:
    """A cheap equality of two final answers (numbers compared as numbers). The workflow's grader
    is the authority; this only lets a teacher drop injections that kept the right answer."""

    def norm(x: str) -> str:
        return re.sub(r"\s+|,(?=\d{3}\b)|^\$|\\[,!]|\\text\{[^}]*\}", "", x.strip()).lower()

    na, nb = norm(a), norm(b)
    if na == nb:
        return True
    try:
        return abs(float(na) - float(nb)) < 1e-9 * max(1.0, abs(float(nb)))
    except ValueError:
        return False


_FENCE = re.compile(r"^```[^\n]*\n|\n?```\s*$", re.M)
_LEAD_LABEL = re.compile(
    r"^\s*(?:#+\s*)?(?:\*\*)?(?:here\s+is[^\n]*?:|(?:the\s+)?(?:wrong|incorrect|rewritten|smoothed|revised|new|"
    r"student'?s?|careless)?\s*(?:solution|continuation|answer|response|rewrite|version)\s*:)(?:\*\*)?[ \t]*\n?",
    re.I,
)


def _tidy(text: str) -> str:
    t = _FENCE.sub("", text.strip()).strip()
    prev = None
    while prev != t:  # "Here is the rewrite:\n**Solution:**\n..." carries two labels
        prev = t
        t = _LEAD_LABEL.sub("", t, count=1).strip()
    return t


_CONNECTOR_TAIL = re.compile(
    r"(?:^|[\s,;:.])*(?:\b(?:so|thus|therefore|hence|and|then|finally|which\s+means|that\s+means)\b[\s,;:]*)*$", re.I
)


def _end_at_final_answer(text: str) -> tuple[str, str] | None:
    """Text cut after its last final-answer line, which is rewritten as "The answer is: X"."""
    plain = strip_markdown(text)
    found = find_marked(plain, _FINAL_RULES)
    if found is None:
        return None
    line_start = plain.rfind("\n", 0, found.start) + 1
    before = _STATEMENT_LEAD.sub("", plain[line_start : found.start], count=1)
    # "Therefore, the answer is 5" -> drop the connector; "She has 5 left, so the answer is 5"
    # -> keep the sentence, without its dangling "so".
    before = _CONNECTOR_TAIL.sub("", before.rstrip())
    body = (plain[:line_start] + before).strip()
    line = answer_statement(found.text)
    return (f"{body}\n{line}" if body else line), found.text


_EXPLANATION = re.compile(r"<explanation>(.*?)(?:</explanation>|\Z)", re.I | re.S)
_WRONG_STEP_QUOTE = re.compile(r"wrong\s+step\s*:\s*(.+)", re.I)


def locate_quoted_step(solution: str, quote: str, style: str) -> int | None:
    """The 1-based step of `solution` that the quote names (exactly, or contained either way)."""
    q = squash(quote)
    if not q:
        return None
    steps = [squash(s) for s in split_steps(solution, style)]
    for i, s in enumerate(steps, 1):
        if s == q:
            return i
    hits = [i for i, s in enumerate(steps, 1) if s and (q in s or s in q)]
    return hits[0] if len(hits) == 1 else None


@dataclass(frozen=True)
class ParsedMistake:
    solution: str | None
    wrong_step: int | None = None
    explanation: str = ""
    reason: str | None = None
    note: str = ""


def parse_injection(reply: str | None, reference_answer: str, style: str) -> ParsedMistake:
    """A careless-student reply: the wrong solution (ending "The answer is: X", X not the
    reference answer) and the explanation inside <explanation> tags."""
    if not reply or not reply.strip():
        return ParsedMistake(None, reason="empty_reply")
    m = _EXPLANATION.search(reply)
    if m is None or not m.group(1).strip():
        return ParsedMistake(None, reason="no_explanation")
    explanation = m.group(1).strip()
    body = _tidy(reply[: m.start()] + reply[m.end() :])
    ended = _end_at_final_answer(body)
    if ended is None:
        return ParsedMistake(None, explanation=explanation, reason="no_final_answer")
    solution, answer = ended
    if answers_match(answer, reference_answer):
        return ParsedMistake(None, explanation=explanation, reason="same_answer_as_reference", note=answer)
    wrong_step = None
    q = _WRONG_STEP_QUOTE.search(strip_markdown(explanation))
    if q:
        quote = q.group(1).splitlines()[0] if q.group(1).strip() else ""
        wrong_step = locate_quoted_step(solution, quote, style)
    if wrong_step is None:
        n = len(split_steps(solution, style))
        nums = {to_int(t) for t in ANY_STEP.findall(strip_markdown(explanation))}
        if len(nums) == 1 and 1 <= (k := nums.pop()) <= n:
            wrong_step = k
    return ParsedMistake(solution, wrong_step, explanation)


def _strip_phrase(text: str, phrase: str) -> str:
    """Drop the reflection phrase at the start of a continuation, as often as it was written
    ("Wait, ... Wait, ... Step 2 ..." happens: a model that repeats once may repeat twice)."""

    def core(s: str) -> str:
        return re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()

    want = core(phrase)
    if not want:
        return text
    for _ in range(8):
        # walk forward over the reply until its letters cover the phrase's
        for end in range(len(phrase) // 2, min(len(text), len(phrase) * 2 + 8) + 1):
            if core(text[:end]) == want and (end == len(text) or not text[end].isalnum()):
                text = text[end:].lstrip(" \t.,;:!?\"'”…-*_").lstrip()
                break
        else:
            return text
    return text


# Our numbering of the attempt ("Step 3: "), as a re-typed line or a leaked label starts with it.
_NUMBER_LABEL = re.compile(r"[ \t]*(?:[-*>][ \t]*)?(?:\*\*|__)?step[ \t]*\d+[ \t]*[:.](?:\*\*|__)?[ \t]*", re.I)
_LEAKED_LABEL = re.compile(
    r"(?:(?<=\n)|(?<=^)|(?<=[.!?][ \t]))[ \t]*(?:#+[ \t]*)?(?:[-*>][ \t]*)?(?:\*\*|__)?step[ \t]*\d+[ \t]*:(?:\*\*|__)?[ \t]*",
    re.I,
)


def _alnum(s: str) -> str:
    return "".join(c for c in s.lower() if c.isalnum())


def _walk(text: str, want: str, skip_labels: bool) -> int | None:
    """The offset in `text` right after its letters and digits spell `want` from the start
    (everything else ignored; with `skip_labels`, one "Step N:" label at each line start too),
    else None."""
    i = j = 0
    line_start = True
    while j < len(want):
        if i >= len(text):
            return None
        if line_start and skip_labels:
            m = _NUMBER_LABEL.match(text, i)
            if m:
                i = m.end()
            line_start = False
            continue
        c = text[i]
        if c == "\n":
            line_start = True
        if c.isalnum():
            if c.lower() != want[j]:
                return None
            j += 1
        i += 1
    return i


def _skip_retyped(text: str, prefix: str, style: str, phrase: str) -> str:
    """The reply without a re-typed attempt at its start: the whole prefix (with or without the
    "Step N:" numbering the teacher was shown, on any lines) or only its last, wrong step. What
    follows it on the same line is kept (a one-line GSM8K prefix is often re-typed and continued
    in the same paragraph)."""
    steps = split_steps(prefix, style) if prefix.strip() else []
    if not steps:
        return text
    phrase_core = _alnum(phrase)

    def after(end: int) -> str:
        return text[end:].lstrip(" \t.,;:!?\"'”)*_")

    def at_boundary(end: int) -> bool:
        rest = after(end)
        return not rest.strip() or rest.startswith("\n") or (bool(phrase_core) and _alnum(rest).startswith(phrase_core))

    for candidate, whole in ((prefix, True), (steps[-1], False)):
        want = _alnum(candidate)
        if not want:
            continue
        for skip in (True, False):
            end = _walk(text, want, skip)
            if end is None:
                continue
            # A long re-typed attempt is one whatever follows; a short match, or the wrong step
            # alone, is one only when a new line or the phrase follows it (else the reply is
            # quoting the step it is about to correct: "4 * 3 = 14 is wrong ...").
            quoted = text.lstrip()[:1] in "\"'“‘`"
            if at_boundary(end) or (whole and len(want) >= 20 and not quoted):
                return after(end).strip()
    return text


def _drop_leaked_labels(text: str, prefix: str, style: str) -> str:
    """Remove "Step N:" labels copied from the numbered attempt the teacher was shown, unless the
    style numbers its steps that way (the built-in world) or the student's own prefix does."""
    if style == "world" or _LEAKED_LABEL.search(prefix):
        return text
    return _LEAKED_LABEL.sub("", text)


def parse_continuation(reply: str | None, phrase: str, prefix: str = "", style: str = "world") -> Parsed:
    """What a Fix & Continue / Fresh & Restart teacher wrote after the reflection phrase, cut at
    its final-answer line. A reply that re-typed the attempt (whole, numbered or not, or its wrong
    step) or the phrase (once or more) is trimmed, and "Step N:" labels leaked from the numbered
    attempt are removed."""
    if not reply or not reply.strip():
        return Parsed(reason="empty_reply")
    text = _tidy(reply)
    text = _strip_phrase(text, phrase)  # "<phrase> <re-typed attempt> ..." happens too
    text = _skip_retyped(text, prefix, style, phrase)
    text = _strip_phrase(text, phrase)
    text = _drop_leaked_labels(text, prefix, style).strip()
    if not text:
        return Parsed(reason="empty_reply")
    ended = _end_at_final_answer(text)
    if ended is None:
        return Parsed(reason="no_final_answer", note=text[-200:])
    if ended[0].startswith(ANSWER_STATEMENT):
        # nothing but the answer line: no correction to learn from (the method needs the reasoning)
        return Parsed(reason="answer_only", note=ended[0][:200])
    return Parsed(ended[0])


def parse_smoothed(reply: str | None) -> Parsed:
    """A patient-teacher rewrite: plain text ending "The answer is: X"."""
    if not reply or not reply.strip():
        return Parsed(reason="empty_reply")
    ended = _end_at_final_answer(_tidy(reply))
    if ended is None:
        return Parsed(reason="no_final_answer", note=reply.strip()[-200:])
    return Parsed(ended[0])
