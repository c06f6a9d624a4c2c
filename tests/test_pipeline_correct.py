"""lemma.pipeline.correct: truncation of the student's own and of injected mistakes, the correct
sample pool of Fresh & Restart, the corrections and the smoothing filter, with the oracle teacher
(the LLM-teacher side of these stages is in tests/test_text_stages.py)."""

from __future__ import annotations

import polars as pl
import pytest

from lemma.pipeline.correct import (
    LOCATE_JUDGED_CORRECT,
    correct,
    first_correct_samples,
    smooth_and_filter,
    truncate_mistakes,
    truncate_student,
)
from lemma.tables.records import CORRECTIONS, MISTAKES, PROBLEMS, STEP_LABELS, TRAJECTORIES, TRUNCATED
from lemma.teacher.oracle import OracleTeacher
from lemma.text.reflection import join_trajectory
from tests.pipeline_tables import graded
from tests.world_rows import world_rows

# train-00000 "Step 1: 40 - 14 = 26\nStep 2: 26 - 1 = 25\nThe answer is: 25"
# train-00002 "Step 1: 20 + 11 = 31\nStep 2: 31 * 2 = 62\nStep 3: 62 * 4 = 248\nThe answer is: 248"
WORLD = pl.DataFrame(world_rows(4), schema=PROBLEMS)
PHRASES = ["Wait, let me check.", "Hmm, that is off."]

FLOORS_WRONG = "Step 1: 40 - 14 = 26\nStep 2: 26 - 1 = 26\nThe answer is: 26"
PERIMETER_WRONG = "Step 1: 20 + 11 = 32\nStep 2: 32 * 2 = 64\nStep 3: 64 * 4 = 256\nThe answer is: 256"
PERIMETER_RIGHT = "Step 1: 20 + 11 = 31\nStep 2: 31 * 2 = 62\nStep 3: 62 * 4 = 248\nThe answer is: 248"
PERIMETER_OTHER_RIGHT = "Step 1: 11 + 20 = 31\nStep 2: 31 * 2 = 62\nStep 3: 62 * 4 = 248\nThe answer is: 248"


@pytest.fixture(scope="module")
def oracle():
    return OracleTeacher(seed=0)


def step_labels(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"problem_id": p, "sample_index": k, "completion": c, "first_wrong_step": s, "rationale": "", "dropped": d}
            for p, k, c, s, d in rows
        ],
        schema=STEP_LABELS,
    )


STEPS = step_labels(
    [
        ("train-00000", 2, FLOORS_WRONG, 2, None),
        ("train-00002", 0, PERIMETER_WRONG, 1, None),
        ("train-00002", 1, PERIMETER_RIGHT, None, LOCATE_JUDGED_CORRECT),
        ("train-00000", 3, FLOORS_WRONG, 7, None),  # a judge's step past the end
        ("train-00000", 4, "Step 1: 9", None, None),  # labelled, yet no step
    ]
)


@pytest.mark.parametrize(
    "cut, prefixes",
    [
        ("first_error", ["Step 1: 40 - 14 = 26\nStep 2: 26 - 1 = 26", "Step 1: 20 + 11 = 32"]),
        ("whole", [FLOORS_WRONG, PERIMETER_WRONG]),
    ],
)
def test_truncate_student(cut, prefixes):
    rows, stats = truncate_student(WORLD, STEPS, cut)
    table = pl.DataFrame(rows, schema=TRUNCATED)
    assert table.select("problem_id", "bucket", "sample_index", "error_type", "first_wrong_step").rows() == [
        ("train-00000", "student", 2, None, 2),
        ("train-00002", "student", 0, None, 1),
    ]
    assert table["prefix"].to_list() == prefixes
    assert stats.as_dict() == {
        "stage": f"truncate:student:{cut}",
        "in": 5,
        "out": 2,
        "dropped": {LOCATE_JUDGED_CORRECT: 1, "no_step": 1, "step_out_of_range": 1},
    }


