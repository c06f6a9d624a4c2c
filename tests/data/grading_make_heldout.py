"""Writes grading_heldout.jsonl: a HELD-OUT set for the answer grader.

Run from the repository root: python tests/data/grading_make_heldout.py

These rows were written, and committed, BEFORE the extractor was changed for issue 11 (real
phrasings), and they were not looked at while the extractor was tuned: they measure the result,
they did not shape it. Do not tune the extractor against them; add new cases to the development
sets (grading_smollm2_*, grading_labelled) instead.

Each completion ends the way strong chat models commonly end an answer (Llama-3, Qwen, Mistral,
GPT-4-style markdown, the Minerva prompt, GSM8K fine-tunes), including traps: a markdown heading
``#### Question`` after the answer, a corrected answer after a first one, a completion cut off
before it answers.

Labelling rule (the same for every labelled set of the grader): `human_answer` is the final answer
the completion states, as a careful human reader finds it (the last answer it commits to, in any
wording; None when it never commits to one, e.g. cut off). `expected` is True when that answer
equals the reference as a human grader judges it (same value; units, currency signs, "x =" and
formatting ignored), else False; no stated answer is False. The label does not depend on the
grading style: every row is graded in both the ``math`` and the ``gsm8k`` style against it.
"""

from __future__ import annotations

import json
from pathlib import Path

T, F = True, False

