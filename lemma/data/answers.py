"""Reference answers out of the ways public datasets write them."""

from __future__ import annotations

import re

_GSM8K_FINAL = re.compile(r"^####\s*(.+?)\s*$")
_GSM8K_NUMBER = re.compile(r"^-?[\d,]*\.?\d+$")
_CALCULATOR = re.compile(r"<<[^<>]*>>")


def split_gsm8k_answer(text: str) -> tuple[str, str] | None:
    """(reference solution, final answer) of a GSM8K `answer` field, or None when its last line is
    not '#### <number>'. The solution drops GSM8K's <<a*b=c>> calculator annotations, which are
    tool calls of the original annotators, not text a student should learn to write."""
    lines = text.rstrip().split("\n")
    match = _GSM8K_FINAL.match(lines[-1].strip())
    if not match or not _GSM8K_NUMBER.match(match.group(1)):
        return None
    solution = _CALCULATOR.sub("", "\n".join(lines[:-1])).strip()
    return solution, match.group(1).replace(",", "")


def number_text(value) -> str | None:
    """A numeric answer as text: 8.0 -> "8", 2.5 -> "2.5", "1,000" -> "1000"; None if not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.replace(",", "").strip())
        except ValueError:
            return None
    else:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    if number.is_integer():
        return str(int(number))
    return repr(number)


def strip_unit(text: str) -> str:
    """ASDiv writes answers with their unit in parentheses: "9 (apples)" -> "9"."""
    return re.sub(r"\([^()]*\)", "", text).strip()


def strip_math_delimiters(text: str) -> str:
    """Answers written as inline LaTeX ("$\\frac{1}{2}$") without the dollar signs."""
    text = text.strip()
    if len(text) >= 2 and text.startswith("$") and text.endswith("$"):
        text = text.strip("$").strip()
    return text
