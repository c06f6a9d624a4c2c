"""String-level normalisation of answers, and exact rational parsing.

Everything here is plain string work and `fractions.Fraction`: no sympy, no eval. It runs in the
parent process for every pair, which is what makes plain-number pairs fast.

`normalize(answer)` returns a `Normalized` with:
- ``text``: LaTeX with presentation removed: ``$``, ``\\left``/``\\right``, spacing commands,
  ``\\dfrac``/``\\tfrac`` (made ``\\frac``), ``\\text{...}``-like wrappers (unwrapped), thousands
  separators (``1,000``, ``1{,}000``, ``1\\,000``), currency signs, degree marks, trailing unit
  words (``18 apples``, ``5 \\text{cm}^2``), a choice's brackets (``(C)``), and an assignment's
  left side (``x = 5``);
- ``percent``: whether a percent sign (or the word) ended the answer; the comparison decides what
  that means (see `equal_numbers`).

Brackets are never stripped: ``(1,2)``, ``[1,2)`` and ``\\{1,2\\}`` stay as written, so intervals
and tuples reach math-verify intact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

# Integers longer than this are not parsed here (Python refuses int() of over 4300 digits, and
# nothing a grader sees needs more); such answers go to the guarded symbolic path.
MAX_DIGITS = 1000
# Largest power of ten accepted in scientific notation (1.5 \times 10^{k}).
MAX_SCI_EXPONENT = 400

_UNWRAP = re.compile(
    r"\\(?:text|textbf|textit|textrm|texttt|textup|mathrm|mathbf|mathit|mathsf|mbox|hbox|emph)\s*\{([^{}]*)\}"
)
# A \text-wrapped unit right after a number ("5 \text{ m}", "3\mbox{ cm}^2"): dropped before
# unwrapping, so that one-letter units go too (bare "5x" keeps its x).
_TEXT_UNIT = re.compile(
    r"(?<=[\d}])\s*\\(?:text|mbox|mathrm)\s*\{\s*(?![ie]\s*\})[A-Za-z][A-Za-z .]*\}(?:\s*\^\s*\{?[23]\}?)?\s*$"
)
_SPACING = re.compile(r"(?<!\\)\\[,;:! ]|\\q?quad|\\displaystyle|\\left|\\right|\\big|\\Big|~")
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ|°|\\degree")
_CURRENCY = re.compile(r"\\\$|\$|€|£|¥|₹|\\euro|\\pounds")
_PERCENT = re.compile(r"(?:\\%|%|\s*percent(?:age)?|\s+pct)\s*$", re.IGNORECASE)
# Thousands groups, but not the parts of a tuple or an interval: "(12,102)" is two numbers.
_THOUSANDS = re.compile(r"(?<![\d.,(\[])(\d{1,3})((?:,\d{3})+)(?![\d,)\]])")
_CHOICE = re.compile(r"^\(?\s*([A-J])\s*\)?$")
# "x = 5", "x_1 = 5", "k=5": a single (possibly subscripted) variable on the left of one "=".
ASSIGN = re.compile(r"^\s*(?P<name>[A-Za-z](?:_\{?\w+\}?)?)\s*=\s*(?P<rhs>[^=]+?)\s*$")
# Words after a number: units ("cm", "apples", "dollars", "sq ft", "m^2"). Single letters are
# not words here ("5x" must not become "5"), nor are math names ("2 pi", "3 sqrt 2").
# Possessive quantifiers keep the word loop from backtracking exponentially on long letter runs.
_UNIT_TAIL = re.compile(r"(?:\s*+[A-Za-z]{2,}+\.?+(?:\s*+\^\s*+\{?[23]\}?)?+)++\s*+")
_WORD_START = re.compile(r"(?<![A-Za-z\\])[A-Za-z]")
_MATH_WORDS = {
    "pi",
    "sqrt",
    "sin",
    "cos",
    "tan",
    "cot",
    "sec",
    "csc",
    "log",
    "ln",
    "exp",
    "frac",
    "cdot",
    "times",
    "infty",
    "inf",
}


@dataclass(frozen=True)
class Normalized:
    text: str
    percent: bool = False


def _unwrap_text(s: str) -> str:
    for _ in range(10):  # nested wrappers unwrap from the inside out, a bounded number of rounds
        new = _UNWRAP.sub(lambda m: m.group(1), s)
        if new == s:
            break
        s = new
    return s


def _strip_unit_tail(s: str) -> str:
    m = _WORD_START.search(s)  # the first word that is not a LaTeX command's name
    if not m or not any(ch.isdigit() for ch in s[: m.start()]):
        return s
    tail = s[m.start() :]
    if not _UNIT_TAIL.fullmatch(tail):
        return s
    if any(w.lower() in _MATH_WORDS for w in re.findall(r"[A-Za-z]+", tail)):
        return s
    return s[: m.start()].strip()


_INLINE_DELIMITERS = re.compile(r"\\[()\[\]]")
# "f(t) = t^2 + 1": a function given by its rule; the rule's variable is a dummy.
_FUNCTION_RULE = re.compile(r"^[A-Za-z]\s*\(\s*(?P<var>[A-Za-z])\s*\)\s*=\s*(?P<rule>[^=]+)$")
# "2 \le x < 5": a compound inequality is an interval.
_BETWEEN = re.compile(
    r"^(?P<lo>[^<>=\\]+?|-?\\infty)\s*(?P<lop><|\\le|\\leq|≤)\s*[A-Za-z]\s*(?P<hop><|\\le|\\leq|≤)\s*(?P<hi>[^<>=]+)$"
)
# "x \in [2, 5)": membership names the set.
_MEMBER = re.compile(r"^[A-Za-z]\s*\\in\s*(?P<set>.+)$")


def _dummy_variable(rule: str, var: str) -> str:
    """`rule` with its variable renamed to x (unless x already means something else there)."""
    if var == "x" or re.search(r"(?<![\\A-Za-z])x(?![A-Za-z])", rule):
        return rule
    return re.sub(rf"(?<![\\A-Za-z]){var}(?![A-Za-z])", "x", rule)


def _relation_forms(s: str) -> str:
    """A function's rule, an interval for a compound inequality, the set of a membership."""
    m = _FUNCTION_RULE.match(s)
    if m:
        return _dummy_variable(m.group("rule").strip(), m.group("var"))
    m = _MEMBER.match(s)
    if m:
        return m.group("set").strip()
    m = _BETWEEN.match(s)
    if m:
        left = "[" if m.group("lop") != "<" else "("
        right = "]" if m.group("hop") != "<" else ")"
        return f"{left}{m.group('lo').strip()}, {m.group('hi').strip()}{right}"
    return s