# (completion, gold, human_answer, expected)
ROWS: list[tuple[str, str, str | None, bool]] = [
    ("She buys 3 packs of 6 eggs, so 3 x 6 = 18 eggs.\n\nThe answer is 18.", "18", "18", T),
    ("The options were (1) 3, (2) 5 and (3) 7. Checking each, only the second works.\nThe answer is (2).", "2", "2", T),
    ("Each box holds 4 apples and there are 3 boxes, so 4 * 3 = 12.\nTherefore, the answer is 12.", "12", "12", T),
    ("We need $2x = 8$, so $x = 4$.\n\n**Answer:** 4", "4", "4", T),
    (
        "Subtracting 3 from both sides gives $2x = 6$, so $x = 3$.\nFinal Answer: The final answer is $3$. I hope it is correct.",
        "3",
        "3",
        T,
    ),
    ("Natalia sold 48/2 = 24 clips in May.\nAltogether she sold 48 + 24 = 72 clips.\n#### 72", "72", "72", T),
    (
        "He pays 3 * 5 = 15 dollars for the pens and 2 dollars for the bag, so 15 - 8 = 7 dollars change.\nThe answer is 7.\n\n#### Question 2\nA farmer has 17 sheep and buys 6 more. How many sheep are there now?",
        "7",
        "7",
        T,
    ),
    (
        "The common denominator is 6, so $\\frac{1}{2} + \\frac{1}{3} = \\frac{3}{6} + \\frac{2}{6} = \\frac{5}{6}$.\n\nThus, the final answer is $\\boxed{\\frac{5}{6}}$.",
        "\\frac{5}{6}",
        "\\frac{5}{6}",
        T,
    ),
    ("Multiplying 6 by 7 gives 42.\n\nThe final answer is 42.", "42", "42", T),
    (
        "The area of a circle is $\\pi r^2 = \\pi \\cdot 3^2 = 9\\pi$.\n\n**Final Answer:** $\\boxed{9\\pi}$",
        "9\\pi",
        "9\\pi",
        T,
    ),
    ("Combinations of 6 things taken 2 at a time: 6*5/2 = 15.\n\nAnswer: 15", "15", "15", T),
    ("Adding 7 to both sides: $3x = 18$. Dividing by 3: $x = 6$.\n\nSo, the answer is $x = 6$.", "6", "6", T),
    (
        "450 students, 40% boys: 0.4 * 450 = 180 boys. Girls: 450 - 180 = 270.\n\nHence the answer is: **270**",
        "270",
        "270",
        T,
    ),
    (
        "The sum of interior angles of an n-gon is $180(n-2)$. For a hexagon this is $180 \\cdot 4 = 720$ degrees.\n\n$$\\boxed{720}$$",
        "720",
        "720",
        T,
    ),
    (
        "Let $x = 0.333...$. Then $10x = 3.333...$, so $9x = 3$ and $x = 3/9$.\nThe answer is 1/3",
        "\\frac{1}{3}",
        "1/3",
        T,
    ),
    (
        "Sam ran 3 + 2 + 4 = 9 miles... wait, twice as far is 6 miles, and 3 + 6 + 4 = 13. Let me recount: 3 + 6 + 4 + 4 = 17.\nThe answer is 17.",
        "13",
        "17",
        F,
    ),
    (
        "The sale takes off 20% of $25, which is $5. So the shirt costs $25 - $5 = $20.\n\nSo the answer is **\\$20**.",
        "20",
        "20",
        T,
    ),
    (
        "## Step 1: Solve the system\nAdding the equations: $2a = 14$, so $a = 7$ and $b = 3$.\n\n## Step 2: Compute the product\n$ab = 21$.\n\nThe final answer is: $\\boxed{21}$",
        "21",
        "21",
        T,
    ),
    (
        "The divisors of 36 are 1, 2, 3, 4, 6, 9, 12, 18 and 36.\n\nTherefore, there are 9 positive divisors of 36.",
        "9",
        "9",
        T,
    ),
    (
        "Speed times time is 60 * 4 = 240 miles and 45 * 2 = 90 miles, so the train goes 240 + 90 = 330 miles.\n\nThus, the answer is \\(\\boxed{330}\\).",
        "330",
        "330",
        T,
    ),
    (
        "Reducing by the common factor 6 gives $\\frac{18}{24} = \\frac{3}{4}$.\n\nThe answer is $\\frac{3}{4}$.",
        "\\frac{3}{4}",
        "\\frac{3}{4}",
        T,
    ),
    (
        "At first I get 8 pieces, since 90 / 15 = 8. Hmm, 15 * 8 = 120, not 90. Let me redo it: 90 / 15 = 6.\nActually, the answer is 6.",
        "6",
        "6",
        T,
    ),
    (
        "She has $50 and spends 3 * $12 = $36, so she has $50 - $36 = $14 left.\nThe answer is 14 dollars.",
        "14",
        "14",
        T,
    ),
    ("By the distance formula, $\\sqrt{(3-0)^2 + (4-0)^2} = \\sqrt{25} = 5$.\nThe correct answer is 5.", "5", "5", T),
    (
        "His son is 11, so John is 3 * 11 = 33 now, and in 5 years he will be 33 + 5 = 38.\n\n**The answer is 38.**",
        "38",
        "38",
        T,
    ),
    ("Using FOIL: $x^2 - 3x + 2x - 6 = x^2 - x - 6$.\n\nAnswer: $x^2 - x - 6$", "x^2 - x - 6", "x^2 - x - 6", T),
    (
        "Subtract 1 and divide by 2: $x > 3$. In interval notation this is $(3, \\infty)$.\n\nThe answer is $(3, \\infty)$.",
        "(3, \\infty)",
        "(3, \\infty)",
        T,
    ),
    ("Taking square roots of both sides, $x = \\pm 7$.\n\nSo the answer is \\boxed{-7, 7}", "-7, 7", "-7, 7", T),
    ("The bike costs $1,200 and the helmet $50, so together 1200 + 50 = 1250 dollars.\n#### 1,250", "1250", "1,250", T),
    (
        "## Step 1: Compute $2^{10}$\n$2^{10} = 1024$.\n\n## Step 2: Subtract\n$1024 - 1000 = 24$.\n\nThe final answer is $\\boxed{24}$.",
        "24",
        "24",
        T,
    ),
    ("The multiples of 18 are 18, 36, 54; 36 is also a multiple of 12.\n\nFinal answer: 36", "36", "36", T),
    ("12 pages a day for 21 days is 12 * 21 = 252 pages.\nThe answer is 252 pages.", "252", "252", T),
    (
        "24 / 3 = 8 students walk, so 24 - 8 = 16 take the bus.\n\nSo the answer is 16 students.\n\nNote: 8 + 16 = 24, which checks out.",
        "16",
        "16",
        T,
    ),
    ("Since $2x = 10$, $x = 5$.\n\n**Answer:** 5", "4", "5", F),
    (
        "The fraction simplifies by dividing top and bottom by 9: $\\frac{9}{18} = \\frac{1}{2}$.\nTherefore, the answer is $\\frac{1}{2}$.",
        "\\frac{3}{4}",
        "\\frac{1}{2}",
        F,
    ),
    (
        "Two notebooks cost 2 * 3.50 = 7.00 dollars and the pen 1.25, so 7.00 + 1.25 = 8.25.\nThe answer is: 8.25",
        "8.25",
        "8.25",
        T,
    ),
    (
        "100 = 7 * 14 + 2, so the remainder is 2... no wait, 7 * 14 = 98 and 100 - 98 = 2. Hmm, I'll go with 3.\nThe answer is $\\boxed{3}$.",
        "2",
        "3",
        F,
    ),
    (
        "Each cow gives 9 liters a day, so 7 cows give 7 * 9 = 63 liters per day. Then over the 5 days we",
        "315",
        None,
        F,
    ),
    (
        "In the afternoon it sold 2 * 35 = 70 apples, so 35 + 70 = 105 in all.\nThe answer is therefore 105.",
        "105",
        "105",
        T,
    ),
    (
        "Emma earns 15 * 6 = 90 dollars per day, and 90 * 5 = 450 dollars in 5 days.\n\nIn conclusion, Emma earns $450.",
        "450",
        "450",
        T,
    ),
    (
        "$\\sqrt{72} = \\sqrt{36 \\cdot 2} = 6\\sqrt{2}$.\n\nThe final answer is \\(\\boxed{6\\sqrt{2}}\\).",
        "6\\sqrt{2}",
        "6\\sqrt{2}",
        T,
    ),
    ("We get $a = 7$, $b = 3$ and so $ab = 21$.\n\n**Final answer:** 21", "21", "21", T),
    (
        "The bus has 52 seats and 19 + 14 = 33 are taken, so 52 - 33 = 19 are empty.\nAnswer: The answer is 19 seats.",
        "19",
        "19",
        T,
    ),
    ("2.5 km a day for 14 days is 2.5 * 14 = 35 km.\nThe answer is 35 km.", "35", "35", T),
    ("$\\sqrt{2} \\cdot \\sqrt{8} = \\sqrt{16} = 4$\n\n\\[\\boxed{4}\\]", "4", "4", T),
    ("He had 200 stickers and gave away 35 + 48 = 83, so 200 - 83 = 118 are left.\n#### 118", "117", "118", F),
    ("60 eggs is 5 boxes of 12, and 5 * $3 = $15.\nThe answer is \\$15.", "15", "15", T),
    (
        "3 friends eat 2 slices each, 3 * 2 = 6 slices, and 8 - 6 = 2 are left.\nSo the answer is 2 (slices).",
        "2",
        "2",
        T,
    ),
    ("A hexagon splits into 4 triangles, 4 * 180 = 720.\nThe answer is 720°.", "720", "720", T),
    ("Dividing, 18/24 = 0.75.\nThe answer is 0.75", "\\frac{3}{4}", "0.75", T),
    (
        "She buys 3 packs of 6, so 3 * 6 = 18 eggs.\nThe answer is: 18\n\nWait, 2 of them were broken, so she has 18 - 2 = 16 eggs.\n#### 16",
        "16",
        "16",
        T,
    ),
    ("Kate needs 91 / 7 = 13 weeks.\nSo the answer is 91 / 7 = 13.", "13", "13", T),
    (
        "$\\log_2 64 = 6$ because $2^6 = 64$.\nFinal Answer: The final answer is $\\log_2 64 = 6$. I hope it is correct.",
        "6",
        "6",
        T,
    ),
    ("The slope is $\\frac{8-2}{3-1} = \\frac{6}{2} = 3$.\nThe answer is $\\boxed{3}$.\n#### 3", "3", "3", T),
    ("$f(2) = 3 \\cdot 4 - 4 + 1 = 9$.\n\n### Final Answer\n\n$\\boxed{9}$", "9", "9", T),
    ("$15\\%$ of 80 is $0.15 \\times 80 = 12$.\n\n**Answer: 12**", "12", "12", T),
    ("The tank fills at 8 liters a minute: 120 / 8 = 15 minutes.\n\n#### Answer\n15 minutes", "15", "15", T),
    (
        "We compute gcd(84, 126): 126 = 84 + 42 and 84 = 2 * 42, so the gcd is 42.\n\n**Answer**: $\\boxed{42}$",
        "42",
        "42",
        T,
    ),
    ("The roots are 2 and 3, whose sum is 5.\nThe answer is: The sum of the roots is 5.", "5", "5", T),
    (
        "5 boxes of 14 is 70 marbles; 70 - 23 = 47.\n\nThe answer is $\\boxed{47}$ marbles.\n\n#### Problem 3\nHow many marbles would he have with 6 boxes?",
        "47",
        "47",
        T,
    ),
]


def main() -> None:
    out = Path(__file__).with_name("grading_heldout.jsonl")
    with out.open("w", encoding="utf-8") as f:
        for i, (completion, gold, human_answer, expected) in enumerate(ROWS):
            row = {
                "id": f"h{i:03d}",
                "completion": completion,
                "gold": gold,
                "human_answer": human_answer,
                "expected": expected,
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(ROWS)} rows to {out}")


if __name__ == "__main__":
    main()
