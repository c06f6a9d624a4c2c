"""Splitting solutions into steps, numbering them, and truncating after a step.

A step is a span (start, end offsets) of the original text, never a re-joined copy: numbering,
truncation and re-splitting all read the same spans, so a truncated prefix is a byte-exact prefix
of the sample and splits back into exactly the steps it was cut after (the property tests in
tests/test_steps_properties.py check split -> truncate -> split on GSM8K, MATH and model text).

Where a step ends, by style (the paper splits GSM8K-style text on ". " and MATH-style text on
".\\n"; the built-in world writes one step per line):
  * world: every line break.
  * gsm8k: every line break, and a period followed by white space, except the period of a list
    marker at the start of a line ("1. ", "b. ", "Step 2. ") or of a common abbreviation ("Mr. ",
    "e.g. "), which ends no sentence.
  * math: a period followed by a line break, and a blank line.
In gsm8k and math styles no step ends inside display math ($$...$$, \\[...\\], \\begin{..}..\\end{..})
or a calculator annotation <<...>>. A trailing "The answer is: X" line is a step of its own in
every style, so a solution that computes everything right but answers the wrong quantity has a
wrong last step.

Why this keeps prefixes stable: whether a gap between two steps is a step boundary depends only
on the text before the gap and the gap itself (protected regions are found left to right, and
an unclosed one runs to the end), so cutting the text right after step k changes nothing before it.
"""

from __future__ import annotations

import re

STYLES = ("world", "gsm8k", "math")

# A run of white space that may separate two steps; which runs do is decided per style below.
_GAP = re.compile(r"\s+")
# Display math and calculator annotations: no step ends inside them. An opener without its
# closer protects the rest of the text.
_OPENERS = re.compile(r"(?<!\\)\$\$|\\\[|\\begin\{([A-Za-z*]+)\}|<<")
# Periods that end no sentence: list markers at the start of a line, abbreviations.
_LIST_MARKER = re.compile(
    r"\n[ \t]*(?:[-*+][ \t]+)?(?:\*\*|__)?(?:step[ \t]*)?(?:\d{1,3}|[A-Za-z]|[ivxIVX]{1,4})\.\Z", re.IGNORECASE
)
_ABBREVIATION = re.compile(r"[\s(](?:mr|mrs|ms|dr|st|jr|sr|vs|etc|approx|no|fig|eq|e\.g|i\.e)\.\Z", re.IGNORECASE)
_MARKER_WINDOW = 24  # characters looked back from a period to recognise a marker or abbreviation


def _closer(text: str, m: re.Match) -> str:
    opener = m.group(0)
    if opener == "$$":
        return "$$"
    if opener == "\\[":
        return "\\]"
    if opener == "<<":
        return ">>"
    return "\\end{" + m.group(1) + "}"


def _protected(text: str) -> list[tuple[int, int]]:
    """(start, end) of each display-math block and calculator annotation, left to right."""
    out, pos = [], 0
    while True:
        m = _OPENERS.search(text, pos)
        if m is None:
            return out
        closer = _closer(text, m)
        end = text.find(closer, m.end())
        if closer == "$$":
            while end != -1 and text[end - 1] == "\\":  # an escaped \$ is not a closer
                end = text.find(closer, end + 1)
        end = len(text) if end == -1 else end + len(closer)
        out.append((m.start(), end))
        pos = end


def _sentence_end(text: str, gap_start: int) -> bool:
    """A period right before the gap ends a sentence (not a list marker or an abbreviation)."""
    if gap_start == 0 or text[gap_start - 1] != ".":
        return False
    before = text[max(0, gap_start - _MARKER_WINDOW) : gap_start]
    if gap_start <= _MARKER_WINDOW:
        before = "\n" + before  # the start of the text is the start of a line (and of a word)
    return not (_LIST_MARKER.search(before) or _ABBREVIATION.search(before))


def _is_boundary(text: str, gap: re.Match, style: str) -> bool:
    newlines = gap.group(0).count("\n")
    if style == "world":
        return newlines > 0
    if style == "gsm8k":
        return newlines > 0 or _sentence_end(text, gap.start())
    # math: ".\n" or a blank line (a period directly before the gap, or two line breaks in it)
    return newlines >= 2 or (newlines == 1 and gap.start() > 0 and text[gap.start() - 1] == ".")


def step_spans(text: str, style: str = "world") -> list[tuple[int, int]]:
    """(start, end) offsets of each step in `text`: no white space at either end, none empty."""
    if style not in STYLES:
        raise ValueError(f"unknown step style {style!r}; expected one of {STYLES}")
    protected = _protected(text) if style != "world" else []
    spans, start, k = [], 0, 0
    for gap in _GAP.finditer(text):
        while k < len(protected) and protected[k][1] <= gap.start():
            k += 1
        inside = k < len(protected) and protected[k][0] < gap.start()
        if inside or not _is_boundary(text, gap, style):
            continue
        if gap.start() > start:
            spans.append((start, gap.start()))
        start = gap.end()
    # the last step: up to the end, without trailing white space; a leading gap is not a step
    end = len(text.rstrip())
    if end > start:
        spans.append((start, end))
    return [(s + (len(text[s:e]) - len(text[s:e].lstrip())), e) for s, e in spans if text[s:e].strip()]


def split_steps(text: str, style: str = "world") -> list[str]:
    """The text of each step (see step_spans)."""
    return [text[s:e] for s, e in step_spans(text, style)]


def truncate_after(text: str, step: int, style: str = "world") -> str:
    """The solution cut right after its `step`-th step (1-based): a byte-exact prefix of `text`
    that splits into exactly its first `step` steps. Raises ValueError when the solution has
    fewer steps, so a judge's out-of-range step never becomes silent data."""
    spans = step_spans(text, style)
    if not 1 <= step <= len(spans):
        raise ValueError(f"step {step} out of range: the solution has {len(spans)} steps")
    return text[: spans[step - 1][1]]


def whole_attempt(text: str) -> str:
    """The whole solution as an attempt (cut=whole): the text without trailing white space, so it
    is the same byte-exact kind of prefix as a truncation."""
    return text.rstrip()


def number_steps(text: str, style: str = "world") -> str:
    """'Step 1: ...' lines, for judges that must answer with a step number. A step that spans
    several lines keeps its line breaks (display math, list items)."""
    return "\n".join(f"Step {i}: {s}" for i, s in enumerate(split_steps(text, style), 1))
