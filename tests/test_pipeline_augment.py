"""lemma.pipeline.augment: which problems get injections, how many a type gets, and which injected
mistakes are kept (the oracle teacher; the LLM teacher behind a loopback OpenAI server for the
drops only a free-text teacher can cause)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from lemma.pipeline.augment import failed_problem_ids, inject_errors, injections_for_type
from lemma.tables.records import GRADED, MISTAKES, PROBLEMS, TAXONOMY_STATS
from lemma.teacher.base import TypeSpec
from lemma.teacher.factory import build_teacher
from lemma.teacher.oracle import OracleTeacher
from tests.fake_openai_server import FakeOpenAIServer, last_user_text, teacher_config
from tests.world_rows import world_rows

ROOT = Path(__file__).resolve().parent.parent
# train-00000 "Step 1: 40 - 14 = 26\nStep 2: 26 - 1 = 25\nThe answer is: 25"
# train-00002 "Step 1: 20 + 11 = 31\nStep 2: 31 * 2 = 62\nStep 3: 62 * 4 = 248\nThe answer is: 248"
WORLD = pl.DataFrame(world_rows(4), schema=PROBLEMS)


def graded(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "problem_id": p,
                "sample_index": k,
                "completion": "x",
                "finish_reason": "stop",
                "pred_answer": None,
                "correct": ok,
                "status": "ok",
            }
            for p, k, ok in rows
        ],
        schema=GRADED,
    )


# train-00001 only right, train-00003 never sampled: neither gets injections
GRADED_DF = graded(
    [
        ("train-00002", 0, False),
        ("train-00000", 0, False),
        ("train-00001", 0, True),
        ("train-00002", 1, False),
        ("train-00000", 1, True),
    ]
)


def test_failed_problem_ids_sorted_distinct_and_capped():
    assert failed_problem_ids(GRADED_DF, None) == ["train-00000", "train-00002"]
    assert failed_problem_ids(GRADED_DF, 1) == ["train-00000"]
    assert failed_problem_ids(GRADED_DF, 0) == ["train-00000", "train-00002"], "0 means no cap"
    assert failed_problem_ids(graded([("a", 0, True)]), None) == []


def test_injections_for_type_uniform_and_by_measured_share():
    types = ["calculation_error", "counting_error", "operator_error"]
    stats = pl.DataFrame(
        [
            ("calculation_error", 6, 0.6),
            ("counting_error", 4, 0.4),
            ("operator_error", 0, 0.0),
            ("hallucination", 90, 0.9),
        ],
        schema=TAXONOMY_STATS,
        orient="row",
    )
    assert injections_for_type(2, "uniform", "counting_error", stats, types) == 2
    assert injections_for_type(2, "stats", "counting_error", None, types) == 2, "no stats: uniform"
    # the budget 2 x 3 types = 6 is split 0.6 : 0.4 among the chosen types (hallucination is not chosen)
    assert injections_for_type(2, "stats", "calculation_error", stats, types) == 4
    assert injections_for_type(2, "stats", "counting_error", stats, types) == 2
    assert injections_for_type(2, "stats", "operator_error", stats, types) == 0, "never observed"
    # an observed type gets at least one
    tiny = pl.DataFrame(
        [("calculation_error", 99, 0.99), ("counting_error", 1, 0.01)], schema=TAXONOMY_STATS, orient="row"
    )
    assert injections_for_type(1, "stats", "counting_error", tiny, types[:2]) == 1
    assert injections_for_type(1, "stats", "counting_error", tiny.head(0), types[:2]) == 0


@pytest.fixture(scope="module")
def oracle():
    return OracleTeacher(seed=0)


def test_inject_errors_with_the_oracle(oracle):
    rows, stats = inject_errors(WORLD, GRADED_DF, oracle, TypeSpec("calculation_error", "d"), 2, None)
    table = pl.DataFrame(rows, schema=MISTAKES)  # the stage's rows fit its record schema
    assert table.select("problem_id", "bucket", "sample_index", "pred_answer", "wrong_step").rows() == [
        ("train-00000", "calculation_error", 0, "26", 2),
        ("train-00000", "calculation_error", 1, "26", 1),
        ("train-00002", "calculation_error", 0, "842", 3),
        ("train-00002", "calculation_error", 1, "256", 1),
    ]
    assert rows[0]["solution"] == "Step 1: 40 - 14 = 26\nStep 2: 26 - 1 = 26\nThe answer is: 26"
    assert rows[0]["explanation"] == "Step 2 computes 26 - 1 as 26 instead of 25."
    assert stats.as_dict() == {"stage": "inject_errors:calculation_error", "in": 4, "out": 4, "dropped": {}}
    again, _ = inject_errors(WORLD, GRADED_DF, OracleTeacher(seed=0), TypeSpec("calculation_error", "d"), 2, None)
    assert again == rows, "the same seed injects the same mistakes"


def test_inject_errors_drops_types_and_sites_the_oracle_lacks(oracle):
    rows, stats = inject_errors(WORLD, GRADED_DF, oracle, TypeSpec("counting_error", ""), 2, None)
    # only the floors problem has an off-by-one site, and only one
    assert [(r["problem_id"], r["sample_index"], r["solution"]) for r in rows] == [
        ("train-00000", 0, "Step 1: 40 - 14 = 26\nThe answer is: 26")
    ]
    assert stats.as_dict()["dropped"] == {"no_site:counting_error": 3}
    rows, stats = inject_errors(WORLD, GRADED_DF, oracle, TypeSpec("nonsensical_output", ""), 1, 1)
    assert rows == [] and stats.as_dict() == {
        "stage": "inject_errors:nonsensical_output",
        "in": 1,
        "out": 0,
        "dropped": {"type_unsupported:nonsensical_output": 1},
    }


# -- an LLM teacher's free text -------------------------------------------------------------
GSM8K = pl.DataFrame(
    [
        {
            "id": "g-dup",
            "dataset": "g",
            "question": "Mia bakes 4 trays of 12 cookies and gives away 15. How many?",
            "solution": "4 * 12 = 48. 48 - 15 = 33.\nThe answer is: 33",
            "answer": "33",
            "style": "gsm8k",
            "family": "",
            "n_steps": None,
            "structure": None,
        },
        {
            "id": "m-half",
            "dataset": "m",
            "question": "What is [half] of 1?",
            "solution": "It is $\\frac{1}{2}$.",
            "answer": "\\frac{1}{2}",
            "style": "math",
            "family": "",
            "n_steps": None,
            "structure": None,
        },
        {
            "id": "g-noexpl",
            "dataset": "g",
            "question": "[noexpl] What is 2 + 2?",
            "solution": "2 + 2 = 4",
            "answer": "4",
            "style": "gsm8k",
            "family": "",
            "n_steps": None,
            "structure": None,
        },
    ],
    schema=PROBLEMS,
)


def inject_reply(body: dict) -> str:
    user = last_user_text(body)
    if "[half]" in user:
        # 0.5 is not "\frac{1}{2}" to the teacher's cheap check, but the grader knows it is right
        return "Half of 1 is 0.5.\nThe answer is: 0.5\n<explanation>Step 1 is wrong.</explanation>"
    if "[noexpl]" in user:
        return "2 + 2 = 5\nThe answer is: 5"
    # the same mistake for every sample: the second copy is a duplicate
    return (
        "Mia bakes 4 * 12 = 48 cookies.\nShe keeps 48 - 51 = -3.\nThe answer is: -3\n"
        "<explanation>Wrong step: She keeps 48 - 51 = -3.</explanation>"
    )


def test_inject_errors_drops_right_answers_duplicates_and_unparsed_replies(tmp_path, monkeypatch):
    monkeypatch.setenv("LEMMA_TEST_TEACHER_KEY", "dummy")
    with FakeOpenAIServer(responder=inject_reply) as server:
        cfg = teacher_config(server.base_url, "LEMMA_TEST_TEACHER_KEY", "m")
        teacher = build_teacher(cfg, cache_path=str(tmp_path / "cache.sqlite"), rule="test")
        try:
            g = graded([("g-dup", 0, False), ("m-half", 0, False), ("g-noexpl", 0, False)])
            rows, stats = inject_errors(GSM8K, g, teacher, TypeSpec("calculation_error", "d"), 2, None)
        finally:
            teacher.close()
    assert [(r["problem_id"], r["sample_index"], r["pred_answer"], r["wrong_step"]) for r in rows] == [
        ("g-dup", 0, "-3", 2)
    ]
    assert rows[0]["solution"] == "Mia bakes 4 * 12 = 48 cookies.\nShe keeps 48 - 51 = -3.\nThe answer is: -3"
    assert stats.as_dict() == {
        "stage": "inject_errors:calculation_error",
        "in": 6,
        "out": 1,
        "dropped": {"answer_still_right": 2, "duplicate": 1, "inject:no_explanation": 2},
    }
