"""What every parser of the teacher's replies reads text with: markdown removed, numbers written as
words ("step three", "the third"), a step mention, a line squashed for comparison, and the parsed
result (a value, or the reason there is none)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
_ORDINALS = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
]
NUMBER_WORDS = {w: i for i, w in enumerate(_WORDS)} | {w: i for i, w in enumerate(_ORDINALS)}
NUM = r"(\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"

_MARKDOWN = re.compile(r"\*\*|__|`|(?<!\w)\*(?!\s)|(?<!\s)\*(?!\w)|^#+\s*", re.MULTILINE)


def strip_markdown(text: str) -> str:
    """Bold, italics, inline code and heading marks removed; the words kept."""
    return _MARKDOWN.sub("", text)


def to_int(token: str) -> int:
    token = token.lower()
    return int(token) if token.isdigit() else NUMBER_WORDS[token]


ANY_STEP = re.compile(r"\bstep\s*(?:#\s*)?" + NUM + r"\b", re.I)


def squash(s: str) -> str:
    return re.sub(r"\s+", " ", strip_markdown(s)).strip().strip("\"'“”").rstrip(".").strip().lower()


@dataclass(frozen=True)
class Parsed:
    value: object = None
    reason: str | None = None  # None when value is good
    note: str = ""  # what was read, for the rationale of a drop
