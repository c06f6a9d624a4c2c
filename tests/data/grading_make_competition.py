"""Writes grading_competition.jsonl: competition-style answers in public layouts (issue 24).

Run from the repository root: python tests/data/grading_make_competition.py

Rows are grouped by `kind`, the kinds issue 24 names:
- ``several``: a completion that gives several answers (boxed one by one, listed, a set, tuples,
  assignments per solution), against a reference that asks for all of them; a part of the set, or
  the tuple in the wrong order, is wrong;
- ``number_forms``: MATH's own number forms (``16,\\!386.20``, ``\\$``, ``{,}``, ``\\,``, percent,
  units after the number);
- ``radicals``: equal radicals and surds written differently, and near misses;
- ``relations``: inequalities either way round and in either notation, ``\\neq``, intervals and
  unions, an equation whose left side only names the unknown, a function written with another
  variable, ratios;
- ``whole_reference``: the reference is a whole MATH-style solution with its ``\\boxed{}`` in prose;
- ``no_marker``: the completion states its answer without ``\\boxed`` or the word "answer" (a last
  displayed expression, "... is the solution", an inline expression at the end); some state a wrong
  one, some end on an intermediate value a reader would not take as an answer.

Written before the grader was changed for issue 24, and committed with the first measurement of
the old grader on it (bench/RESULTS.md, "Grading competition-style answers"). The labelling rule is
tests/grading_sets.py's: `expected` is True exactly when the answer the completion commits to
equals the reference as a careful human grader judges it; a completion that commits to nothing is
False.
"""

from __future__ import annotations

import json
from pathlib import Path

T, F = True, False

