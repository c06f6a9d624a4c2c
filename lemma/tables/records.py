"""Explicit polars schemas of every table the workflow writes (never inferred).

One schema per stage output; `lemma.tables.io.write_table` checks a frame against its schema before the
atomic write, so a stage can never silently change a contract the next stage reads.
"""

from __future__ import annotations

import polars as pl

PROBLEMS = {
    "id": pl.Utf8,  # unique within a dataset
    "dataset": pl.Utf8,
    "question": pl.Utf8,
    "solution": pl.Utf8,  # reference solution
    "answer": pl.Utf8,  # reference final answer, as text
    "style": pl.Utf8,  # step style / grading style: world | gsm8k | math
    "family": pl.Utf8,  # generator family or dataset subject
    "n_steps": pl.Int32,
    "structure": pl.Utf8,  # built-in world: JSON the oracle reads; null for real data
}

SAMPLES = {
    "problem_id": pl.Utf8,
    "sample_index": pl.Int32,
    "completion": pl.Utf8,
    "finish_reason": pl.Utf8,
}

GRADED = {
    **SAMPLES,
    "pred_answer": pl.Utf8,
    "correct": pl.Boolean,
    "status": pl.Utf8,  # ok | no_answer | timeout | error
}

# wrong student samples with their first wrong step (error-step judge)
STEP_LABELS = {
    "problem_id": pl.Utf8,
    "sample_index": pl.Int32,
    "completion": pl.Utf8,
    "first_wrong_step": pl.Int32,  # null when dropped
    "rationale": pl.Utf8,
    "dropped": pl.Utf8,  # null when labelled
}

TYPE_LABELS = {
    "problem_id": pl.Utf8,
    "sample_index": pl.Int32,
    "first_wrong_step": pl.Int32,
    "error_type": pl.Utf8,  # null when dropped
    "rationale": pl.Utf8,
    "dropped": pl.Utf8,
}

TAXONOMY_STATS = {
    "error_type": pl.Utf8,
    "count": pl.Int64,
    "share": pl.Float64,
}

MISTAKES = {
    "problem_id": pl.Utf8,
    "bucket": pl.Utf8,  # "student" (the student's own) or an injected error type
    "sample_index": pl.Int32,
    "solution": pl.Utf8,  # the whole wrong solution
    "pred_answer": pl.Utf8,
    "wrong_step": pl.Int32,  # what the injecting teacher claimed, if anything
    "explanation": pl.Utf8,
}

TRUNCATED = {
    "problem_id": pl.Utf8,
    "bucket": pl.Utf8,
    "sample_index": pl.Int32,
    "error_type": pl.Utf8,
    "first_wrong_step": pl.Int32,
    "prefix": pl.Utf8,  # the wrong attempt up to and including its first wrong step (or whole)
}

CORRECTIONS = {
    "problem_id": pl.Utf8,
    "bucket": pl.Utf8,
    "sample_index": pl.Int32,
    "error_type": pl.Utf8,
    "strategy": pl.Utf8,  # fix_continue | fresh_restart
    "prefix": pl.Utf8,
    "phrase": pl.Utf8,
    "continuation": pl.Utf8,
    "trajectory": pl.Utf8,  # join_trajectory(prefix, phrase, continuation)
}

TRAJECTORIES = {
    **CORRECTIONS,
    "smoothed": pl.Utf8,
    "pred_answer": pl.Utf8,
    "correct": pl.Boolean,
}

EVAL = {
    "problem_id": pl.Utf8,
    "completion": pl.Utf8,
    "gold": pl.Utf8,
    "pred_answer": pl.Utf8,
    "correct": pl.Boolean,
    "status": pl.Utf8,
}

# drop accounting: every row a stage does not pass on, with why
DROPS = {
    "stage": pl.Utf8,
    "problem_id": pl.Utf8,
    "sample_index": pl.Int32,
    "reason": pl.Utf8,
}
