"""Per-dataset answer styles: which extraction rules a dataset's completions may use.

Extraction always tries the explicit answer markers first (see `extract.py`). The one setting that
differs between datasets is whether, when no marker is present, the last number in the text may be
taken as the answer:

- ``world``: the built-in world. Every reference solution ends ``The answer is: N``, so a completion
  without that line has not answered (it was cut off, or it rambles); picking its last number would
  score intermediate results. No fallback.
- ``gsm8k``: GSM8K-like datasets (GSM8K, ASDiv, MAWPS, SVAMP). Answers are plain numbers and the
  usual evaluation practice ("flexible extract") takes the last number of the text. Fallback on.
- ``math``: MATH-like datasets (MATH, College-Math). Answers are expressions, and the last number of
  a MATH solution is rarely its answer (think of ``\\frac{3}{4}`` or ``2\\sqrt{5}``). No fallback.

Callers may override the style default with ``allow_last_number=True/False``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    name: str
    allow_last_number: bool


STYLES: dict[str, Style] = {
    "world": Style("world", allow_last_number=False),
    "gsm8k": Style("gsm8k", allow_last_number=True),
    "math": Style("math", allow_last_number=False),
}


def get_style(name: str) -> Style:
    try:
        return STYLES[name]
    except KeyError:
        raise ValueError(f"unknown grading style {name!r}; expected one of {sorted(STYLES)}") from None


def conclusion_allowed(style: str) -> bool:
    """Whether a concluding sentence without an answer marker ("So, the GCD is 144.") may give
    the answer: not in the built-in world, whose solutions always end "The answer is: N"."""
    return get_style(style).name != "world"


def last_math_allowed(style: str) -> bool:
    """Whether, with no marker and no concluding sentence, the last displayed or inline math
    expression may give the answer (as MATH harnesses do): in the ``math`` style only (a GSM8K
    completion's "$" is a currency sign; the world's solutions always carry their marker)."""
    return get_style(style).name == "math"


def last_number_allowed(style: str, allow_last_number: bool | None) -> bool:
    """The effective fallback setting: the caller's choice when given, else the style's default."""
    default = get_style(style).allow_last_number
    return default if allow_last_number is None else bool(allow_last_number)
