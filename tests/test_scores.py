"""Scoring: accuracy, 95% Wilson intervals and the Table-2 markdown, on fixture predictions."""

import polars as pl
import pytest

from lemma.engines.base import Completion, Engine
from lemma.pipeline.evaluate import EvalSpec, majority_vote, markdown_table, score_table, wilson_interval
from lemma.tables.scores import scores_table


def preds(flags):
    return pl.DataFrame({"problem_id": [str(i) for i in range(len(flags))], "correct": flags})


def test_wilson_interval_known_values():
    # 50 of 100: the textbook value 0.404..0.596
    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-4) and hi == pytest.approx(0.5962, abs=1e-4)
    # 0 of 20 keeps a real upper bound instead of collapsing to [0, 0]
    lo, hi = wilson_interval(0, 20)
    assert lo == 0.0 and hi == pytest.approx(0.1611, abs=1e-4)
    lo, hi = wilson_interval(20, 20)
    assert hi == 1.0 and lo == pytest.approx(0.8389, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 0.0)


def test_score_table_counts_each_variant_and_benchmark():
    evals = {
        ("sft", "gsm8k"): preds([True, False, False, False]),
        ("lemma", "gsm8k"): preds([True, True, True, False]),
        ("lemma", "math"): preds([True, False]),
    }
    s = score_table(evals)
    row = s.filter((pl.col("variant") == "lemma") & (pl.col("benchmark") == "gsm8k")).row(0, named=True)
    assert (row["n"], row["correct"], row["accuracy"]) == (4, 3, 0.75)
    assert row["ci_low"] < 0.75 < row["ci_high"]
    assert s.height == 3


def test_markdown_table_has_the_papers_layout_and_average():
    evals = {("sft", "a"): preds([True, False]), ("sft", "b"): preds([True, True]), ("lemma", "a"): preds([True, True])}
    md = markdown_table(scores_table(score_table(evals), ["sft", "lemma"], ["a", "b"]))
    lines = md.splitlines()
    assert lines[0] == "| variant | a | b | avg |"
    assert lines[2].startswith("| sft | 50.0 (") and lines[2].endswith("| 75.0 |")
    # a missing cell is shown as missing and left out of the average, never counted as 0
    assert lines[3].startswith("| lemma | 100.0 (") and "| – | 100.0 |" in lines[3]


class ScriptedEngine(Engine):
    """Answers every prompt with the same scripted samples: the vote, not a model, is under test."""

    def __init__(self, samples):
        self.samples = samples

    def generate(self, requests, progress=None):
        assert all(r.params.n == len(self.samples) and r.params.temperature == 0.7 for r in requests)
        return [[Completion(text=t) for t in self.samples] for _ in requests]


def test_majority_vote_takes_the_most_frequent_answer():
    problems = pl.DataFrame({"id": ["p"], "question": ["q"], "answer": ["7"], "style": ["world"]})
    votes = ["The answer is: 5", "The answer is: 7", "no answer here", "The answer is: 7", "The answer is: 8"]
    rows = majority_vote(problems, ScriptedEngine(votes), EvalSpec("b", "world", 16), k=5)
    assert rows[0]["pred_answer"] == "7" and rows[0]["correct"]
    # a tie goes to the answer seen first
    rows = majority_vote(problems, ScriptedEngine(votes[:2]), EvalSpec("b", "world", 16), k=2)
    assert rows[0]["pred_answer"] == "5" and not rows[0]["correct"]
    rows = majority_vote(problems, ScriptedEngine(["nothing", "at all"]), EvalSpec("b", "world", 16), k=2)
    assert rows[0]["status"] == "no_answer" and not rows[0]["correct"]


def test_average_leaves_out_the_majority_columns():
    evals = {("v", "a"): preds([True, False]), ("v", "a maj@4"): preds([True, True])}
    md = markdown_table(scores_table(score_table(evals), ["v"], ["a", "a maj@4"], average_over=["a"]))
    assert md.splitlines()[2].endswith("| 50.0 |")
