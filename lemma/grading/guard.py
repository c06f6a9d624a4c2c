"""Bounds on what is handed to sympy.

A timeout kills a stuck worker, but some inputs should never get that far: a power tower
``9^{9^{9^{9}}}`` makes sympy try to build an integer with more digits than there are atoms in
the universe, and a factorial of a huge number or an integer of tens of thousands of digits does
the same on a smaller scale. `too_costly` spots these by reading the string, before any parsing.
"""

from __future__ import annotations

import re

from lemma.grading.spans import braced_group

MAX_EXPONENT = 100_000  # 2^{100000} is 30,103 digits: big, yet quick for sympy's integers
MAX_FACTORIAL = 5_000
MAX_INTEGER_DIGITS = 1_000
MAX_POWERS = 20

_LONG_INT = re.compile(rf"\d{{{MAX_INTEGER_DIGITS + 1},}}")
_FACTORIAL_ARG = re.compile(r"(\d+)\s*!")
_INT = re.compile(r"\s*[+-]?\s*\d+\s*")


def _exponent(s: str, caret: int) -> tuple[str, int]:
    """The exponent that follows the ``^`` at `caret`, and the index after it."""
    i = caret + 1
    n = len(s)
    while i < n and s[i] == " ":
        i += 1
    if i < n and s[i] == "{":
        group = braced_group(s, i)
        if group is None:
            return s[i + 1 :], n
        return group
    if i < n and s[i] == "\\":  # a command such as \circ or \pi
        j = i + 1
        while j < n and s[j].isalpha():
            j += 1
        return s[i:j], j
    return s[i : i + 1], i + 1


def too_costly(latex: str) -> str | None:
    """Why `latex` is too costly to give to sympy, or None when it is fine."""
    if _LONG_INT.search(latex):
        return f"an integer of more than {MAX_INTEGER_DIGITS} digits"
    if latex.count("^") + latex.count("**") > MAX_POWERS:
        return f"more than {MAX_POWERS} powers"
    if "**" in latex:
        return "a '**' power"  # not LaTeX; nothing legitimate needs it
    for caret in [m.start() for m in re.finditer(r"\^", latex)]:
        exponent, after = _exponent(latex, caret)
        # A tower with a variable in it stays symbolic (e^{-x^2}); an all-numeric one explodes.
        symbolic = re.search(r"[A-Za-z]", re.sub(r"\\[A-Za-z]+", "", exponent)) is not None
        if not symbolic and ("^" in exponent or "\\exp" in exponent or "!" in exponent):
            return "a power tower (a power in an exponent)"
        rest = latex[after:].lstrip(" }")
        if not symbolic and rest.startswith("^"):
            return "a power tower (chained powers)"
        if _INT.fullmatch(exponent) and abs(int(exponent.replace(" ", ""))) > MAX_EXPONENT:
            return f"an exponent above {MAX_EXPONENT}"
    for m in _FACTORIAL_ARG.finditer(latex):
        if int(m.group(1)) > MAX_FACTORIAL:
            return f"a factorial of more than {MAX_FACTORIAL}"
    if re.search(r"!\s*[)}]*\s*!", latex):
        return "a factorial of a factorial"
    return None
