"""lemma.pipeline.judges: which wrong samples are judged, the step judge's and the type judge's
rows and drop reasons (the built-in oracle teacher as judge), and the taxonomy statistics."""

from __future__ import annotations

import polars as pl
import pytest

from lemma.pipeline.judges import (
    classify_student_errors,
    locate_student_errors,
    plot_taxonomy,
    taxonomy_stats,
    wrong_samples,
)
from lemma.tables.records import GRADED, PROBLEMS, STEP_LABELS, TYPE_LABELS
from lemma.teacher.base import TypeSpec
from lemma.teacher.oracle import OracleTeacher
from tests.pipeline_tables import graded
from tests.world_rows import world_rows

# train-00000: "Step 1: 40 - 14 = 26\nStep 2: 26 - 1 = 25\nThe answer is: 25" (floors strictly between)
# train-00003: "Step 1: 12 * 6 = 72\nStep 2: 72 * 4 = 288\nThe answer is: 288"
WORLD = world_rows(4)
GSM8K = {
    "id": "gsm8k-0",
    "dataset": "gsm8k",
    "question": "q",
    "solution": "s",
    "answer": "3",
    "style": "gsm8k",
    "family": "",
    "n_steps": None,
    "structure": None,
}
PROBLEMS_DF = pl.DataFrame(WORLD + [GSM8K], schema=PROBLEMS)

OPERATOR = "Step 1: 40 - 14 = 26\nStep 2: 26 + 1 = 27\nThe answer is: 27"  # step 2, operator_error
ARITHMETIC = "Step 1: 40 - 14 = 24\nStep 2: 24 - 1 = 23\nThe answer is: 23"  # step 1, calculation_error
OFF_BY_ONE = "Step 1: 40 - 14 = 26\nThe answer is: 26"  # step 2, counting_error
RIGHT = "Step 1: 12 * 6 = 72\nStep 2: 72 * 4 = 288\nThe answer is: 288"  # misgraded wrong: the judge disagrees
TAXONOMY = [TypeSpec(n, f"definition of {n}") for n in ("calculation_error", "counting_error", "operator_error")]


GRADED_DF = graded(
    [
        ("train-00003", 0, RIGHT, False),
        ("train-00000", 3, OPERATOR, False),
        ("train-00000", 1, ARITHMETIC, False),
        ("train-00000", 0, "Step 1: 40 - 14 = 26\nStep 2: 26 - 1 = 25\nThe answer is: 25", True),
        ("train-00000", 2, OPERATOR, False),  # the same text again: judged once
        ("train-00000", 4, OFF_BY_ONE, False),
        ("train-00000", 5, "", False),
        ("gsm8k-0", 0, "1 + 1 = 2\nThe answer is: 2", False),
    ]
)


@pytest.fixture(scope="module")
def oracle():
    return OracleTeacher(seed=0)


def test_wrong_samples_distinct_sorted_and_capped():
    wrong = wrong_samples(GRADED_DF, None)
    # the duplicate OPERATOR text keeps its first row in the file (sample 3), then rows are sorted
    assert wrong.select("problem_id", "sample_index").rows() == [
        ("gsm8k-0", 0),
        ("train-00000", 1),
        ("train-00000", 3),
        ("train-00000", 4),
        ("train-00000", 5),
        ("train-00003", 0),
    ]
    assert wrong.columns == list(GRADED)
    capped = wrong_samples(GRADED_DF, 3, seed=0)
    assert capped.height == 3
    # one sample per problem before a second of any; the capped rows stay in sorted order
    assert set(capped["problem_id"]) == {"gsm8k-0", "train-00000", "train-00003"}
    assert capped.rows() == sorted(capped.rows(), key=lambda r: (r[0], r[1]))
    assert wrong_samples(GRADED_DF, 6).equals(wrong), "a cap at the count takes every row"