# (kind, completion, gold, expected)
ROWS: list[tuple[str, str, str, bool]] = [
    # --- several answers ----------------------------------------------------------------------
    ("several", "Checking each case, the pairs are $\\boxed{(2, 2)}$ and $\\boxed{(6, 2)}$.", "(2,2), (6,2)", T),
    ("several", "Checking each case, the pairs are $\\boxed{(2, 2)}$ and $\\boxed{(6, 2)}$.", "(6,2), (2,2)", T),
    ("several", "Checking each case, the only pair is $\\boxed{(6, 2)}$.", "(2,2), (6,2)", F),
    ("several", "So $x = \\boxed{1}$ or $x = \\boxed{-2}$.", "1, -2", T),
    ("several", "So $x = \\boxed{1}$ or $x = \\boxed{-2}$.", "-2, 1", T),
    ("several", "Factoring, $(x-1)(x+2)=0$, so the roots are $\\boxed{1}$ and $\\boxed{-2}$.", "1,-2", T),
    ("several", "Factoring, $(x-1)(x+2)=0$, so the roots are $\\boxed{1}$ and $\\boxed{2}$.", "1,-2", F),
    ("several", "The solutions are \\[\\boxed{1}\\]\n\\[\\boxed{-2}\\]", "1, -2", T),
    ("several", "Solving the system gives $k = 4, n = 2$.", "k=4, n=2", T),
    ("several", "Solving the system gives $\\boxed{k = 4, n = 2}$.", "k = 4,\\ n = 2", T),
    ("several", "Solving the system gives $\\boxed{k = 2, n = 4}$.", "k=4, n=2", F),
    ("several", "The set of all such $n$ is $\\boxed{\\{1, 2, 3\\}}$.", "1, 2, 3", T),
    ("several", "The set of all such $n$ is $\\boxed{\\{3, 1, 2\\}}$.", "\\{1,2,3\\}", T),
    ("several", "The set of all such $n$ is $\\boxed{\\{1, 2\\}}$.", "\\{1,2,3\\}", F),
    ("several", "The ordered pair is $\\boxed{(2, 6)}$.", "(6, 2)", F),
    ("several", "The ordered pair is $\\boxed{(6, 2)}$.", "(6,2)", T),
    ("several", "The possible values of $a$ are $\\boxed{-3}$, $\\boxed{0}$ and $\\boxed{3}$.", "-3, 0, 3", T),
    ("several", "The possible values of $a$ are $\\boxed{-3}$, $\\boxed{0}$ and $\\boxed{3}$.", "0, 3", F),
    ("several", "The solutions are $\\boxed{p=3, q=2}$ and $\\boxed{p=5, q=3}$.", "p=3, q=2 and p=5, q=3", T),
    (
        "several",
        "All solutions: $(p, q) = (3, 2)$ and $(p, q) = (5, 3)$. The answer is $(3,2), (5,3)$.",
        "p=3, q=2 and p=5, q=3",
        T,
    ),
    ("several", "All solutions: the answer is $(3,2)$.", "p=3, q=2 and p=5, q=3", F),
    ("several", "The answer is $x = \\pm 2$.", "2, -2", T),
    ("several", "The answer is $\\boxed{\\pm\\frac{1}{2}}$.", "\\frac12, -\\frac12", T),
    # --- MATH's number forms --------------------------------------------------------------------
    ("number_forms", "The total cost is $\\boxed{16386.20}$ dollars.", "\\$16,\\!386.20", T),
    ("number_forms", "The total cost is $\\boxed{\\$16,386.20}$.", "16,\\!386.20", T),
    ("number_forms", "The total cost is $\\boxed{16,386.2}$.", "\\$16,\\!386.20", T),
    ("number_forms", "The total cost is $\\boxed{16,836.20}$.", "\\$16,\\!386.20", F),
    ("number_forms", "The answer is $\\boxed{11111100}$.", "11,\\!111,\\!100", T),
    ("number_forms", "The answer is $\\boxed{11,111,100}$.", "11,\\!111,\\!100", T),
    ("number_forms", "The answer is $\\boxed{1,111,100}$.", "11,\\!111,\\!100", F),
    ("number_forms", "The answer is $\\boxed{1{,}000{,}000}$.", "1000000", T),
    ("number_forms", "The answer is $\\boxed{10\\,000}$.", "10{,}000", T),
    ("number_forms", "The answer is $\\boxed{25\\%}$.", "25", T),
    ("number_forms", "The answer is $\\boxed{0.25}$.", "25\\%", T),
    ("number_forms", "The answer is $\\boxed{2.5}$.", "25\\%", F),
    ("number_forms", "The answer is $\\boxed{12\\text{ cm}^2}$.", "12", T),
    ("number_forms", "The answer is $\\boxed{12\\text{ inches}}$.", "12", T),
    ("number_forms", "The answer is $\\boxed{45^\\circ}$.", "45", T),
    ("number_forms", "The answer is $\\boxed{\\$1.50}$.", "\\$1.5", T),
    # --- radicals and surds -----------------------------------------------------------------------
    ("radicals", "The answer is $\\boxed{\\frac{10\\sqrt{10.5}}{27}}$.", "\\frac{5\\sqrt{42}}{27}", T),
    ("radicals", "The answer is $\\boxed{\\frac{10\\sqrt{10.5}}{27}}$.", "\\frac{5\\sqrt{41}}{27}", F),
    ("radicals", "The answer is $\\boxed{\\sqrt{72}}$.", "6\\sqrt{2}", T),
    ("radicals", "The answer is $\\boxed{\\sqrt{72}}$.", "6\\sqrt{3}", F),
    ("radicals", "The answer is $\\boxed{\\frac{1}{\\sqrt{2}}}$.", "\\frac{\\sqrt{2}}{2}", T),
    ("radicals", "The answer is $\\boxed{\\sqrt{0.5}}$.", "\\frac{\\sqrt2}{2}", T),
    ("radicals", "The answer is $\\boxed{2\\sqrt[3]{2}}$.", "\\sqrt[3]{16}", T),
    ("radicals", "The answer is $\\boxed{\\frac{3+\\sqrt{5}}{2}}$.", "\\frac{3+\\sqrt5}{2}", T),
    ("radicals", "The answer is $\\boxed{\\frac{3-\\sqrt{5}}{2}}$.", "\\frac{3+\\sqrt5}{2}", F),
    ("radicals", "The answer is $\\boxed{1.41421}$.", "\\sqrt{2}", F),
    ("radicals", "The answer is $\\boxed{\\sqrt{2.25}}$.", "1.5", T),
    ("radicals", "The answer is $\\boxed{\\frac{\\sqrt{6}}{3}}$.", "\\sqrt{\\frac{2}{3}}", T),
    # --- relations, intervals, equations --------------------------------------------------------
    ("relations", "The answer is $\\boxed{5 \\leq x}$.", "x \\geq 5", T),
    ("relations", "The answer is $\\boxed{x \\ge 5}$.", "x \\geq 5", T),
    ("relations", "The answer is $\\boxed{x > 5}$.", "x \\geq 5", F),
    ("relations", "The answer is $\\boxed{x != 3}$.", "x \\neq 3", T),
    ("relations", "The answer is $\\boxed{x \\ne 3}$.", "x \\neq 3", T),
    ("relations", "The answer is $\\boxed{(-\\infty, 1) \\cup (2, \\infty)}$.", "(-\\infty,1)\\cup(2,\\infty)", T),
    ("relations", "The answer is $\\boxed{(-\\infty, 1] \\cup (2, \\infty)}$.", "(-\\infty,1)\\cup(2,\\infty)", F),
    ("relations", "The answer is $\\boxed{x \\in [2, 5)}$.", "[2,5)", T),
    ("relations", "The answer is $\\boxed{2 \\le x < 5}$.", "[2,5)", T),
    ("relations", "The answer is $\\boxed{f(y) = y}$.", "f(x) = x", T),
    ("relations", "The answer is $\\boxed{f(y) = 2y}$.", "f(x) = x", F),
    ("relations", "The answer is $\\boxed{f(t) = t^2 + 1}$.", "f(x)=x^2+1", T),
    ("relations", "The answer is $\\boxed{(p, q) = (3, 2)}$.", "(3, 2)", T),
    ("relations", "The answer is $\\boxed{(p, q) = (2, 3)}$.", "(3, 2)", F),
    ("relations", "The answer is $\\boxed{11:21}$.", "11:21", T),
    ("relations", "The answer is $\\boxed{\\frac{11}{21}}$.", "11:21", T),
    ("relations", "The answer is $\\boxed{21:11}$.", "11:21", F),
    ("relations", "The answer is $\\boxed{x = 3}$.", "3", T),
    ("relations", "The answer is $\\boxed{y = 2x + 1}$.", "y=2x+1", T),
    ("relations", "The answer is $\\boxed{y = 2x - 1}$.", "y=2x+1", F),
    # --- the reference is a whole MATH-style solution ---------------------------------------------
    (
        "whole_reference",
        "So the answer is $\\boxed{\\frac{3}{4}}$.",
        "The probability is $\\frac{6}{8}$, which simplifies to $\\boxed{\\frac{3}{4}}$.",
        T,
    ),
    (
        "whole_reference",
        "So the answer is $\\boxed{\\frac{3}{8}}$.",
        "The probability is $\\frac{6}{8}$, which simplifies to $\\boxed{\\frac{3}{4}}$.",
        F,
    ),
    (
        "whole_reference",
        "The answer is $x = -2$ or $x = 1$.",
        "We factor: $(x+2)(x-1) = 0$. The solutions are $x = \\boxed{-2}$ and $x = \\boxed{1}$.",
        T,
    ),
    (
        "whole_reference",
        "The answer is $x = 1$.",
        "We factor: $(x+2)(x-1) = 0$. The solutions are $x = \\boxed{-2}$ and $x = \\boxed{1}$.",
        F,
    ),
    (
        "whole_reference",
        "Hence the total is \\boxed{16386.20}.",
        "Adding the three amounts, the total is $\\boxed{\\$16,\\!386.20}$.",
        T,
    ),
    (
        "whole_reference",
        "The final answer is $\\boxed{(-\\infty, -1) \\cup (1, \\infty)}$.",
        "We need $|x| > 1$, so $x \\in \\boxed{(-\\infty,-1)\\cup(1,\\infty)}$.",
        T,
    ),
    (
        "whole_reference",
        "The final answer is $\\boxed{(-1, 1)}$.",
        "We need $|x| > 1$, so $x \\in \\boxed{(-\\infty,-1)\\cup(1,\\infty)}$.",
        F,
    ),
    (
        "whole_reference",
        "**Answer:** $2\\sqrt{5}$",
        "By Pythagoras the distance is $\\sqrt{4^2+2^2} = \\sqrt{20} = \\boxed{2\\sqrt5}$.",
        T,
    ),
    # --- no answer marker ---------------------------------------------------------------------------
    ("no_marker", "Squaring both sides and simplifying we get\n\\[ 9 \\]", "9", T),
    ("no_marker", "Squaring both sides and simplifying we get\n\\[ 8 \\]", "9", F),
    ("no_marker", "Answer \\[ 9 \\]", "9", T),
    ("no_marker", "Thus $x \\le 2$ is our answer.", "x \\le 2", T),
    ("no_marker", "Thus $x < 2$ is our answer.", "x \\le 2", F),
    ("no_marker", "Therefore $x = 3$ is the solution.", "3", T),
    ("no_marker", "Combining the two fractions gives\n$$\\frac{3}{4}$$", "\\frac34", T),
    ("no_marker", "Combining the two fractions gives\n$$\\frac{3}{5}$$", "\\frac34", F),
    (
        "no_marker",
        "The roots of $x^2 - 5x + 6$ are found by factoring: $(x-2)(x-3)$, giving $x = 2$ and $x = 3$.",
        "2, 3",
        T,
    ),
    ("no_marker", "Rationalising the denominator, we obtain $\\frac{\\sqrt{6}}{3}$.", "\\frac{\\sqrt6}{3}", T),
    ("no_marker", "Rationalising the denominator, we obtain $\\frac{\\sqrt{6}}{2}$.", "\\frac{\\sqrt6}{3}", F),
    ("no_marker", "The interval where the function increases is $(1, \\infty)$.", "(1,\\infty)", T),
    ("no_marker", "So the number of ways is $\\binom{6}{2} = 15$.", "15", T),
    ("no_marker", "So the number of ways is $\\binom{6}{2} = 15$.", "20", F),
    ("no_marker", "Let $a = 3$ and $b = 4$. First we need $a^2 + b^2$, which", "5", F),
    ("no_marker", "We set up the equation $2x + 3 = 11$. Next we would subtract", "4", F),
    ("no_marker", "The final result is \\(\\frac{7}{2}\\).", "3.5", T),
    ("no_marker", "Evaluating, $f(2) = 4 \\cdot 2 - 1 = 7$.", "7", T),
]


def main() -> None:
    out = Path(__file__).with_name("grading_competition.jsonl")
    with out.open("w", encoding="utf-8") as f:
        for i, (kind, completion, gold, expected) in enumerate(ROWS):
            row = {"id": f"c{i:03d}", "kind": kind, "completion": completion, "gold": gold, "expected": expected}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(ROWS)} rows to {out}")


if __name__ == "__main__":
    main()
