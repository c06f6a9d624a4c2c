"""The grader on text we did not write: how real models state answers (issue 11).

- the phrasings the issue names, each once (extraction, both styles);
- the public dataset layouts: every GSM8K / MATH / MATH-500 reference solution in
  tests/data/loaders grades correct against its own answer;
- real SmolLM2-135M-Instruct completions (tests/data/grading_smollm2_raw.jsonl, generated once by
  grading_make_smollm2.py), hand-labelled (grading_smollm2_labels.jsonl): on the development
  half the grader agrees with the labels at least as often as plain math-verify, in both styles;
- the held-out sets (the other SmolLM2 half; grading_heldout.jsonl, written before the extractor
  changed; grading_heldout2.jsonl, written after the first one was measured, see
  tests/grading_sets.py): same claim.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lemma.grading import extract_answer, find_answer, grade, grade_many
from lemma.grading.baseline import math_verify_correct
from tests.grading_sets import heldout2_rows, heldout_rows, smollm2_rows

DATA = Path(__file__).parent / "data"


# --- the phrasings the issue names --------------------------------------------------------------


@pytest.mark.parametrize(
    "text, answer",
    [
        ("So 2 + 3 = 5.\nThe answer is 5", "5"),
        ("Only option two fits.\nThe answer is (2).", "(2)"),
        ("Therefore, the answer is 12.", "12"),
        ("We get 4.\n\n**Answer:** 4", "4"),
        ("Final Answer: The final answer is 3. I hope it is correct.", "3"),
        ("Therefore, the answer is $\\boxed{12}$.", "12"),
        ("48 / 2 = 24\n#### 18", "18"),
        ("The answer is: 7", "7"),
    ],
)
@pytest.mark.parametrize("style", ["math", "gsm8k"])
def test_issue_phrasings_are_found(text, answer, style):
    assert extract_answer(text, style) == answer


def test_issue_phrasings_grade_correct_in_math_style():
    pairs = [
        ("The answer is 5", "5"),
        ("The answer is (2).", "2"),
        ("Therefore, the answer is 12.", "12"),
        ("**Answer:** 4", "4"),
    ]
    assert [g.status for g in grade_many(pairs, style="math")] == ["ok"] * 4
    assert all(g.correct for g in grade_many(pairs, style="math"))


def test_a_markdown_heading_is_not_a_gsm8k_answer():
    text = "She keeps 48 - 15 = 33 cookies.\n#### 33\n\n#### Question 2\nA farmer has 12 hens."
    assert extract_answer(text, "gsm8k") == "33"
    assert grade(text, "33", style="gsm8k").correct
    # With no "#### N" at all, the heading is skipped: the concluding sentence answers, and
    # without one the last number is the gsm8k style's fallback.
    text = "So 5 + 2 = 7 apples.\n\n#### Question\nTom has 3 pens."
    assert extract_answer(text, "gsm8k") == extract_answer(text, "math") == "7"
    assert extract_answer("Add 5 + 2 apples.\n\n#### Question\nTom has 3 pens.", "gsm8k") == "3"
    assert extract_answer("Add 5 + 2 apples.\n\n#### Question\nTom has 3 pens.", "math") is None


def test_a_concluding_sentence_or_a_bare_last_calculation_answers_when_nothing_is_marked():
    assert extract_answer("Long work.\nSo, the GCD is 12*12 = 144.\n\nThe algorithm works by", "math") == "144"
    assert extract_answer("Therefore, the sum is 2\\sqrt{5}, which is about 4.47.", "math") == "2\\sqrt{5}"
    assert extract_answer("18 / 24 = 0.75", "math") == "0.75"
    assert extract_answer("$\\sqrt{72}$ = $\\sqrt{72}$", "math") is None  # restates the question
    assert extract_answer("So, Emma earns a lot, which is the number of hours.", "math") is None  # no value
    assert extract_answer("So, the GCD is 144.", "world") is None  # the built-in world needs its marker
    assert find_answer("So, the GCD is 144.", "math").rule == "conclusion"
    assert extract_answer("Therefore, there are 9 positive divisors of 36.", "math") == "9"
    assert extract_answer("In conclusion, Emma earns $450.", "math") == "450"
    assert extract_answer("So, Tom reads 48 pages in 3 weeks.", "math") is None  # which number?


def test_adverbs_unit_words_and_nested_sentences_are_not_the_answer():
    assert extract_answer("The answer is therefore 105.", "math") == "105"
    assert extract_answer("So the answer is 2 (slices).", "math") == "2"
    assert extract_answer("The answer is: The sum of the roots is 5.", "math") == "5"
    assert extract_answer("The answer is (C).", "math") == "(C)"
    assert extract_answer("The answer is Monday.", "math") == "Monday"


def test_a_later_statement_overrides_an_earlier_one():
    text = "3 * 6 = 18 eggs.\nThe answer is: 18\nWait, two broke: 18 - 2 = 16.\n#### 16"
    assert extract_answer(text, "gsm8k") == "16"
    assert extract_answer("The answer is 8. Hmm, 90 / 15 = 6, so the answer is 6.", "math") == "6"


def test_verdicts_and_echoed_placeholders_are_not_answers():
    assert extract_answer("\\boxed{7}\nI checked it: the answer is correct.", "math") == "7"
    assert extract_answer("$\\boxed{7}$\nEnd with the line 'The answer is: <answer>'.", "math") == "7"
    assert extract_answer("Put your final answer in \\boxed{}.", "math") is None


def test_an_arithmetic_chain_states_its_result():
    assert extract_answer("So the answer is 91 / 7 = 13.", "math") == "13"
    assert extract_answer("The answer is $\\log_2 64 = 6$.", "math") == "6"
    assert extract_answer("The answer is $x^2 + y^2 = 25$.", "math") == "x^2 + y^2 = 25"
    assert extract_answer("The answer is $x = 5$.", "math") == "x = 5"  # normalize drops "x ="


def test_find_answer_gives_the_statement_and_the_answer_span():
    text = "Work: 3 + 4 = 7.\nThe answer is: 7\n"
    found = find_answer(text, "world")
    assert (found.text, found.rule) == ("7", "answer_is")
    assert text[found.start :].startswith("answer is: 7")
    assert text[found.answer_start : found.end] == "7"
    boxed = find_answer("Thus $\\boxed{\\frac{1}{2}}$.", "math")
    assert (boxed.text, boxed.rule) == ("\\frac{1}{2}", "boxed")
    assert find_answer("He has 5 and 7 more, 12.", "gsm8k").rule == "last_number"
    assert find_answer("He has 5 and 7 more, 12.", "math") is None


# --- public dataset layouts -----------------------------------------------------------------------


def _jsonl(name: str) -> list[dict]:
    return [
        json.loads(line) for line in (DATA / "loaders" / name).read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def test_public_reference_solutions_grade_correct_against_their_answers():
    gsm8k = _jsonl("gsm8k.jsonl")
    for row in gsm8k:  # "... <<48-15=33>>33 cookies.\n#### 33": the calculator notes are not answers
        final = row["answer"].rsplit("####", 1)[1].strip()
        for style in ("gsm8k", "math"):
            g = grade(row["answer"], final, style=style)
            assert g.correct, (row, style, g)
    for name, key in (("math.jsonl", None), ("math500.jsonl", "answer")):
        for row in _jsonl(name):
            gold = row[key] if key else row["solution"]
            for style in ("gsm8k", "math"):
                g = grade(row["solution"], gold, style=style)
                assert g.correct, (name, row, style, g)


# --- real model output, hand-labelled --------------------------------------------------------------


def _agreement(rows: list[dict], style: str) -> tuple[int, int, list]:
    grades = grade_many([(r["completion"], r["gold"]) for r in rows], style=style, timeout=10)
    ours = sum(g.correct == r["expected"] for g, r in zip(grades, rows))
    baseline = sum(math_verify_correct(r["completion"], r["gold"]) == r["expected"] for r in rows)
    misses = [(r["id"], r["expected"], g) for g, r in zip(grades, rows) if g.correct != r["expected"]]
    return ours, baseline, misses


def test_smollm2_set_is_real_and_fully_labelled():
    rows = smollm2_rows()
    assert len(rows) >= 80
    assert {r["split"] for r in rows} == {"dev", "heldout"}
    assert all(r["generation"]["model"].startswith("SmolLM2-135M-Instruct") for r in rows)
    assert {r["kind"] for r in rows} == {"gsm8k", "math"}
    assert all(isinstance(r["expected"], bool) for r in rows)
    # both verdicts are present, and answers the model never stated are labelled as such
    assert {r["expected"] for r in rows} == {True, False}


@pytest.mark.parametrize("style", ["math", "gsm8k"])
@pytest.mark.parametrize("split", ["dev", "heldout"])
def test_smollm2_completions_graded_at_least_as_well_as_math_verify(style, split):
    rows = [r for r in smollm2_rows() if r["split"] == split]
    ours, baseline, misses = _agreement(rows, style)
    assert ours >= baseline, (ours, baseline, misses)


@pytest.mark.parametrize("style", ["math", "gsm8k"])
@pytest.mark.parametrize("which", ["heldout", "heldout2"])
def test_heldout_phrasings_graded_at_least_as_well_as_math_verify(style, which):
    rows = heldout_rows() if which == "heldout" else heldout2_rows()
    assert len(rows) >= 30
    ours, baseline, misses = _agreement(rows, style)
    assert ours >= baseline, (ours, baseline, misses)