def normalize(answer: str, keep_name: bool = False) -> Normalized:
    """`answer` made plain (see the module's docstring). With `keep_name`, an assignment's left
    side (``x = 5``) stays: lemma.grading.several reads named values."""
    s = answer.strip()
    # "16,\!386.20": MATH's negative thin space inside a number is no space at all.
    s = re.sub(r"\\!\s*", "", s)
    s = _INLINE_DELIMITERS.sub(" ", s)  # "x = 2 \\) and \\( x = 3": delimiters left inside a list
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("{,}", ",")
    s = _TEXT_UNIT.sub("", s)
    s = _unwrap_text(s)
    s = _SPACING.sub(" ", s)
    s = _DEGREES.sub("", s)
    s = _CURRENCY.sub("", s)
    s = re.sub(r"\s+", " ", s).strip()
    percent = False
    m = _PERCENT.search(s)
    if m:
        percent = True
        s = s[: m.start()].strip()
    s = _strip_unit_tail(s)
    s = _THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(",", ""), s)
    s = re.sub(r"(?<=\d) (?=\d{3}(?!\d))", "", s) if re.fullmatch(r"-?\d{1,3}( \d{3})+(\.\d+)?", s) else s
    if s.endswith(".") and not s.endswith(".."):
        s = s[:-1].rstrip()
    if keep_name:
        return Normalized(s, percent)
    a = ASSIGN.match(s)
    if a:
        s = a.group("rhs").strip()
    s = _relation_forms(s)
    c = _CHOICE.match(s)
    if c:
        s = c.group(1)
    return Normalized(s, percent)


def compact(s: str) -> str:
    """`s` without spaces, for string identity checks."""
    return re.sub(r"\s+", "", s)


# ---------------------------------------------------------------------------------------------
# Lists of answers


_OPEN = "([{"
_CLOSE = ")]}"


_COMMA_CONNECTOR = re.compile(r",\s+(?:and|or)\s+")


def split_items(s: str) -> list[str]:
    """The top-level items of a list of answers ("1, 2", "x=1 or x=-2", "3; 4", "1 and 2"), as
    written (stripped). Separators inside brackets or braces do not split, so ``(1,2)`` and
    ``[1,2)`` stay one item. A single answer, or a list with an empty item, comes back whole."""
    s = _COMMA_CONNECTOR.sub(", ", s)  # "1, 4, and 9": the "and" after a comma splits nothing more
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    n = len(s)
    while i < n:
        ch = s[i]
        if ch == "\\" and i + 1 < n and s[i + 1] in "{}":
            depth += 1 if s[i + 1] == "{" else -1
            i += 2
            continue
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif depth == 0:
            if ch in ",;":
                parts.append(s[start:i])
                start = i + 1
            else:
                for word in (" or ", " and "):
                    if s.startswith(word, i):
                        parts.append(s[start:i])
                        start = i + len(word)
                        i = start - 1
                        break
        i += 1
    parts.append(s[start:])
    items = [p.strip() for p in parts]
    if len(items) > 1 and all(items):
        return items
    return [s.strip()]


