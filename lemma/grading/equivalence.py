"""Equivalence of two extracted answers: the fast exact rules, then math-verify with checks on top.

`fast_equal` runs in the parent on strings and fractions only; it decides plain numbers, lists of
plain numbers and word answers, and returns None for everything else. `hard_equal` is the slow
path and runs only inside a worker process (`worker.py`), under the pool's hard timeout.

Why the slow path is safe to feed model text
---------------------------------------------
- We call math-verify's `parse` with a `LatexExtractionConfig` only. Its LaTeX path normalises
  with regexes and parses with latex2sympy2_extended, an ANTLR grammar that builds sympy objects
  node by node. The only strings that reach `sympify` there are NUMBER tokens the lexer has already
  matched (digits, '.', ','), which cannot name a function or an attribute.
- We never use math-verify's `ExprExtractionConfig`: it hands regex-matched text to sympy's
  `parse_expr`, which is `eval`. (Its regex allows only digits and operators, but a power tower
  still gets evaluated there, outside our guard.)
- `guard.too_costly` refuses power towers, huge exponents and factorials and giant integers before
  parsing, since sympy would otherwise try to build them exactly.
- Both of math-verify's SIGALRM timeouts are switched off (`parsing_timeout=None`,
  `timeout_seconds=None`): the worker pool's process kill is the timeout.

What we add on top of math-verify
---------------------------------
math-verify compares numbers after rounding to 6 places and with `evalf(chop=True)`, so
``1/2004!`` "equals" ``1/2006!`` and ``0.0000001``. Whenever math-verify says "equal" to two plain
numeric values, we re-check exactly: floats become the rationals they were written as, two
rationals compare exactly, and anything else must agree to 40 significant digits at 60-digit
precision. Lists compare as unordered multisets item by item; a percent sign on one side only
lets that side match either its value or its value / 100.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lemma.grading.guard import too_costly
from lemma.grading.normalize import (
    Normalized,
    compact,
    equal_numbers,
    normalize,
    parse_rational,
    word_answer,
)
from lemma.grading.several import answer_items

MAX_LIST_ITEMS = 50


class Refused(Exception):
    """An answer the grader will not evaluate (too costly, or a reference it cannot read)."""


# ---------------------------------------------------------------------------------------------
# Fast path: strings and fractions, no sympy


def _single_letter(s: str) -> str | None:
    return s.upper() if len(s) == 1 and s.isalpha() else None


# What an answer in several parts contains somewhere (a plain number contains none of it).
_SEVERAL = re.compile(r"[,;={±]|\\pm| and | or ")


def item_lists(gold: str, pred: str) -> tuple[list[str], list[str]]:
    """The items of both answers (lemma.grading.several.answer_items), the completion's named
    values read in the reference's order; one named tuple against as many bare values (``a=3,
    b=-4`` against "3 and -4, respectively") compares as that tuple."""
    gl, names = answer_items(gold)
    pl, pred_names = answer_items(pred, order=names)
    if names and len(gl) == 1 and pred_names is None and len(pl) == len(names) > 1:
        pl = ["(" + ", ".join(pl) + ")"]
    elif pred_names and len(pl) == 1 and names is None and len(gl) == len(pred_names) > 1:
        gl = ["(" + ", ".join(gl) + ")"]
    return gl, pl


def fast_equal(gold: str, pred: str) -> bool | None:
    """True/False when the exact rules can decide, None when the symbolic path must."""
    g, p = normalize(gold), normalize(pred)
    if compact(g.text) == compact(p.text):
        return True
    if _SEVERAL.search(g.text) or _SEVERAL.search(p.text):
        gl, pl = item_lists(gold, pred)
        if len(gl) == 1 and len(pl) == 1 and "(" not in gl[0] + pl[0]:
            gl, pl = [g.text], [p.text]  # one value each: the percent sign is read on the whole answer
    else:
        gl, pl = [g.text], [p.text]  # one plain value each (the common case, kept cheap)
    gv = [parse_rational(x) for x in gl]
    pv = [parse_rational(x) for x in pl]
    g_num = all(v is not None for v in gv)
    p_num = all(v is not None for v in pv)
    if g_num and p_num:
        if len(gv) == 1 and len(pv) == 1:
            return equal_numbers(gv[0], g.percent, pv[0], p.percent)
        return sorted(gv) == sorted(pv)
    gw = [word_answer(x) for x in gl]
    pw = [word_answer(x) for x in pl]
    g_word = all(w is not None for w in gw)
    p_word = all(w is not None for w in pw)
    if g_word and p_word:
        return sorted(gw) == sorted(pw)
    if (g_num and p_word) or (g_word and p_num):
        return False
    gl1, pl1 = _single_letter(g.text), _single_letter(p.text)
    if gl1 and pl1:
        return gl1 == pl1
    return None


# ---------------------------------------------------------------------------------------------
# Slow path: math-verify, in a worker process only


def _math_verify():
    # Imported here, not at module level, so the parent (which only runs the fast path) never
    # pays for sympy; workers import it once at start-up (see worker.py).
    import math_verify

    return math_verify


_LATEX_CONFIG = None
# A decimal inside an expression: sympy would evaluate \\sqrt{10.5} to a float at parse time,
# after which no exact check can tell 10\\sqrt{10.5} from 5\\sqrt{42}. Written as the fraction it
# is, the expression stays exact.
_DECIMAL = re.compile(r"(?<![\d.])(\d{1,30})\.(\d{1,30})(?![\d.])")


def _as_fraction(m: re.Match) -> str:
    digits, zeros = m.group(1) + m.group(2), "0" * len(m.group(2))
    return "{\\frac{" + digits + "}{1" + zeros + "}}"


@lru_cache(maxsize=4096)
def _parse(text: str):
    """math-verify's parse of one bare LaTeX answer (cached: a batch grades many samples of the
    same problem against the same reference)."""
    global _LATEX_CONFIG
    mv = _math_verify()
    if _LATEX_CONFIG is None:
        _LATEX_CONFIG = mv.LatexExtractionConfig()
    text = _DECIMAL.sub(_as_fraction, text.replace("$", "").replace("\n", " "))
    found = mv.parse(
        f"${text}$",
        extraction_config=[_LATEX_CONFIG],
        fallback_mode="no_fallback",
        parsing_timeout=None,
    )
    return found[0] if found else None


def warm_up() -> None:
    """Compile math-verify's regexes and prime the LaTeX parser's prediction cache, so that the
    first real items of a fresh worker are not several times slower than the rest."""
    for gold, pred in (
        ("\\frac{1}{2}", "0.5"),
        ("2\\sqrt{3}", "\\sqrt{12}"),
        ("(x+1)^2", "x^2+2x+1"),
        ("[1,2)", "(1,2]"),
        ("\\frac{\\pi}{4}", "\\frac{1}{4}\\pi"),
        ("x=3", "3"),
        ("1,2", "2,1"),
    ):
        _symbolic_one(normalize(gold), normalize(pred))
    _parse.cache_clear()


def _exact(expr):
    """`expr` with every float replaced by the rational it was written as."""
    import sympy

    return expr.replace(lambda e: isinstance(e, sympy.Float), lambda e: sympy.Rational(str(e)))


def exact_numeric_check(gold, pred) -> bool | None:
    """For two plain numeric values, their equality decided without rounding; None when either
    is not a plain number (sets, relations, expressions with variables)."""
    import sympy

    if not (isinstance(gold, sympy.Expr) and isinstance(pred, sympy.Expr)):
        return None
    if gold.free_symbols or pred.free_symbols:
        return None
    g = _exact(gold.doit())
    p = _exact(pred.doit())
    if not (g.is_number and p.is_number):
        return None
    if g.is_Rational and p.is_Rational:
        return g == p
    diff = g - p
    if diff.is_zero:
        return True
    precision = 60
    d = sympy.Abs(diff).evalf(precision)
    scale = sympy.Max(sympy.Abs(g).evalf(precision), sympy.Abs(p).evalf(precision))
    if not (d.is_Number and scale.is_Number):
        return None
    return bool(d <= scale * sympy.Rational(1, 10**40))


def _percent_variants(value, is_percent: bool):
    import sympy

    return [value, value * sympy.Rational(1, 100)] if is_percent else [value]


def _symbolic_one(g: Normalized, p: Normalized) -> bool:
    reason = too_costly(g.text)
    if reason:
        raise Refused(f"reference: {reason}")
    reason = too_costly(p.text)
    if reason:
        raise Refused(f"answer: {reason}")
    gold = _parse(g.text)
    if gold is None:
        raise Refused("reference answer could not be parsed")
    pred = _parse(p.text)
    if pred is None:
        return False  # the model wrote something that is not mathematics: not equal
    mv = _math_verify()
    golds = _percent_variants(gold, g.percent and not p.percent)
    preds = _percent_variants(pred, p.percent and not g.percent)
    for gv in golds:
        for pv in preds:
            if mv.verify(gv, pv, timeout_seconds=None):
                exact = exact_numeric_check(gv, pv)
                if exact is None or exact:
                    return True
    return False


def _item_equal(g: str, p: str) -> bool:
    fast = fast_equal(g, p)
    if fast is not None:
        return fast
    return _symbolic_one(normalize(g), normalize(p))


def hard_equal(gold: str, pred: str) -> bool:
    """Equivalence for pairs the fast path could not decide. Raises `Refused` for answers that
    must not be evaluated; any other exception is the caller's to report as an error."""
    g, p = normalize(gold), normalize(pred)
    gl, pl = item_lists(gold, pred)
    if len(gl) > MAX_LIST_ITEMS or len(pl) > MAX_LIST_ITEMS:
        raise Refused(f"more than {MAX_LIST_ITEMS} items in a list")
    if len(gl) == 1 and len(pl) == 1 and gl[0] != g.text:
        return _symbolic_one(normalize(gl[0]), normalize(pl[0]))  # named values: their tuples
    if len(gl) > 1 and len(gl) == len(pl):
        # Unordered lists of solutions: a one-to-one matching, item by item.
        unused = list(pl)
        for item in gl:
            for k, candidate in enumerate(unused):
                if _item_equal(item, candidate):
                    del unused[k]
                    break
            else:
                break
        else:
            return True
    return _symbolic_one(g, p)