MISTAKES_DF = pl.DataFrame(
    [
        {
            "problem_id": "train-00000",
            "bucket": "calculation_error",
            "sample_index": 0,
            "solution": FLOORS_WRONG,
            "pred_answer": "26",
            "wrong_step": 2,
            "explanation": "",
        },
        {
            "problem_id": "train-00002",
            "bucket": "operator_error",
            "sample_index": 1,
            "solution": PERIMETER_WRONG,
            "pred_answer": "256",
            "wrong_step": 3,
            "explanation": "the teacher's claim is not used",
        },
        {
            "problem_id": "train-00002",
            "bucket": "hallucination",
            "sample_index": 0,
            "solution": PERIMETER_RIGHT,
            "pred_answer": "248",
            "wrong_step": 1,
            "explanation": "",
        },
        {
            "problem_id": "train-00002",
            "bucket": "contradictory_step",
            "sample_index": 2,
            "solution": "Step 1: 20 + 11 = 31\nStep 2: 31 * 2 = 62\nStep 3: 62 * 4 = 248\nThe answer is: 238",
            "pred_answer": "238",
            "wrong_step": 4,
            "explanation": "",
        },
    ],
    schema=MISTAKES,
)


def test_truncate_mistakes_relocates_with_the_judge(oracle):
    rows, stats = truncate_mistakes(WORLD, MISTAKES_DF, oracle, "first_error")
    table = pl.DataFrame(rows, schema=TRUNCATED)
    # error_type is the injected type (the bucket); the step is the judge's, not the injector's claim
    assert table.drop("prefix").rows() == [
        ("train-00000", "calculation_error", 0, "calculation_error", 2),
        ("train-00002", "operator_error", 1, "operator_error", 1),
        ("train-00002", "contradictory_step", 2, "contradictory_step", 4),
    ]
    assert table["prefix"].to_list() == [
        "Step 1: 40 - 14 = 26\nStep 2: 26 - 1 = 26",
        "Step 1: 20 + 11 = 32",
        # the wrong step is the answer line itself: the whole text is the prefix
        "Step 1: 20 + 11 = 31\nStep 2: 31 * 2 = 62\nStep 3: 62 * 4 = 248\nThe answer is: 238",
    ]
    assert stats.as_dict() == {"stage": "truncate:first_error", "in": 4, "out": 3, "dropped": {"not_wrong": 1}}
    whole, _ = truncate_mistakes(WORLD, MISTAKES_DF, oracle, "whole")
    wrong = MISTAKES_DF.filter(pl.col("bucket") != "hallucination")
    assert [r["prefix"] for r in whole] == wrong["solution"].to_list()


def test_first_correct_samples_prefers_the_graders_lowest_index():
    g = graded(
        [
            ("train-00002", 5, "five", True),
            ("train-00002", 2, "two", True),
            ("train-00000", 0, "no", False),
            ("train-00003", 1, "three", True),
        ]
    )
    assert first_correct_samples(g) == {"train-00002": "two", "train-00003": "three"}
    # the judge's "correct" verdicts fill problems the grader found no right sample for, lowest index first
    steps = step_labels(
        [
            ("train-00000", 4, "judged four", None, LOCATE_JUDGED_CORRECT),
            ("train-00000", 1, "judged one", None, LOCATE_JUDGED_CORRECT),
            ("train-00002", 0, "judged", None, LOCATE_JUDGED_CORRECT),
            ("train-00001", 0, "only wrong", 2, None),
        ]
    )
    assert first_correct_samples(g, steps) == {
        "train-00002": "two",
        "train-00003": "three",
        "train-00000": "judged one",
    }
    assert first_correct_samples(g, steps.head(0)) == first_correct_samples(g)


def truncated(oracle) -> pl.DataFrame:
    rows, _ = truncate_mistakes(WORLD, MISTAKES_DF.head(2), oracle, "first_error")
    return pl.DataFrame(rows, schema=TRUNCATED)


def test_correct_fix_continue_joins_prefix_phrase_and_continuation(oracle):
    rows, stats = correct(WORLD, truncated(oracle), graded([]), oracle, "fix_continue", PHRASES)
    table = pl.DataFrame(rows, schema=CORRECTIONS)
    assert table.select("problem_id", "bucket", "sample_index", "strategy").rows() == [
        ("train-00000", "calculation_error", 0, "fix_continue"),
        ("train-00002", "operator_error", 1, "fix_continue"),
    ]
    assert rows[0]["continuation"] == "26 - 1 is 25, not 26.\nStep 2: 26 - 1 = 25\nThe answer is: 25"
    assert rows[0]["trajectory"] == (
        "Step 1: 40 - 14 = 26\nStep 2: 26 - 1 = 26\nWait, let me check. "
        "26 - 1 is 25, not 26.\nStep 2: 26 - 1 = 25\nThe answer is: 25"
    )
    for r in rows:
        assert r["phrase"] in PHRASES
        assert r["trajectory"] == join_trajectory(r["prefix"], r["phrase"], r["continuation"], "world")
    assert stats.as_dict() == {"stage": "correct:fix_continue", "in": 2, "out": 2, "dropped": {}}


