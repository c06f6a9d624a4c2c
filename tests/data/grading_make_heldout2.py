"""Writes grading_heldout2.jsonl: a SECOND held-out set for the answer grader.

Run from the repository root: python tests/data/grading_make_heldout2.py

Why a second one: the first held-out set (grading_heldout.jsonl) was graded once, after the
extractor was tuned on the development sets, and its misses were then looked at. Any change made
after that is tuned on it, so its later figures are no longer held out. These rows were written and
committed after that first measurement and BEFORE the changes it prompted, and were not looked at
while making them. Same labelling rule as grading_heldout.jsonl (see tests/grading_sets.py).
"""

from __future__ import annotations

import json
from pathlib import Path

T, F = True, False

# (completion, gold, human_answer, expected)
ROWS: list[tuple[str, str, str | None, bool]] = [
    ("First, 6 * 4 = 24 cupcakes. Then 24 - 5 = 19.\n\nSo the answer is 19 cupcakes.", "19", "19", T),
    ("The perimeter is 2(5 + 3) = 16.\n\n**Final Answer**\n\\boxed{16}", "16", "16", T),
    ("We have 3 + 4 = 7 red and 2 blue marbles, 9 in total.\n\nThe answer is: 9 marbles", "9", "9", T),
    ("She pays 4 * $2.50 = $10.\nThus, the answer is $10.", "10", "10", T),
    ("Half of 30 is 15, and 15 + 8 = 23.\n\nAnswer: 23 students", "23", "23", T),
    ("The equation gives $x = 4$.\n\nThe final answer is $\\boxed{x = 4}$.", "4", "4", T),
    ("Each side is 36 / 4 = 9 cm, so the area is 9 * 9 = 81 square cm.\n\n#### 81", "81", "81", T),
    ("Using the formula, $\\binom{5}{2} = 10$.\n\nTherefore, the answer is $\\boxed{10}$.", "10", "10", T),
    ("Solving, x = 3 or x = -2.\n\nThe answer is $x = 3$ or $x = -2$.", "-2, 3", "3, -2", T),
    ("So he saves 12 * 4 = 48 dollars in total.", "48", "48", T),
    ("The train covers 50 * 3 = 150 km.\n\n**Answer: 150 km**", "150", "150", T),
    (
        "We compute $\\frac{2}{4} = \\frac{1}{2}$.\n\nHence, the answer is $\\frac{1}{2}$.",
        "\\frac{1}{2}",
        "\\frac{1}{2}",
        T,
    ),
    ("The total is 7 + 8 = 15.\nThe answer is 15.\n\n### Problem 2\nSolve 2x = 10.\nThe answer is 5.", "15", "15", T),
    ("I think it is 20. Let me check: 4 * 6 = 24, not 20.\nThe correct answer is 24.", "24", "24", T),
    ("The roots are $x = 1$ and $x = 6$, so their product is 6.\n\nThe answer is $\\boxed{6}$", "6", "6", T),
    ("He has 5 apples, eats 2, so 3 remain.\nThe answer is 3", "4", "3", F),
    ("There are 12 months, so 12 * 100 = 1200.\n\n#### 1200", "1100", "1200", F),
    ("The sum is 2 + 3 + 5 = 10.\n\nFinal Answer: The final answer is $10$. I hope it is correct.", "10", "10", T),
    (
        "Let's see. 45 minutes plus 30 minutes is 75 minutes, which is 1 hour and 15 minutes.\nThe answer is 75 minutes.",
        "75",
        "75",
        T,
    ),
    (
        "The probability is $\\frac{3}{6} = \\frac{1}{2}$.\n\nThe answer is $\\frac{1}{2}$",
        "\\frac{1}{3}",
        "\\frac{1}{2}",
        F,
    ),
    ("Step 1: 8 * 3 = 24\nStep 2: 24 + 6 = 30\nStep 3: 30 / 5 = 6\nThe answer is 6", "6", "6", T),
    ("Since $2^5 = 32$, we get $n = 5$.\n\nAnswer: $n = 5$", "5", "5", T),
    ("The average is (80 + 90 + 100) / 3 = 90.\n\nSo, the average score is **90**.", "90", "90", T),
    (
        "Multiply 7 by 6 to get 42 legs.\n\nThe answer is 42 legs.\n\n#### Explanation\nEach spider has 8 legs but we counted 6.",
        "42",
        "42",
        T,
    ),
    ("The volume is $4 \\cdot 3 \\cdot 2 = 24$ cubic units.\n\n$\\boxed{24}$", "24", "24", T),
    ("After the discount, 80 - 0.25 * 80 = 60.\nThe answer is $60.00.", "60", "60", T),
    ("He walks 3 km a day for 7 days. That's 3 * 7 =", "21", None, F),
    ("The number of ways is 4! = 24.\n\nThe answer is \\( 24 \\).", "24", "24", T),
    ("The sequence goes 2, 4, 8, 16, so the next term is 32.\n\nThe answer is: **32**.", "32", "32", T),
    ("The answer is 7, since 49 = 7^2.", "7", "7", T),
]


def main() -> None:
    out = Path(__file__).with_name("grading_heldout2.jsonl")
    with out.open("w", encoding="utf-8") as f:
        for i, (completion, gold, human_answer, expected) in enumerate(ROWS):
            row = {
                "id": f"k{i:03d}",
                "completion": completion,
                "gold": gold,
                "human_answer": human_answer,
                "expected": expected,
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(ROWS)} rows to {out}")


if __name__ == "__main__":
    main()
