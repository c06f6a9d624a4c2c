"""Small hand-made tables the tests/test_pipeline_*.py files share."""

from __future__ import annotations

import polars as pl

from lemma.tables.records import GRADED


def graded(rows: list[tuple]) -> pl.DataFrame:
    """A GRADED table from (problem_id, sample_index, completion, correct) rows."""
    return pl.DataFrame(
        [
            {
                "problem_id": p,
                "sample_index": k,
                "completion": c,
                "finish_reason": "stop",
                "pred_answer": None,
                "correct": ok,
                "status": "ok",
            }
            for p, k, c, ok in rows
        ],
        schema=GRADED,
    )