def test_correct_fresh_restart_follows_a_correct_student_sample(oracle):
    g = graded([("train-00002", 3, PERIMETER_OTHER_RIGHT, True)])
    rows, stats = correct(WORLD, truncated(oracle), g, oracle, "fresh_restart", PHRASES)
    # with a correct sample of its own, the restart is that sample; without one, the reference
    assert rows[1]["continuation"] == "let me solve it again from the start.\n" + PERIMETER_OTHER_RIGHT
    assert rows[0]["continuation"] == (
        "let me solve it again from the start.\nStep 1: 40 - 14 = 26\nStep 2: 26 - 1 = 25\nThe answer is: 25"
    )
    assert [r["strategy"] for r in rows] == ["fresh_restart"] * 2 and stats.n_out == 2
    # the phrase is a seeded pick per row and strategy: stable from run to run
    again, _ = correct(WORLD, truncated(oracle), g, oracle, "fresh_restart", PHRASES)
    assert [r["phrase"] for r in again] == [r["phrase"] for r in rows]


def test_correct_drops_rows_the_teacher_cannot_serve(oracle):
    bad = truncated(oracle).with_columns(
        pl.when(pl.col("sample_index") == 0).then(0).otherwise(pl.col("first_wrong_step")).alias("first_wrong_step")
    )
    rows, stats = correct(WORLD, bad, graded([]), oracle, "fix_continue", PHRASES)
    assert [r["problem_id"] for r in rows] == ["train-00002"]
    assert stats.as_dict()["dropped"] == {"bad_wrong_step": 1}
    with pytest.raises(KeyError):
        correct(WORLD, bad, graded([]), oracle, "retry_everything", PHRASES)


def correction(cut: str, phrase: str, continuation: str, **over) -> dict:
    return {
        "problem_id": "train-00000",
        "bucket": "student",
        "sample_index": 0,
        "error_type": None,
        "strategy": "fix_continue",
        "prefix": cut,
        "phrase": phrase,
        "continuation": continuation,
        "trajectory": join_trajectory(cut, phrase, continuation, "world"),
        **over,
    }


def test_smooth_and_filter_keeps_right_smoothed_trajectories(oracle):
    corrections = pl.DataFrame(
        correct(WORLD, truncated(oracle), graded([]), oracle, "fix_continue", PHRASES)[0], schema=CORRECTIONS
    )
    rows, stats = smooth_and_filter(WORLD, corrections, oracle)
    table = pl.DataFrame(rows, schema=TRAJECTORIES)
    assert table.select(list(CORRECTIONS)).equals(corrections), "every correction column passes through"
    assert table["pred_answer"].to_list() == ["25", "248"] and table["correct"].all()
    assert rows[0]["smoothed"] == (
        "Step 1: 40 - 14 = 26\nStep 2: 26 - 1 = 26\nWait, let me check: "
        "26 - 1 is 25, not 26.\nStep 2: 26 - 1 = 25\nThe answer is: 25"
    )
    assert stats.as_dict() == {"stage": "smooth_and_filter", "in": 2, "out": 2, "dropped": {}}


def test_smooth_and_filter_drop_reasons(oracle):
    wrong_prefix = "Step 1: 40 - 14 = 24"
    fixed = "40 - 14 is 26.\nStep 1: 40 - 14 = 26\nStep 2: 26 - 1 = 25\nThe answer is: 25"
    corrections = pl.DataFrame(
        [
            correction(
                wrong_prefix, "Wait.", "40 - 14 is 26.\nStep 1: 40 - 14 = 26\nStep 2: 26 - 1 = 26\nThe answer is: 26"
            ),  # still wrong
            correction(wrong_prefix, "Wait.", fixed, trajectory="   "),  # nothing to smooth
            # the table's prefix is not in the trajectory: the smoothed text cannot have kept it
            correction(wrong_prefix, "Wait.", fixed, prefix="Step 1: 99 - 14 = 24"),
            correction(wrong_prefix, "Wait.", fixed, sample_index=9),  # the one that survives
        ],
        schema=CORRECTIONS,
    )
    rows, stats = smooth_and_filter(WORLD, corrections, oracle)
    assert [r["sample_index"] for r in rows] == [9]
    assert stats.as_dict() == {
        "stage": "smooth_and_filter",
        "in": 4,
        "out": 1,
        "dropped": {"empty_trajectory": 1, "final_answer_wrong": 1, "smooth:prefix_lost": 1},
    }
