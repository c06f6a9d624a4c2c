"""An extracted answer made plain (lemma.grading.extract): wrappers (`$`, `\\text{}`, bold, units
in words) removed, a chain `a + b = c` cut to its result, a nested statement unwrapped; and
whether what is left can be an answer at all."""

from __future__ import annotations

import re

from lemma.grading.spans import last_boxed, last_match

COPULA = re.compile(r"\s(?:is|are|equals|was|were)\s+(?:(?:equal|equivalent)\s+to\s+)?", re.IGNORECASE)
# An instruction's placeholder echoed back: "<answer>", "[your answer]", "N".
_PLACEHOLDER = re.compile(r"<[^<>\n]{0,40}>|\[[^\[\]\n]*answer[^\[\]\n]*\]|^(?:N|X)$", re.IGNORECASE)
# "the answer is correct/wrong/...": a verdict or a preamble, not an answer.
_NOT_AN_ANSWER = re.compile(
    r"^(?:not\b|correct\b|incorrect\b|wrong\b|right\b|as follows\b|below\b|given\b|shown\b|that\b|because\b|to\b)",
    re.IGNORECASE,
)

# ---------------------------------------------------------------------------------------------
# Cleaning


_WRAPPERS = (
    ("$$", "$$"),
    ("$", "$"),
    ("\\(", "\\)"),
    ("\\[", "\\]"),
    ("**", "**"),
    ("__", "__"),
    ("*", "*"),
    ("`", "`"),
)
# An arithmetic chain "a op b = c": its left side has digits and operators, and letters only in
# LaTeX commands (\frac, \cdot, \log_2 ...).
CHAIN_LEFT = re.compile(r"^(?:\\[A-Za-z]+|[\d\s.,+\-*/×÷^_(){}\[\]])+$")
# Relations whose "=" is not an equals sign.
RELATION = re.compile(r"\\(?:le|ge|ne|leq|geq|neq|lt|gt|approx)\b|[<>≤≥≠≈]|!=")


# "the answer is therefore 105": an adverb before the answer is not part of it.
_LEAD_ADVERB = re.compile(
    r"^(?:therefore|thus|hence|so|then|clearly|simply|just|indeed|actually|definitely|exactly|now)\b[,:]?\s+",
    re.IGNORECASE,
)
# "2 (slices)": a parenthetical of words after a number names its unit.
_TRAILING_WORDS = re.compile(r"\s*\([A-Za-z]{2}[A-Za-z .'-]*\)$")  # a word, not "(y)" of sec^2(y)
_LEADING_WORD = re.compile(r"^[A-Za-z]{2,}\b")


def _nested_statement(s: str) -> str:
    """ "The answer is: The sum of the roots is 5": a sentence given as the answer states its
    value after its verb."""
    if not _LEADING_WORD.match(s):
        return s
    verb = last_match(COPULA, s)
    if verb is None:
        return s
    rest = s[verb.end() :].strip()
    return rest if rest and (any(ch.isdigit() for ch in rest) or "\\" in rest) else s


def _chain_result(s: str) -> str:
    """``91 / 7 = 13`` states 13; ``x^2 + y^2 = 25`` and ``x = 5`` stay (normalize handles an
    assignment)."""
    if "=" not in s or RELATION.search(s):
        return s
    left, _, right = s.rpartition("=")
    right = right.strip()
    first = left.split("=", 1)[0]
    if right and any(ch.isdigit() for ch in first) and CHAIN_LEFT.match(first.strip()):
        return right
    return s


def clean_answer(answer: str) -> str:
    """Strip presentation around an extracted answer: whitespace, math delimiters, markdown
    emphasis, a boxed wrapper, a closing full stop or comma; an arithmetic chain becomes its
    result."""
    s = answer.strip()
    for _ in range(8):  # a few rounds: "**$18$**." needs three
        before = s
        s = s.strip()
        if s.endswith(".") and not s.endswith("..."):
            s = s[:-1].rstrip()
        s = s.rstrip(",;:").strip()
        # Markdown emphasis left over on one side only ("**Answer: 12**" leaves "12**").
        if s.endswith("**") and "**" not in s[:-2]:
            s = s[:-2]
        if s.startswith("**") and "**" not in s[2:]:
            s = s[2:]
        for left, right in _WRAPPERS:
            if len(s) > len(left) + len(right) and s.startswith(left) and s.endswith(right):
                s = s[len(left) : len(s) - len(right)]
                break
        if "\\boxed" in s or "\\fbox" in s:
            inner = last_boxed(s)
            if inner is not None:
                s = inner
        s = _chain_result(s)
        s = _LEAD_ADVERB.sub("", s, count=1)
        trailing = _TRAILING_WORDS.search(s)
        if trailing and any(ch.isdigit() for ch in s[: trailing.start()]):
            s = s[: trailing.start()]
        s = _nested_statement(s)
        if s == before:
            break
    return s.strip()


def has_value(s: str) -> bool:
    """Whether `s` states a value: a digit or a LaTeX command."""
    return any(ch.isdigit() for ch in s) or "\\" in s


def acceptable(cleaned: str) -> bool:
    return bool(cleaned) and not _PLACEHOLDER.search(cleaned) and not _NOT_AN_ANSWER.match(cleaned)
