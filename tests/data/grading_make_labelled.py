"""Writes grading_labelled.jsonl: our labelled set for the answer grader.

Run from the repository root: python tests/data/grading_make_labelled.py
The hand-written rows below cover every extraction rule and every equivalence rule of
lemma/grading in both directions (equal and not equal), in GSM8K and MATH styles; a seeded
generator adds GSM8K-style rows in the formats models write. `expected` is the truth as a careful
human grader would judge it (exact answers; a decimal approximation of an irrational or of 1/3 is
not the answer). `expected_status`, where present, is the status the grader must report.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

T, F = True, False

# (category, style, completion, gold, expected[, expected_status])
HAND: list[tuple] = [
    # --- the paper's "The answer is: X" ------------------------------------------------------
    ("paper_marker", "gsm8k", "She buys 3 packs of 6, so 3 * 6 = 18 eggs.\nThe answer is: 18", "18", T),
    ("paper_marker", "gsm8k", "3 * 6 = 18 eggs, then 18 - 2 = 16.\nThe answer is: 18", "16", F),
    ("paper_marker", "gsm8k", "The answer is: 72.", "72", T),
    ("paper_marker", "gsm8k", "Total is 5 + 7 = 12.\nthe answer is:  12", "12", T),
    (
        "paper_marker",
        "gsm8k",
        "First 4 + 4 = 8.\nThe answer is: 8\nWait, I forgot the last bag. 8 + 4 = 12.\nThe answer is: 12",
        "12",
        T,
    ),
    (
        "paper_marker",
        "gsm8k",
        "First 4 + 4 = 8.\nThe answer is: 12\nWait, that double counts. 12 - 4 = 8.\nThe answer is: 8",
        "12",
        F,
    ),
    (
        "paper_marker",
        "gsm8k",
        "He earns 20 per hour for 3 hours, 60 in all, and spends 15 of it; 45 is left over.\nThe answer is: 60",
        "45",
        F,
    ),
    (
        "paper_marker",
        "math",
        "Adding the fractions gives $\\frac{5}{6}$.\nThe answer is: \\frac{5}{6}",
        "\\frac{5}{6}",
        T,
    ),
    ("paper_marker", "math", "So $x = 3$ or $x = 4$. Checking, only 4 works.\nThe answer is: 3", "4", F),
    (
        "paper_marker",
        "math",
        "We get $\\boxed{7}$ at first, but the reflection shows an error.\nThe answer is: 9",
        "9",
        T,
    ),
    ("paper_marker", "math", "We get $\\boxed{9}$ first.\nThe answer is: 7", "9", F),
    ("paper_marker", "math", "The area is $2\\sqrt{3}$.\nThe answer is: $2\\sqrt{3}$", "2\\sqrt{3}", T),
    # --- GSM8K's "#### X" -----------------------------------------------------------------------
    (
        "gsm8k_marker",
        "gsm8k",
        "Natalia sold 48/2 = 24 clips in May.\nAltogether she sold 48+24 = 72 clips.\n#### 72",
        "72",
        T,
    ),
    (
        "gsm8k_marker",
        "gsm8k",
        "Natalia sold 48/2 = 24 clips in May.\nAltogether she sold 48+24 = 72 clips.\n#### 24",
        "72",
        F,
    ),
    ("gsm8k_marker", "gsm8k", "Weng earns 12/60 = 0.2 per minute, so 0.2 * 50 = 10.\n#### 10", "10", T),
    ("gsm8k_marker", "gsm8k", "So 10 dollars.\n####10", "10", T),
    (
        "gsm8k_marker",
        "gsm8k",
        "Betty needs 100 - 50 - 15 - 30 = 5 more.\n#### 5\nSome trailing text with the number 99.",
        "5",
        T,
    ),
    ("gsm8k_marker", "gsm8k", "#### 4\nRechecking: the rest is 6.\n#### 6", "4", F),
    ("gsm8k_marker", "math", "Simplify to get \\frac{1}{3}.\n#### \\frac{1}{3}", "\\frac{1}{3}", T),
    ("gsm8k_marker", "math", "#### \\frac{1}{4}", "\\frac{1}{3}", F),
    # --- the last \boxed{...}, nested braces ---------------------------------------------------
    ("boxed", "math", "Therefore the answer is $\\boxed{\\frac{\\sqrt{3}}{2}}$.", "\\frac{\\sqrt{3}}{2}", T),
    ("boxed", "math", "Therefore the answer is $\\boxed{\\frac{\\sqrt{3}}{3}}$.", "\\frac{\\sqrt{3}}{2}", F),
    ("boxed", "math", "At first $\\boxed{5}$ but correcting the sign gives $\\boxed{-5}$.", "-5", T),
    ("boxed", "math", "At first $\\boxed{-5}$ but correcting the sign gives $\\boxed{5}$.", "-5", F),
    (
        "boxed",
        "math",
        "Hence $\\boxed{\\left(\\frac{1}{2}, \\frac{3}{4}\\right)}$.",
        "\\left(\\frac{1}{2}, \\frac{3}{4}\\right)",
        T,
    ),
    (
        "boxed",
        "math",
        "Hence $\\boxed{\\left(\\frac{3}{4}, \\frac{1}{2}\\right)}$.",
        "\\left(\\frac{1}{2}, \\frac{3}{4}\\right)",
        F,
    ),
    ("boxed", "math", "The value is \\boxed{2^{10}}.", "1024", T),
    ("boxed", "math", "The value is \\boxed{2^{11}}.", "1024", F),
    ("boxed", "math", "So the sum is $\\boxed{\\dfrac{a+b}{2}}$.", "\\frac{a+b}{2}", T),
    ("boxed", "math", "So the sum is $\\boxed{\\dfrac{a-b}{2}}$.", "\\frac{a+b}{2}", F),
    ("boxed", "gsm8k", "She has 3 + 4 = 7 apples left, so \\boxed{7}.", "7", T),
    ("boxed", "gsm8k", "She has 3 + 4 = 7 apples left, so \\boxed{8}.", "7", F),
    ("boxed", "math", "The answer: $\\boxed{\\sqrt{2}+1}$.", "1+\\sqrt{2}", T),
    ("boxed", "math", "The answer: $\\boxed{\\sqrt{2}-1}$.", "1+\\sqrt{2}", F),
    ("boxed", "math", "This gives \\fbox{12}.", "12", T),
    ("boxed", "math", "The polynomial is $\\boxed{x^2+2x+1}$.", "(x+1)^2", T),
    ("boxed", "math", "The polynomial is $\\boxed{x^2+2x-1}$.", "(x+1)^2", F),
    # --- Minerva's "Final Answer: The final answer is X. I hope it is correct." ----------------
    (
        "minerva",
        "math",
        "We compute $3^4 = 81$.\nFinal Answer: The final answer is $81$. I hope it is correct.",
        "81",
        T,
    ),
    (
        "minerva",
        "math",
        "We compute $3^4 = 81$.\nFinal Answer: The final answer is $27$. I hope it is correct.",
        "81",
        F,
    ),
    ("minerva", "math", "Final Answer: The final answer is $\\frac{7}{2}$. I hope it is correct.", "3.5", T),
    ("minerva", "math", "Final Answer: The final answer is $\\frac{7}{3}$. I hope it is correct.", "3.5", F),
    ("minerva", "math", "Final Answer: The final answer is 3.5. I hope it is correct.", "\\frac{7}{2}", T),
    (
        "minerva",
        "gsm8k",
        "So they need 14 more chairs.\nFinal Answer: The final answer is 14. I hope it is correct.",
        "14",
        T,
    ),
    (
        "minerva",
        "gsm8k",
        "So they need 14 more chairs.\nFinal Answer: The final answer is 41. I hope it is correct.",
        "14",
        F,
    ),
    ("minerva", "math", "Final Answer: The final answer is $(2,-1)$. I hope it is correct.", "(2,-1)", T),
    ("minerva", "math", "Final Answer: The final answer is $(-1,2)$. I hope it is correct.", "(2,-1)", F),
    # --- last number fallback (style setting) -----------------------------------------------------
    ("last_number", "gsm8k", "Tom has 5 marbles and buys 7 more, so he has 12 marbles.", "12", T),
    ("last_number", "gsm8k", "Tom has 5 marbles and buys 7 more, so he has 13 marbles.", "12", F),
    ("last_number", "gsm8k", "The trip costs $1,250 in total.", "1250", T),
    ("last_number", "gsm8k", "Each of the 4 kids gets 2.5 cookies", "2.5", T),
    ("last_number", "gsm8k", "He walked 3 miles on each of 4 days", "12", F),
    ("last_number", "math", "Tom has 5 marbles and buys 7 more, so he has 12 marbles.", "12", F, "no_answer"),
    ("last_number", "world", "Tom has 5 marbles and buys 7 more, so he has 12 marbles.", "12", F, "no_answer"),
    ("last_number", "world", "Tom has 5 marbles and buys 7 more.\nThe answer is: 12", "12", T),
    # A concluding sentence states its value (issue 11: real models conclude this way); the
    # rounding after "which is about" is not the answer.
    ("conclusion", "math", "so the final value is 2\\sqrt{5}, which is about 4.47", "2\\sqrt{5}", T),
    # --- no answer at all ------------------------------------------------------------------------
    ("no_answer", "gsm8k", "I am not sure how to solve this problem.", "12", F, "no_answer"),
    ("no_answer", "math", "Let us think about the geometry of the triangle first.", "\\frac{1}{2}", F, "no_answer"),
    ("no_answer", "gsm8k", "", "3", F, "no_answer"),
    ("no_answer", "math", "The answer is:", "3", F, "no_answer"),
    # --- thousands separators, {,} -----------------------------------------------------------------
    ("thousands", "gsm8k", "The company earns 1,234,567 dollars.\n#### 1,234,567", "1234567", T),
    ("thousands", "gsm8k", "#### 1,234,567", "1234576", F),
    ("thousands", "gsm8k", "The answer is: 12,000", "12000", T),
    ("thousands", "gsm8k", "The answer is: 12,000", "1200", F),
    ("thousands", "math", "So $\\boxed{10{,}080}$ arrangements.", "10080", T),
    ("thousands", "math", "So $\\boxed{10{,}800}$ arrangements.", "10080", F),
    ("thousands", "math", "There are $\\boxed{1\\,000\\,000}$ codes.", "1000000", T),
    ("thousands", "math", "There are $\\boxed{100\\,000}$ codes.", "1000000", F),
    ("thousands", "gsm8k", "The answer is: 2,500.50", "2500.5", T),
    ("thousands", "gsm8k", "The answer is: 2,500.50", "2500.05", F),
    # --- currency ---------------------------------------------------------------------------------
    ("currency", "gsm8k", "She pays 3 * $4 = $12.\nThe answer is: $12", "12", T),
    ("currency", "gsm8k", "She pays 3 * $4 = $12.\nThe answer is: $12.50", "12", F),
    ("currency", "gsm8k", "#### $18.00", "18", T),
    ("currency", "gsm8k", "#### $18.50", "18", F),
    ("currency", "math", "The total cost is $\\boxed{\\$42.50}$.", "42.5", T),
    ("currency", "math", "The total cost is $\\boxed{\\$42.05}$.", "42.5", F),
    ("currency", "gsm8k", "The answer is: €250", "250", T),
    ("currency", "gsm8k", "The answer is: £25", "250", F),
    # --- trailing units and words -------------------------------------------------------------------
    ("units", "gsm8k", "The answer is: 18 apples", "18", T),
    ("units", "gsm8k", "The answer is: 81 apples", "18", F),
    ("units", "gsm8k", "#### 45 minutes", "45", T),
    ("units", "gsm8k", "#### 4.5 hours", "45", F),
    ("units", "gsm8k", "The answer is: 30 dollars.", "30", T),
    ("units", "math", "The side is $\\boxed{5\\text{ cm}}$.", "5", T),
    ("units", "math", "The side is $\\boxed{6\\text{ cm}}$.", "5", F),
    ("units", "math", "The area is $\\boxed{12 \\text{ square units}}$.", "12", T),
    ("units", "math", "The area is $\\boxed{24 \\text{ square units}}$.", "12", F),
    ("units", "math", "The volume is $\\boxed{36\\mbox{ cm}^3}$.", "36", T),
    ("units", "math", "The speed is $\\boxed{60 \\text{ m}}$.", "60", T),
    ("units", "math", "It is $\\boxed{5x}$.", "5", F),
    ("units", "math", "It is $\\boxed{2\\pi}$.", "2", F),
    # --- degrees ------------------------------------------------------------------------------------
    ("degrees", "math", "So the angle is $\\boxed{45^\\circ}$.", "45", T),
    ("degrees", "math", "So the angle is $\\boxed{54^\\circ}$.", "45", F),
    ("degrees", "math", "The angle measures $\\boxed{120^{\\circ}}$.", "120^\\circ", T),
    ("degrees", "math", "The angle measures $\\boxed{60^{\\circ}}$.", "120^\\circ", F),
    ("degrees", "gsm8k", "The answer is: 90 degrees", "90", T),
    ("degrees", "gsm8k", "The answer is: 180 degrees", "90", F),
    ("degrees", "math", "Final Answer: The final answer is $30°$. I hope it is correct.", "30", T),
    # --- percent on one side only --------------------------------------------------------------------
    ("percent", "gsm8k", "The discount is 25%.\nThe answer is: 25%", "25", T),
    ("percent", "gsm8k", "The answer is: 25%", "0.25", T),
    ("percent", "gsm8k", "The answer is: 25%", "20", F),
    ("percent", "gsm8k", "The answer is: 25", "25%", T),
    ("percent", "gsm8k", "The answer is: 0.25", "25%", T),
    ("percent", "gsm8k", "The answer is: 0.35", "25%", F),
    ("percent", "math", "So $\\boxed{40\\%}$ of the students.", "40", T),
    ("percent", "math", "So $\\boxed{4\\%}$ of the students.", "40", F),
    ("percent", "gsm8k", "The answer is: 12 percent", "12", T),
    ("percent", "gsm8k", "The answer is: 12.5%", "12.5%", T),
    # a percentage rule applied without any percent sign accepts wrong answers: 0.5 is not 50
    ("percent_trap", "gsm8k", "The answer is: 50", "0.5", F),
    ("percent_trap", "gsm8k", "The answer is: 0.5", "50", F),
    ("percent_trap", "math", "$\\boxed{0.3}$", "30", F),
    ("percent_trap", "math", "$\\boxed{3}$", "0.03", F),
    ("percent_trap", "gsm8k", "#### 0.12", "12", F),
    # --- mixed numbers -------------------------------------------------------------------------------
    ("mixed_number", "math", "The length is $\\boxed{1\\frac{1}{2}}$ feet.", "\\frac{3}{2}", T),
    ("mixed_number", "math", "The length is $\\boxed{1\\frac{1}{3}}$ feet.", "\\frac{3}{2}", F),
    ("mixed_number", "math", "$\\boxed{2\\frac{3}{4}}$", "2.75", T),
    ("mixed_number", "math", "$\\boxed{2\\frac{3}{4}}$", "1.5", F),
    ("mixed_number", "gsm8k", "The answer is: 3 1/2", "3.5", T),
    ("mixed_number", "gsm8k", "The answer is: 3 1/2", "1.5", F),
    ("mixed_number", "math", "$\\boxed{-1\\frac{1}{4}}$", "-\\frac{5}{4}", T),
    ("mixed_number", "math", "$\\boxed{-1\\frac{1}{4}}$", "-\\frac{3}{4}", F),
    ("mixed_number", "math", "$\\boxed{\\frac{7}{2}}$", "3\\frac12", T),
    # --- unordered lists of solutions ------------------------------------------------------------
    ("list", "math", "The solutions are $\\boxed{2, -3}$.", "-3, 2", T),
    ("list", "math", "The solutions are $\\boxed{2, 3}$.", "-3, 2", F),
    ("list", "math", "The solutions are $\\boxed{x = 2 \\text{ or } x = -3}$.", "-3, 2", T),
    ("list", "math", "The solutions are $\\boxed{x = 2}$.", "-3, 2", F),
    ("list", "math", "$\\boxed{\\frac{1}{2}, -1, 4}$", "4, -1, \\frac{1}{2}", T),
    ("list", "math", "$\\boxed{\\frac{1}{2}, 1, 4}$", "4, -1, \\frac{1}{2}", F),
    ("list", "math", "$\\boxed{1+\\sqrt{2}, 1-\\sqrt{2}}$", "1-\\sqrt{2}, 1+\\sqrt{2}", T),
    ("list", "math", "$\\boxed{1+\\sqrt{3}, 1-\\sqrt{3}}$", "1-\\sqrt{2}, 1+\\sqrt{2}", F),
    ("list", "math", "$\\boxed{2, 2, 3}$", "2, 3", F),
    ("list", "gsm8k", "The answer is: 4 and 6", "6, 4", T),
    ("list", "gsm8k", "The answer is: 4 and 7", "6, 4", F),
    # --- choices: \text{(C)} vs C ----------------------------------------------------------------
    ("choice", "math", "So the correct option is $\\boxed{\\text{(C)}}$.", "C", T),
    ("choice", "math", "So the correct option is $\\boxed{\\text{(B)}}$.", "C", F),
    ("choice", "math", "The answer is: (D)", "\\text{(D)}", T),
    ("choice", "math", "The answer is: (A)", "\\text{(D)}", F),
    ("choice", "math", "$\\boxed{\\textbf{(E)}}$", "E", T),
    ("choice", "math", "$\\boxed{E}$", "\\text{(E)}", T),
    ("choice", "math", "$\\boxed{A}$", "\\text{(E)}", F),
    # --- \dfrac / \tfrac ----------------------------------------------------------------------------
    ("dfrac", "math", "$\\boxed{\\dfrac{3}{8}}$", "\\frac{3}{8}", T),
    ("dfrac", "math", "$\\boxed{\\dfrac{3}{5}}$", "\\frac{3}{8}", F),
    ("dfrac", "math", "$\\boxed{\\tfrac{2}{9}}$", "\\frac{2}{9}", T),
    ("dfrac", "math", "$\\boxed{\\tfrac{9}{2}}$", "\\frac{2}{9}", F),
    ("dfrac", "math", "$\\boxed{\\dfrac{\\pi}{4}}$", "\\frac{\\pi}{4}", T),
    ("dfrac", "math", "$\\boxed{\\dfrac{\\pi}{3}}$", "\\frac{\\pi}{4}", F),
    ("dfrac", "gsm8k", "The answer is: \\dfrac{1}{2}", "0.5", T),
    # --- exact rationals: no rounding false positives ---------------------------------------------
    ("exact", "math", "$\\boxed{\\frac{1}{2004!}}$", "\\frac{1}{2006!}", F),
    ("exact", "math", "$\\boxed{\\frac{1}{2006!}}$", "\\frac{1}{2006!}", T),
    ("exact", "math", "$\\boxed{0.0000001}$", "\\frac{1}{10000000}", T),
    ("exact", "math", "$\\boxed{0.0000001}$", "\\frac{1}{10000001}", F),
    ("exact", "math", "$\\boxed{0.0000001}$", "\\frac{1}{2004!}", F),
    ("exact", "math", "$\\boxed{0.333333}$", "\\frac{1}{3}", F),
    ("exact", "math", "$\\boxed{0.3333333}$", "0.3333334", F),
    ("exact", "math", "$\\boxed{1.0000001}$", "1", F),
    ("exact", "gsm8k", "The answer is: 1000001", "1000000", F),
    ("exact", "gsm8k", "The answer is: 0.1", "\\frac{1}{10}", T),
    ("exact", "math", "$\\boxed{\\frac{6}{8}}$", "\\frac{3}{4}", T),
    ("exact", "math", "$\\boxed{1.5}$", "\\frac{3}{2}", T),
    ("exact", "math", "$\\boxed{1.41421356}$", "\\sqrt{2}", F),
    ("exact", "math", "$\\boxed{3.14159265}$", "\\pi", F),
    ("exact", "math", "$\\boxed{2^{-30}}$", "2^{-31}", F),
    ("exact", "math", "$\\boxed{\\frac{1}{2^{30}}}$", "2^{-30}", T),
    ("exact", "math", "$\\boxed{10^{-9}}$", "0", F),
    ("exact", "gsm8k", "#### 12.0", "12", T),
    ("exact", "gsm8k", "#### 12.01", "12", F),
    ("exact", "math", "$\\boxed{1.5 \\times 10^{3}}$", "1500", T),
    ("exact", "math", "$\\boxed{1.5 \\times 10^{4}}$", "1500", F),
    # --- equations against values ------------------------------------------------------------------
    ("equation", "math", "Solving, $\\boxed{x = 5}$.", "5", T),
    ("equation", "math", "Solving, $\\boxed{x = 6}$.", "5", F),
    ("equation", "math", "$\\boxed{5}$", "x=5", T),
    ("equation", "math", "$\\boxed{-5}$", "x=5", F),
    ("equation", "math", "$\\boxed{y = \\frac{3}{2}}$", "\\frac{3}{2}", T),
    ("equation", "math", "$\\boxed{k = \\sqrt{7}}$", "\\sqrt{7}", T),
    ("equation", "math", "$\\boxed{k = \\sqrt{5}}$", "\\sqrt{7}", F),
    ("equation", "math", "$\\boxed{y = 2x + 3}$", "y=2x+3", T),
    ("equation", "math", "$\\boxed{y = 3x + 2}$", "y=2x+3", F),
    ("equation", "gsm8k", "The answer is: x = 12", "12", T),
    # --- intervals: brackets are meaning, not decoration --------------------------------------------
    ("interval", "math", "$\\boxed{[1, 2)}$", "[1,2)", T),
    ("interval", "math", "$\\boxed{(1, 2)}$", "[1,2)", F),
    ("interval", "math", "$\\boxed{(1, 2]}$", "[1,2)", F),
    ("interval", "math", "$\\boxed{(-\\infty, 3]}$", "(-\\infty,3]", T),
    ("interval", "math", "$\\boxed{(-\\infty, 3)}$", "(-\\infty,3]", F),
    ("interval", "math", "$\\boxed{[0, \\infty)}$", "[0,\\infty)", T),
    ("interval", "math", "$\\boxed{(0, \\infty)}$", "[0,\\infty)", F),
    ("interval", "math", "$\\boxed{(-\\infty,-1) \\cup (1,\\infty)}$", "(-\\infty,-1)\\cup(1,\\infty)", T),
    ("interval", "math", "$\\boxed{(-\\infty,-1] \\cup [1,\\infty)}$", "(-\\infty,-1)\\cup(1,\\infty)", F),
    # --- symbolic equivalence ------------------------------------------------------------------------
    ("symbolic", "math", "$\\boxed{2\\sqrt{2}}$", "\\sqrt{8}", T),
    ("symbolic", "math", "$\\boxed{3\\sqrt{2}}$", "\\sqrt{8}", F),
    ("symbolic", "math", "$\\boxed{\\frac{\\sqrt{2}}{2}}$", "\\frac{1}{\\sqrt{2}}", T),
    ("symbolic", "math", "$\\boxed{\\frac{\\sqrt{3}}{2}}$", "\\frac{1}{\\sqrt{2}}", F),
    ("symbolic", "math", "$\\boxed{\\pi r^2}$", "r^2\\pi", T),
    ("symbolic", "math", "$\\boxed{2\\pi r}$", "r^2\\pi", F),
    ("symbolic", "math", "$\\boxed{\\frac{3\\pi}{2}}$", "1.5\\pi", T),
    ("symbolic", "math", "$\\boxed{6 + 2\\sqrt{5}}$", "2(3+\\sqrt{5})", T),
    ("symbolic", "math", "$\\boxed{6 + \\sqrt{5}}$", "2(3+\\sqrt{5})", F),
    ("symbolic", "math", "$\\boxed{\\log_2 8}$", "3", T),
    ("symbolic", "math", "$\\boxed{x^2 - 1}$", "(x-1)(x+1)", T),
    ("symbolic", "math", "$\\boxed{x^2 + 1}$", "(x-1)(x+1)", F),
    (
        "symbolic",
        "math",
        "$\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}$",
        "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}",
        T,
    ),
    (
        "symbolic",
        "math",
        "$\\boxed{\\begin{pmatrix} 2 \\\\ 1 \\end{pmatrix}}$",
        "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}",
        F,
    ),
    ("symbolic", "math", "$\\boxed{3 - 4i}$", "3-4i", T),
    ("symbolic", "math", "$\\boxed{3 + 4i}$", "3-4i", F),
    # --- word answers ----------------------------------------------------------------------------------
    ("words", "math", "So the day is $\\boxed{\\text{Monday}}$.", "\\text{Monday}", T),
    ("words", "math", "So the day is $\\boxed{\\text{Tuesday}}$.", "\\text{Monday}", F),
    ("words", "math", "The function is $\\boxed{\\text{odd}}$.", "\\text{odd}", T),
    ("words", "math", "The function is $\\boxed{\\text{even}}$.", "\\text{odd}", F),
    ("words", "math", "$\\boxed{\\text{East}}$", "east", T),
    ("words", "math", "$\\boxed{12}$", "\\text{none}", F),
    # --- the built-in world --------------------------------------------------------------------------------
    ("world", "world", "A farmer has 12 cows and buys 8 more. 12 + 8 = 20\nThe answer is: 20", "20", T),
    ("world", "world", "A farmer has 12 cows and buys 8 more. 12 + 8 = 21\nThe answer is: 21", "20", F),
    ("world", "world", "12 + 8 = 20\nThe answer is: 20\nWait, he sold 5. 20 - 5 = 15\nThe answer is: 15", "15", T),
    ("world", "world", "12 + 8 = 20\nThe answer is: 15\nWait, he sold none. 20\nThe answer is: 20", "15", F),
    ("world", "world", "12 + 8 = 20 then 20 - 5", "15", F, "no_answer"),
    ("world", "world", "The answer is: 1,500", "1500", T),
    ("world", "world", "Reference: 3 * 7 = 21\nThe answer is: 21", "3 * 7 = 21\nThe answer is: 21", T),
    ("world", "world", "Reference: 3 * 7 = 21\nThe answer is: 24", "3 * 7 = 21\nThe answer is: 21", F),
    # --- the reference is a full solution ----------------------------------------------------------------
    (
        "reference_solution",
        "gsm8k",
        "The answer is: 72",
        "Natalia sold 48/2 = 24 clips in May.\nAltogether 48+24 = 72.\n#### 72",
        T,
    ),
    (
        "reference_solution",
        "gsm8k",
        "The answer is: 24",
        "Natalia sold 48/2 = 24 clips in May.\nAltogether 48+24 = 72.\n#### 72",
        F,
    ),
    ("reference_solution", "math", "$\\boxed{\\frac{1}{4}}$", "Half of a half is $\\boxed{\\frac14}$.", T),
    ("reference_solution", "math", "$\\boxed{\\frac{1}{2}}$", "Half of a half is $\\boxed{\\frac14}$.", F),
    # --- sizes and hostile inputs: refused or judged, never run -----------------------------------------
    ("hostile", "math", "$\\boxed{9^{9^{9^{9^{9}}}}}$", "1", F, "error"),
    ("hostile", "math", "$\\boxed{__import__('os').system('true')}$", "0", F),
    ("hostile", "gsm8k", "The answer is: __import__('os').getcwd()", "0", F),
    ("hostile", "math", "$\\boxed{2^{10000000}}$", "2", F, "error"),
    ("hostile", "math", "$\\boxed{\\frac{1}{2}", "\\frac{1}{2}", F, "no_answer"),
]


def _fmt_number(rng: random.Random, value: int) -> str:
    """One of the ways models write an integer answer."""
    kind = rng.randrange(5)
    if kind == 0 and value >= 1000:
        return f"{value:,}"
    if kind == 1:
        return f"${value}"
    if kind == 2:
        return f"{value}.00" if rng.random() < 0.5 else f"{value}"
    if kind == 3:
        return f"{value} {rng.choice(['apples', 'dollars', 'minutes', 'pages', 'cookies'])}"
    return str(value)


def generated(rng: random.Random, n: int) -> list[dict]:
    """GSM8K-style rows: a short worked solution in one of several answer formats, the gold a
    bare integer. Half are right; the wrong half is off by a plausible slip."""
    rows = []
    for i in range(n):
        a, b, c = rng.randint(2, 60), rng.randint(2, 40), rng.randint(1, 30)
        gold = a * b - c
        right = i % 2 == 0
        answer = gold if right else gold + rng.choice([-10, -2, -1, 1, 2, 10, a, c])
        body = f"Each of the {a} boxes holds {b} items, so {a} * {b} = {a * b}. After {c} are used, {a * b} - {c} = {answer}."
        fmt = i % 4
        text_answer = _fmt_number(rng, answer)
        if fmt == 0:
            completion = f"{body}\n#### {text_answer}"
        elif fmt == 1:
            completion = f"{body}\nThe answer is: {text_answer}"
        elif fmt == 2:
            completion = f"{body} So the total is $\\boxed{{{answer}}}$."
        else:
            completion = body  # last-number fallback
        rows.append(
            {
                "category": "generated_gsm8k",
                "style": "gsm8k",
                "completion": completion,
                "gold": str(gold),
                "expected": right,
                "source": "generated",
            }
        )
    return rows


def main() -> None:
    rows = []
    for entry in HAND:
        category, style, completion, gold, expected = entry[:5]
        row = {
            "category": category,
            "style": style,
            "completion": completion,
            "gold": gold,
            "expected": expected,
            "source": "hand",
        }
        if len(entry) > 5:
            row["expected_status"] = entry[5]
        rows.append(row)
    rows += generated(random.Random(20250321), 120)
    for i, row in enumerate(rows):
        row["id"] = f"g{i:04d}"
    out = Path(__file__).with_name("grading_labelled.jsonl")
    with out.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} rows ({sum(r['source'] == 'hand' for r in rows)} hand-written) to {out}")


if __name__ == "__main__":
    main()