def test_locate_student_errors_with_the_oracle(oracle):
    rows, stats = locate_student_errors(PROBLEMS_DF, GRADED_DF, oracle, None)
    table = pl.DataFrame(rows, schema=STEP_LABELS)  # the stage's output fits its record schema
    assert table.select("problem_id", "sample_index", "first_wrong_step", "dropped").rows() == [
        ("gsm8k-0", 0, None, "no_structure"),
        ("train-00000", 1, 1, None),
        ("train-00000", 3, 2, None),
        ("train-00000", 4, 2, None),
        ("train-00000", 5, None, "empty_solution"),
        ("train-00003", 0, None, "not_wrong"),
    ]
    assert rows[1]["rationale"] == "Step 1 computes 40 - 14 as 24; it is 26."
    assert rows[1]["completion"] == ARITHMETIC
    assert stats.as_dict() == {
        "stage": "locate_errors",
        "in": 6,
        "out": 3,
        "dropped": {"empty_solution": 1, "no_structure": 1, "not_wrong": 1},
    }


def test_locate_student_errors_judges_only_the_capped_draw(oracle):
    rows, stats = locate_student_errors(PROBLEMS_DF, GRADED_DF, oracle, 2, seed=5)
    drawn = wrong_samples(GRADED_DF, 2, seed=5)
    assert [(r["problem_id"], r["sample_index"]) for r in rows] == drawn.select("problem_id", "sample_index").rows()
    assert stats.n_in == 2


def steps_table(oracle) -> pl.DataFrame:
    rows, _ = locate_student_errors(PROBLEMS_DF, GRADED_DF, oracle, None)
    return pl.DataFrame(rows, schema=STEP_LABELS)


def test_classify_student_errors_reads_only_located_rows(oracle):
    rows, stats = classify_student_errors(PROBLEMS_DF, steps_table(oracle), oracle, TAXONOMY)
    table = pl.DataFrame(rows, schema=TYPE_LABELS)
    assert table.select("problem_id", "sample_index", "first_wrong_step", "error_type", "dropped").rows() == [
        ("train-00000", 1, 1, "calculation_error", None),
        ("train-00000", 3, 2, "operator_error", None),
        ("train-00000", 4, 2, "counting_error", None),
    ]
    assert stats.as_dict() == {"stage": "classify_errors", "in": 3, "out": 3, "dropped": {}}


def test_classify_falls_back_to_the_closest_type_or_drops(oracle):
    steps = steps_table(oracle)
    # without operator_error, the oracle's fallback for it is calculation_error
    rows, _ = classify_student_errors(PROBLEMS_DF, steps, oracle, TAXONOMY[:2])
    assert [r["error_type"] for r in rows] == ["calculation_error", "calculation_error", "counting_error"]
    assert "closest type in the taxonomy to operator_error" in rows[1]["rationale"]
    # a taxonomy with none of them: each row dropped, named by the type the judge saw
    rows, stats = classify_student_errors(PROBLEMS_DF, steps, oracle, [TypeSpec("hallucination", "")])
    assert [r["error_type"] for r in rows] == [None, None, None]
    assert stats.n_out == 0 and stats.as_dict()["dropped"] == {
        "type_not_in_taxonomy:calculation_error": 1,
        "type_not_in_taxonomy:operator_error": 1,
        "type_not_in_taxonomy:counting_error": 1,
    }


def test_taxonomy_stats_in_taxonomy_order_with_shares():
    labels = pl.DataFrame(
        [
            {
                "problem_id": "p",
                "sample_index": i,
                "first_wrong_step": 1,
                "error_type": t,
                "rationale": "",
                "dropped": None if t else "x",
            }
            for i, t in enumerate(["counting_error", "calculation_error", "counting_error", None, "counting_error"])
        ],
        schema=TYPE_LABELS,
    )
    assert taxonomy_stats(labels, TAXONOMY) == [
        {"error_type": "calculation_error", "count": 1, "share": 0.25},
        {"error_type": "counting_error", "count": 3, "share": 0.75},
        {"error_type": "operator_error", "count": 0, "share": 0.0},
    ]
    assert taxonomy_stats(labels.head(0), TAXONOMY)[0] == {"error_type": "calculation_error", "count": 0, "share": 0.0}


def test_plot_taxonomy_writes_a_png(tmp_path):
    path = tmp_path / "taxonomy.png"
    plot_taxonomy(
        [{"error_type": "a", "count": 3, "share": 0.75}, {"error_type": "b", "count": 1, "share": 0.25}], str(path)
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