# ---------------------------------------------------------------------------------------------
# Exact rationals

_INT = rf"\d{{1,{MAX_DIGITS}}}"
_DEC = rf"(?:{_INT}(?:\.\d{{0,{MAX_DIGITS}}})?|\.\d{{1,{MAX_DIGITS}}})"
_SIGNED_INT = rf"[+-]?{_INT}"
_RE_DECIMAL = re.compile(rf"^(?P<num>{_DEC})$")
_RE_SCI = re.compile(
    rf"^(?P<num>{_DEC})\s*(?:[eE](?P<e1>[+-]?\d{{1,4}})|(?:\\times|\\cdot|\*|×)\s*10\s*\^\s*\{{?\s*(?P<e2>[+-]?\d{{1,4}})\s*\}}?)$"
)
_RE_SLASH = re.compile(rf"^(?P<a>{_DEC})\s*/\s*(?P<b>{_DEC})$")
_RE_FRAC = re.compile(rf"^\\frac\s*\{{\s*(?P<a>{_SIGNED_INT})\s*\}}\s*\{{\s*(?P<b>{_SIGNED_INT})\s*\}}$")
_RE_FRAC_SHORT = re.compile(r"^\\frac\s*(?P<a>\d)\s*(?P<b>\d)$")  # \frac12
_RE_MIXED_LATEX = re.compile(
    rf"^(?P<w>{_INT})\s*\\frac\s*(?:\{{\s*(?P<a>{_INT})\s*\}}\s*\{{\s*(?P<b>{_INT})\s*\}}|(?P<a1>\d)(?P<b1>\d))$"
)
_RE_MIXED_TEXT = re.compile(rf"^(?P<w>{_INT})\s+(?P<a>{_INT})\s*/\s*(?P<b>{_INT})$")


def _unsigned_rational(s: str) -> Fraction | None:
    m = _RE_DECIMAL.match(s)
    if m:
        return Fraction(m.group("num"))
    m = _RE_SCI.match(s)
    if m:
        exp = int(m.group("e1") or m.group("e2"))
        if abs(exp) > MAX_SCI_EXPONENT:
            return None
        return Fraction(m.group("num")) * Fraction(10) ** exp
    m = _RE_SLASH.match(s)
    if m:
        b = Fraction(m.group("b"))
        return None if b == 0 else Fraction(m.group("a")) / b
    m = _RE_FRAC.match(s) or _RE_FRAC_SHORT.match(s)
    if m:
        b = int(m.group("b"))
        return None if b == 0 else Fraction(int(m.group("a")), b)
    m = _RE_MIXED_LATEX.match(s) or _RE_MIXED_TEXT.match(s)
    if m:
        # A whole number followed by a fraction is a mixed number: 1\frac{1}{2} is 3/2.
        a = m.group("a") or m.groupdict().get("a1")
        b = int(m.group("b") or m.groupdict().get("b1"))
        return None if b == 0 else int(m.group("w")) + Fraction(int(a), b)
    return None


def parse_rational(s: str) -> Fraction | None:
    """The exact value of `s` when it is a plain rational number (integer, decimal, fraction,
    mixed number, scientific notation), else None."""
    s = s.strip()
    sign = 1
    while s[:1] in ("-", "+"):
        if s[0] == "-":
            sign = -sign
        s = s[1:].lstrip()
    if s.startswith("(") and s.endswith(")") and "," not in s:
        inner = parse_rational(s[1:-1])
        return None if inner is None else sign * inner
    if s.startswith("{") and s.endswith("}"):
        inner = parse_rational(s[1:-1])
        return None if inner is None else sign * inner
    value = _unsigned_rational(s)
    return None if value is None else sign * value


def equal_numbers(gold: Fraction, gold_pct: bool, pred: Fraction, pred_pct: bool) -> bool:
    """Exact equality, with one rule for a percent sign written on one side only: "25%" matches
    both 25 and 0.25. When both or neither side carries the sign, values compare as written:
    no scaling by 100 is ever guessed for bare numbers (0.5 is not 50)."""
    if gold == pred:
        return True
    if gold_pct != pred_pct:
        pct, other = (gold, pred) if gold_pct else (pred, gold)
        return pct / 100 == other
    return False


_WORD_ANSWER = re.compile(r"^[A-Za-z][A-Za-z' \-]*[A-Za-z]$")


def word_answer(s: str) -> str | None:
    """A textual answer ("Monday", "east", "odd") in a canonical case, else None."""
    if _WORD_ANSWER.match(s) and s.lower() not in _MATH_WORDS and len(s.replace(" ", "")) >= 2:
        return re.sub(r"[\s\-]+", " ", s).strip().lower()
    return None
