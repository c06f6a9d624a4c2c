"""Plain math-verify, used as its README shows (``verify(parse(gold), parse(answer))``), as the
reference point our grader is measured against in tests and in bench/grading.py. A bare LaTeX
reference ("\\frac{1}{2}") is wrapped in ``$...$`` first, as math-verify's README does for its
gold answers, so the baseline is not handicapped by a formatting detail. Not used for grading:
its default extraction hands text to sympy's `parse_expr` and its timeouts use SIGALRM, so call
it only from a main thread, on trusted inputs."""

from __future__ import annotations

import logging


def _gold_text(gold: str) -> str:
    if "$" in gold or "\\boxed" in gold or "####" in gold or "\\(" in gold or "\\[" in gold:
        return gold
    return f"${gold.strip()}$"


def math_verify_correct(completion: str, gold: str) -> bool:
    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    return bool(verify(parse(_gold_text(gold)), parse(completion)))
