"""lemma.pipeline.sft: a variant's SFT rows from each source, the seeded order, max_rows, the
set's statistics and the export layouts."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

from lemma.pipeline.sft import correct_sample_rows, export_rows, external_rows, sft_rows, sft_stats
from lemma.tables.records import PROBLEMS, TRAJECTORIES, TYPE_LABELS
from lemma.text.prompting import format_prompt
from tests.pipeline_tables import graded

ALPACA = Path(__file__).parent / "data" / "sft_layouts" / "alpaca.jsonl"
PROBLEMS_DF = pl.DataFrame(
    [
        {
            "id": "p1",
            "dataset": "d",
            "question": "Q1?",
            "solution": "S1\nThe answer is: 1",
            "answer": "1",
            "style": "world",
            "family": "",
            "n_steps": 1,
            "structure": None,
        },
        {
            "id": "p2",
            "dataset": "d",
            "question": "Q2?",
            "solution": "S2\nThe answer is: 2",
            "answer": "2",
            "style": "world",
            "family": "",
            "n_steps": 1,
            "structure": None,
        },
    ],
    schema=PROBLEMS,
)


def trajectory(pid: str, bucket: str, k: int, error_type: str | None, strategy: str = "fix_continue") -> dict:
    return {
        "problem_id": pid,
        "bucket": bucket,
        "sample_index": k,
        "error_type": error_type,
        "strategy": strategy,
        "prefix": "x",
        "phrase": "Wait.",
        "continuation": "y",
        "trajectory": "x Wait. y",
        "smoothed": f"smoothed {pid} {bucket} {k}",
        "pred_answer": "1",
        "correct": True,
    }


TRAJ = pl.DataFrame(
    [
        trajectory("p1", "student", 0, None),
        trajectory("p2", "student", 3, None, "fresh_restart"),
        trajectory("p2", "calculation_error", 1, "calculation_error"),
    ],
    schema=TRAJECTORIES,
)
LABELS = pl.DataFrame(
    [
        {
            "problem_id": "p1",
            "sample_index": 0,
            "first_wrong_step": 1,
            "error_type": "counting_error",
            "rationale": "",
            "dropped": None,
        }
    ],
    schema=TYPE_LABELS,
)
GRADED_DF = graded(
    [
        ("p2", 1, "right  two\nThe answer is: 2", True),
        ("p1", 0, "wrong", False),
        ("p2", 0, "right two\nThe answer is: 2 ", True),  # the same text, spaced otherwise
        ("p1", 2, "  ", True),
        ("p9", 0, "not a problem here", True),
        ("p1", 1, "right one", None),
    ]
)


def by_source(rows):
    return sorted(
        (r["source"], r["problem_id"], r["bucket"], r["strategy"], r["error_type"], r["response"]) for r in rows
    )


def test_reference_plus_trajectories_with_types_from_the_type_judge():
    rows = sft_rows(PROBLEMS_DF, TRAJ, {}, "world", LABELS, seed=0)
    assert by_source(rows) == [
        (
            "augmented",
            "p2",
            "calculation_error",
            "fix_continue",
            "calculation_error",
            "smoothed p2 calculation_error 1",
        ),
        ("reference", "p1", None, None, None, "S1\nThe answer is: 1"),
        ("reference", "p2", None, None, None, "S2\nThe answer is: 2"),
        # the student's own mistake gets the judged type; an unjudged one stays unlabelled
        ("student", "p1", "student", "fix_continue", "counting_error", "smoothed p1 student 0"),
        ("student", "p2", "student", "fresh_restart", None, "smoothed p2 student 3"),
    ]
    assert {r["prompt"] for r in rows if r["problem_id"] == "p2"} == {format_prompt("Q2?", "world")}


def test_row_order_is_a_seeded_shuffle_and_max_rows_its_head():
    rows = sft_rows(PROBLEMS_DF, TRAJ, {}, "world", None, seed=5)
    unshuffled = sft_rows(PROBLEMS_DF, TRAJ, {}, "world", None, seed=5)
    assert rows == unshuffled, "the same seed, the same order"
    # the order is random.Random(seed).shuffle of the references in problem order, then the
    # trajectories in table order
    by_response = {r["response"]: r for r in rows}
    expected = [by_response[t] for t in ["S1\nThe answer is: 1", "S2\nThe answer is: 2"] + TRAJ["smoothed"].to_list()]
    random.Random(5).shuffle(expected)
    assert rows == expected
    assert sft_rows(PROBLEMS_DF, TRAJ, {"max_rows": 2}, "world", None, seed=5) == rows[:2]
    assert sft_rows(PROBLEMS_DF, TRAJ, {}, "world", None, seed=6) != rows


def test_trajectories_only_and_rft_variants():
    only = sft_rows(PROBLEMS_DF, TRAJ, {"reference": False}, "world", None, seed=0)
    assert {r["source"] for r in only} == {"student", "augmented"} and len(only) == 3
    assert sft_rows(PROBLEMS_DF, None, {"reference": False}, "world", None, seed=0) == []
    rft = sft_rows(PROBLEMS_DF, None, {"student_correct": True}, "world", None, seed=0, graded=GRADED_DF)
    assert by_source(rft) == [
        ("reference", "p1", None, None, None, "S1\nThe answer is: 1"),
        ("reference", "p2", None, None, None, "S2\nThe answer is: 2"),
        ("student_correct", "p2", "student", None, None, "right two\nThe answer is: 2"),
    ]
    with pytest.raises(ValueError, match="student_correct"):
        sft_rows(PROBLEMS_DF, None, {"student_correct": True}, "world", None, seed=0)


def test_correct_sample_rows_distinct_in_problem_then_sample_order():
    rows = correct_sample_rows(PROBLEMS_DF, GRADED_DF, "world")
    # p2's sample 0 comes first; sample 1 is the same text up to whitespace; blanks, nulls and
    # problems of other datasets are left out
    assert [(r["problem_id"], r["response"]) for r in rows] == [("p2", "right two\nThe answer is: 2")]
    assert rows[0]["prompt"] == format_prompt("Q2?", "world") and rows[0]["source"] == "student_correct"


def test_external_file_rows_keep_the_question():
    rows = external_rows(str(ALPACA), "world")
    assert rows[0]["question"] == "A baker makes 24 rolls and sells 9. How many rolls are left?"
    assert rows[0]["prompt"] == format_prompt(rows[0]["question"], "world")
    assert rows[0]["response"].endswith("The answer is: 15")
    assert {r["source"] for r in rows} == {"external"} and all(r["problem_id"] is None for r in rows)
    mixed = sft_rows(PROBLEMS_DF, None, {"file": str(ALPACA)}, "world", None, seed=0)
    assert len(mixed) == 2 + len(rows)


def test_sft_stats_counts_shares_and_words():
    rows = sft_rows(PROBLEMS_DF, TRAJ, {}, "world", LABELS, seed=0)
    stats = sft_stats(rows)
    words = sum(len(r["prompt"].split()) + len(r["response"].split()) for r in rows)
    assert stats == {
        "rows": 5,
        "reference_rows": 2,
        "trajectory_rows": 3,
        "avg_tokens": words / 5,
        "token_unit": "whitespace words",
        "by_source": {**{s: n for s, n in [("reference", 2), ("student", 2), ("augmented", 1)]}},
        "trajectory_share_by_type": {"calculation_error": 1 / 3, "counting_error": 1 / 3, "unlabelled": 1 / 3},
        "trajectory_share_by_strategy": {"fix_continue": 2 / 3, "fresh_restart": 1 / 3},
    }
    assert sft_stats([])["avg_tokens"] == 0.0 and sft_stats([])["trajectory_share_by_type"] == {}


def test_export_rows_layouts():
    rows = sft_rows(PROBLEMS_DF, None, {}, "world", None, seed=0)[:1] + external_rows(str(ALPACA), "world")[:1]
    questions = dict(zip(PROBLEMS_DF["id"], PROBLEMS_DF["question"]))
    q0 = questions[rows[0]["problem_id"]]
    alpaca = export_rows(rows, questions, "alpaca")
    assert alpaca[0] == {"instruction": q0, "input": "", "output": rows[0]["response"]}
    assert alpaca[1]["instruction"] == rows[1]["question"], "an external row exports its own question"
    assert export_rows(rows, questions, "sharegpt")[0] == {
        "conversations": [{"from": "human", "value": q0}, {"from": "gpt", "value": rows[0]["response"]}]
    }
    assert export_rows(rows, questions, "messages")[0] == {
        "messages": [{"role": "user", "content": q0}, {"role": "assistant", "content": rows[0]["response"]}]
    }
    with pytest.raises(ValueError, match="unknown export layout"):
        export_rows(rows, questions, "csv")
