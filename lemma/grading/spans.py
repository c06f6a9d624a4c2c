"""Spans of a completion that the answer rules read (lemma.grading.extract): a line, the end of a
sentence (outside `$...$` and braces), a braced group, the content of a `\\boxed{}`. Each is one
linear scan, bounded by MAX_STATEMENT_CHARS."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Candidates of one answer rule tried from the end before that rule gives up.
MAX_TRIES = 20


@dataclass(frozen=True)
class Answer:
    """A final answer found in a completion."""

    text: str  # cleaned answer, as the model wrote it
    start: int  # where its statement begins (the marker)
    answer_start: int  # the raw answer text is completion[answer_start:end]
    end: int
    rule: str  # answer_is | answer_label | hashes | boxed | conclusion | bare | last_math | last_number


# An answer longer than this is not an answer (the grader's MAX_ANSWER_CHARS is 1,000).
MAX_STATEMENT_CHARS = 2_000
_BOXED = re.compile(r"\\(?:boxed|fbox)")
_HOPE = re.compile(r"I hope it is correct", re.IGNORECASE)

# ---------------------------------------------------------------------------------------------
# Text scanning helpers


def line_end(text: str, start: int) -> int:
    end = text.find("\n", start, start + MAX_STATEMENT_CHARS)
    return min(len(text), start + MAX_STATEMENT_CHARS) if end < 0 else end


def next_line(text: str, start: int) -> tuple[int, int] | None:
    """(start, end) of the rest of the line from `start` when it is not blank; else of the next
    non-blank line among the following three (models put the answer under its marker)."""
    end = line_end(text, start)
    if text[start:end].strip():
        return start, end
    pos = end
    for _ in range(3):
        if pos >= len(text) or text[pos] != "\n":
            return None
        pos += 1
        nxt = line_end(text, pos)
        if text[pos:nxt].strip():
            return pos, nxt
        pos = nxt
    return None


def sentence_end(text: str, start: int, end: int) -> int:
    """Where the sentence that begins at `start` ends, at or before `end` (a line's end): at a
    full stop, '!' or '?' followed by white space, outside math (``$...$``, braces, ``\\(...\\)``),
    or at "I hope it is correct"."""
    hope = _HOPE.search(text, start, end)
    if hope:
        end = hope.start()
    depth = 0
    in_math = False
    i = start
    while i < end:
        ch = text[i]
        if ch == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt in ("(", "["):
                depth += 1
            elif nxt in (")", "]"):
                depth = max(0, depth - 1)
            i += 2
            continue
        if ch == "$":
            # A "$" with no partner later on the line is a currency sign ("$14. She ..."), not math.
            if in_math or text.find("$", i + 1, end) >= 0:
                in_math = not in_math
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif ch in ".!?" and depth == 0 and not in_math:
            if i + 1 >= end or text[i + 1] in " \t\r\n":
                return i
        i += 1
    return end


def braced_group(text: str, start: int, end: int | None = None) -> tuple[str, int] | None:
    """The content of the brace group opening at `text[start] == '{'` and the index after its
    closing brace, or None when the braces do not balance before `end`. Escaped braces
    (``\\{``) are content."""
    n = len(text) if end is None else min(end, len(text))
    if start >= n or text[start] != "{":
        return None
    depth = 0
    i = start
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
        i += 1
    return None


def boxed_span(text: str, at: int, end: int) -> tuple[int, int] | None:
    """(start, end) of the argument of the ``\\boxed``/``\\fbox`` whose backslash is at `at`."""
    start = at + (6 if text.startswith("\\boxed", at) else 5)
    i = start
    while i < end and text[i] == " ":
        i += 1
    if i < end and text[i] == "{":
        group = braced_group(text, i, end)
        return None if group is None else (i + 1, group[1] - 1)
    if i == start:  # "\boxedfoo" is another command
        return None
    # "\boxed 5": the argument is the next token.
    j = i
    while j < end and not text[j].isspace() and text[j] != "$":
        j += 1
    return (i, j) if j > i else None


def boxed_candidates(text: str):
    """(start, answer_start, end) of well-formed boxes, last first."""
    # A group that never closes cannot be closed for an earlier group either (the earlier one
    # would be deeper still), so each earlier scan stops where the last failed group began.
    # That keeps a text of thousands of unclosed "\\boxed{" linear instead of quadratic.
    end = len(text)
    for match in reversed(list(_BOXED.finditer(text))):
        if match.start() >= end:
            continue
        span = boxed_span(text, match.start(), end)
        if span is not None:
            yield match.start(), span[0], span[1]
        else:
            end = match.start()


def last_boxed(text: str) -> str | None:
    """The content of the last well-formed ``\\boxed``/``\\fbox`` in `text`."""
    for _, a, b in boxed_candidates(text):
        return text[a:b]
    return None


def last_match(pattern: re.Pattern, text: str) -> re.Match | None:
    """The last of `pattern`'s matches in `text` (None when there is none)."""
    found = None
    for found in pattern.finditer(text):  # noqa: B007 - the loop keeps the last match
        pass
    return found


# A math delimiter: display \[ \] and $$, inline \( \) and $ (an escaped \$ is a dollar sign).
_MATH_DELIMITER = re.compile(r"\\\[|\\\]|\\\(|\\\)|\$\$|(?<!\\)\$")
_CLOSER = {"\\[": "\\]", "\\(": "\\)", "$$": "$$", "$": "$"}


def math_spans(text: str, limit: int = 50) -> list[tuple[int, int, int]]:
    """(start, content_start, content_end) of the last `limit` math spans of `text`, in text
    order: ``\\[...\\]``, ``$$...$$``, ``\\(...\\)``, ``$...$``. One scan; an unclosed span ends at
    nothing (it is dropped), and an inline ``$`` span does not cross a blank line."""
    spans: list[tuple[int, int, int]] = []
    opened: tuple[str, int, int] | None = None
    for m in _MATH_DELIMITER.finditer(text):
        token = m.group(0)
        if opened is None:
            if token in _CLOSER:
                opened = (token, m.start(), m.end())
            continue
        want = _CLOSER[opened[0]]
        if token == want:
            if not (want == "$" and "\n\n" in text[opened[2] : m.start()]):
                spans.append((opened[1], opened[2], m.start()))
                if len(spans) > 2 * limit:
                    spans = spans[-limit:]
                opened = None
            else:
                opened = (token, m.start(), m.end())  # a stray "$" long before: start over here
    return spans[-limit:]
