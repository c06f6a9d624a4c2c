"""lemma.pipeline.grade: grade_texts keeps the input order across styles, grade_samples adds the
grader's columns to each sample row."""

from __future__ import annotations

import polars as pl

from lemma.pipeline.grade import grade_samples, grade_texts
from lemma.tables.records import GRADED, PROBLEMS, SAMPLES


def test_grade_texts_mixed_styles_keep_their_positions():
    texts = ["The answer is: 7", "so $x = \\boxed{\\frac{1}{2}}$", "#### 12", "I do not know", "The answer is: 0.5"]
    golds = ["7", "\\frac12", "13", "4", "1/2"]
    styles = ["world", "math", "gsm8k", "world", "math"]
    grades = grade_texts(texts, golds, styles)
    assert [g.correct for g in grades] == [True, True, False, False, True]
    assert [g.status for g in grades] == ["ok", "ok", "ok", "no_answer", "ok"]
    assert grades[0].pred_answer == "7" and grades[2].pred_answer == "12" and grades[3].pred_answer is None


def test_grade_texts_of_nothing_is_nothing():
    assert grade_texts([], [], []) == []


def test_grade_samples_adds_the_graded_columns_in_sample_order():
    problems = pl.DataFrame(
        [
            {
                "id": "p1",
                "dataset": "d",
                "question": "q",
                "solution": "s",
                "answer": "33",
                "style": "gsm8k",
                "family": "",
                "n_steps": None,
                "structure": None,
            },
            {
                "id": "p2",
                "dataset": "d",
                "question": "q",
                "solution": "s",
                "answer": "5",
                "style": "world",
                "family": "",
                "n_steps": 1,
                "structure": None,
            },
        ],
        schema=PROBLEMS,
    )
    samples = pl.DataFrame(
        [
            {
                "problem_id": "p2",
                "sample_index": 0,
                "completion": "Step 1: 2 + 3 = 5\nThe answer is: 5",
                "finish_reason": "stop",
            },
            {
                "problem_id": "p1",
                "sample_index": 0,
                "completion": "She keeps 48 - 15 = 33.\n#### 33",
                "finish_reason": "stop",
            },
            {
                "problem_id": "p1",
                "sample_index": 1,
                "completion": "She keeps 48 - 51 = -3.\nThe answer is: -3",
                "finish_reason": "length",
            },
            {"problem_id": "p2", "sample_index": 1, "completion": "Step 1: 2 + 3 =", "finish_reason": "length"},
        ],
        schema=SAMPLES,
    )
    rows = grade_samples(problems, samples)
    graded = pl.DataFrame(rows, schema=GRADED)  # what the stage writes: the GRADED schema holds
    assert (
        graded.select("problem_id", "sample_index", "finish_reason").rows()
        == samples.select("problem_id", "sample_index", "finish_reason").rows()
    )
    assert graded["correct"].to_list() == [True, True, False, False]
    assert graded["pred_answer"].to_list() == ["5", "33", "-3", None]
    assert graded["status"].to_list() == ["ok", "ok", "ok", "no_answer"]
