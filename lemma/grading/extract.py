"""Finding the final answer in a completion.

Rules, tried in this order; the first rule that finds something wins, and within a rule the LAST
occurrence in the text counts (a trajectory that reflects and answers again is judged on its
final answer):

1. the paper's ``The answer is: X`` (case-insensitive, colon required; X is the rest of that line);
2. GSM8K's ``#### X`` (rest of the line);
3. the last ``\\boxed{...}`` (or ``\\fbox{...}``), braces matched so nested groups stay whole;
4. Minerva's ``Final Answer: The final answer is X. I hope it is correct.``;
5. the last number in the text, only when the style allows it (see `styles.py`).

Every pattern here is linear in the text (literal anchors, no nested quantifiers), and brace
matching is a single scan, so extraction of hostile or very long text runs in the parent process
without a timeout. The answer string is then cleaned of wrappers (``$...$``, ``\\(...\\)``,
markdown bold, a trailing full stop) but not otherwise changed: `pred_answer` shows what the model
wrote.
"""

from __future__ import annotations

import re

from lemma.grading.styles import last_number_allowed

_PAPER = re.compile(r"the answer is\s*:", re.IGNORECASE)
_GSM8K = re.compile(r"####")
_BOXED = re.compile(r"\\(?:boxed|fbox)")
_MINERVA = re.compile(r"final answer is", re.IGNORECASE)
_HOPE = re.compile(r"I hope it is correct", re.IGNORECASE)
# A number: optional sign, digits with optional thousands groups, optional decimals; or ".5".
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|(?<![\w.])-?\.\d+")


def _last(pattern: re.Pattern, text: str) -> re.Match | None:
    match = None
    for match in pattern.finditer(text):
        pass
    return match


def _rest_of_line(text: str, start: int) -> str:
    """The text from `start` to the end of its line; if that is blank, the next non-blank line
    (models sometimes put the answer on the line after the marker)."""
    end = text.find("\n", start)
    line = text[start:] if end < 0 else text[start:end]
    if line.strip() or end < 0:
        return line
    for nxt in text[end + 1 :].split("\n", 3)[:3]:
        if nxt.strip():
            return nxt
    return ""


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


def _boxed_content(text: str, at: int, end: int) -> str | None:
    """The argument of the ``\\boxed``/``\\fbox`` command whose backslash is at `at`."""
    start = at + (6 if text.startswith("\\boxed", at) else 5)
    n = end
    i = start
    while i < n and text[i] == " ":
        i += 1
    if i < n and text[i] == "{":
        group = braced_group(text, i, end)
        return None if group is None else group[0]
    if i == start:  # "\boxedfoo" is another command
        return None
    # "\boxed 5": the argument is the next token.
    j = i
    while j < n and not text[j].isspace() and text[j] != "$":
        j += 1
    return text[i:j] if j > i else None


def last_boxed(text: str) -> str | None:
    """The content of the last well-formed ``\\boxed``/``\\fbox`` in `text`."""
    # A group that never closes cannot be closed for an earlier group either (the earlier one
    # would be deeper still), so each earlier scan stops where the last failed group began.
    # That keeps a text of thousands of unclosed "\\boxed{" linear instead of quadratic.
    end = len(text)
    for match in reversed(list(_BOXED.finditer(text))):
        if match.start() >= end:
            continue
        content = _boxed_content(text, match.start(), end)
        if content is not None:
            return content
        end = match.start()
    return None


_WRAPPERS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"), ("**", "**"), ("*", "*"), ("`", "`"))


def clean_answer(answer: str) -> str:
    """Strip presentation around an extracted answer: whitespace, math delimiters, markdown
    emphasis, a boxed wrapper and a closing full stop or comma."""
    s = answer.strip()
    for _ in range(8):  # a few rounds: "**$18$**." needs three
        before = s
        s = s.strip()
        if s.endswith(".") and not s.endswith("..."):
            s = s[:-1].rstrip()
        s = s.rstrip(",;").strip()
        for left, right in _WRAPPERS:
            if len(s) > len(left) + len(right) and s.startswith(left) and s.endswith(right):
                s = s[len(left) : len(s) - len(right)]
                break
        if "\\boxed" in s or "\\fbox" in s:
            inner = last_boxed(s)
            if inner is not None:
                s = inner
        if s == before:
            break
    return s.strip()


def _paper(text: str) -> str | None:
    m = _last(_PAPER, text)
    return None if m is None else _rest_of_line(text, m.end())


def _gsm8k(text: str) -> str | None:
    m = _last(_GSM8K, text)
    return None if m is None else _rest_of_line(text, m.end())


def _minerva(text: str) -> str | None:
    m = _last(_MINERVA, text)
    if m is None:
        return None
    tail = text[m.end() :]
    hope = _HOPE.search(tail)
    return tail[: hope.start()] if hope else _rest_of_line(text, m.end())


def last_number(text: str) -> str | None:
    m = _last(_NUMBER, text)
    return None if m is None else m.group(0)


_MARKER_RULES = (_paper, _gsm8k, last_boxed, _minerva)


def extract_marked(text: str) -> str | None:
    """The answer given by an explicit marker (rules 1-4), cleaned, or None."""
    for rule in _MARKER_RULES:
        found = rule(text)
        if found is not None:
            cleaned = clean_answer(found)
            if cleaned:
                return cleaned
    return None


def extract_answer(completion: str, style: str = "gsm8k", allow_last_number: bool | None = None) -> str | None:
    """The final answer of `completion` by the rules above, or None when it gives none."""
    found = extract_marked(completion)
    if found is not None:
        return found
    if last_number_allowed(style, allow_last_number):
        return last_number(completion)
    return None


def reference_answer(gold: str) -> str:
    """The answer inside a reference: a full solution's marked answer when it has one (a GSM8K
    ``#### 72`` or a MATH ``\\boxed{...}``), else the whole reference, cleaned."""
    found = extract_marked(gold)
    return found if found is not None else clean_answer(gold)
