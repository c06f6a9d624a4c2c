"""lemma.pipeline.evaluate: the evaluation prompts, greedy evaluation and maj@k through a scripted
loopback student (openai engine), and the score tables built from their rows."""

from __future__ import annotations

import math

import polars as pl
import pytest

from lemma.data.fewshot import default_shots, fewshot_prompt, fewshot_stops
from lemma.engines.openai_engine import OpenAIEngine
from lemma.pipeline.evaluate import (
    EvalSpec,
    aggregate_seeds,
    eval_prompts,
    evaluate,
    majority_vote,
    paired_markdown,
    score_table,
    wilson_interval,
)
from lemma.tables.records import EVAL, PROBLEMS
from lemma.text.prompting import PromptFormat
from tests.fake_openai_server import FakeOpenAIServer

PROBLEMS_DF = pl.DataFrame(
    [
        {
            "id": "a",
            "dataset": "svamp",
            "question": "[a] Ann has 3 cats and gets 4 more. How many cats?",
            "solution": "",
            "answer": "7",
            "style": "gsm8k",
            "family": "",
            "n_steps": 1,
            "structure": None,
        },
        {
            "id": "b",
            "dataset": "svamp",
            "question": "[b] What is half of 1?",
            "solution": "",
            "answer": "\\frac{1}{2}",
            "style": "math",
            "family": "",
            "n_steps": 1,
            "structure": None,
        },
        {
            "id": "c",
            "dataset": "svamp",
            "question": "[c] What is 2 + 2?",
            "solution": "",
            "answer": "4",
            "style": "gsm8k",
            "family": "",
            "n_steps": 1,
            "structure": None,
        },
    ],
    schema=PROBLEMS,
)


def test_eval_prompts_zero_and_few_shot():
    fmt = PromptFormat.of("alpaca")
    prompts, stops = eval_prompts(PROBLEMS_DF, "alpaca", 0, "svamp")
    assert prompts == [fmt.prompt(q) for q in PROBLEMS_DF["question"]] and stops == fmt.stops
    prompts, stops = eval_prompts(PROBLEMS_DF, "alpaca", 2, "svamp")
    assert prompts[1] == fewshot_prompt("[b] What is half of 1?", default_shots("svamp")[:2], "alpaca")
    assert stops == fewshot_stops("alpaca") and set(fmt.stops) <= set(stops)


def test_eval_prompts_take_the_exemplars_of_the_source_format_not_the_dataset_name():
    # a benchmark may be named anything: its loader format picks the exemplars
    named, _ = eval_prompts(PROBLEMS_DF, "alpaca", 2, "svamp_test", source_format="svamp")
    assert named == eval_prompts(PROBLEMS_DF, "alpaca", 2, "svamp")[0]
    math, _ = eval_prompts(PROBLEMS_DF, "alpaca", 1, "deepmind_math", source_format="deepmind_mathematics")
    assert math[0] == fewshot_prompt(PROBLEMS_DF["question"][0], default_shots("math")[:1], "alpaca")
    # more shots than exemplars is refused, naming the count, instead of silently using fewer
    with pytest.raises(ValueError, match="5 shots asked for 'svamp'"):
        eval_prompts(PROBLEMS_DF, "alpaca", 5, "svamp_test", source_format="svamp")


def student(body: dict):
    """Greedy: one reply per problem (with an invented next task for `a`); sampled (maj@k): the
    answers below by sample index."""
    q = body["prompt"].rsplit("[", 1)[1][0]
    if body["temperature"] == 0.0:
        return {
            "a": "3 + 4 = 7.\nThe answer is: 7\n### Instruction:\nThe answer is: 9",
            "b": "Half of 1 is 0.5.\nThe answer is: 0.5",
            "c": "I cannot say.",
        }[q]
    k = (body["seed"] - 11) // 7919
    return {
        "a": ["The answer is: 8", "The answer is: 7", "The answer is: 8", "The answer is: 7"],
        "b": ["The answer is: 2", "The answer is: 0.5", "The answer is: 0.5", "no idea"],
        "c": ["no idea", "still none", "hmm", "..."],
    }[q][k]


@pytest.fixture
def engine():
    with FakeOpenAIServer(responder=student) as server:
        e = OpenAIEngine("student", base_url=server.base_url, api_key_env=None, max_retries=0, request_timeout_s=5)
        e.server = server
        yield e
        e.close()


def test_evaluate_greedy_rows_in_problem_order(engine):
    rows = evaluate(PROBLEMS_DF, engine, EvalSpec("svamp", "alpaca", max_new_tokens=32))
    table = pl.DataFrame(rows, schema=EVAL)
    assert table.rows() == [
        ("a", "3 + 4 = 7.\nThe answer is: 7", "7", "7", True, "ok"),  # the invented task is cut first
        ("b", "Half of 1 is 0.5.\nThe answer is: 0.5", "\\frac{1}{2}", "0.5", True, "ok"),  # graded as math
        ("c", "I cannot say.", "4", None, False, "no_answer"),
    ]
    assert len(engine.server.hits()) == 3


def test_majority_vote_rows(engine):
    rows = majority_vote(PROBLEMS_DF, engine, EvalSpec("svamp", "alpaca", max_new_tokens=32), k=4, seed=11)
    table = pl.DataFrame(rows, schema=EVAL)
    assert table.rows() == [
        ("a", "The answer is: 8", "7", "8", False, "ok"),  # 2 : 2, the answer seen first wins
        ("b", "The answer is: 0.5", "\\frac{1}{2}", "0.5", True, "ok"),
        ("c", "no idea", "4", None, False, "no_answer"),  # no answer at all: the first sample's text
    ]
    assert len(engine.server.hits()) == 12


def evals(flags: list[bool]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"problem_id": str(i), "completion": "", "gold": "1", "pred_answer": None, "correct": c, "status": "ok"}
            for i, c in enumerate(flags)
        ],
        schema=EVAL,
    )


def test_score_table_rows_in_the_order_given():
    scores = score_table(
        {
            ("lemma", "test"): evals([True, True, False, True]),
            ("base", "test"): evals([False] * 2),
            ("base", "empty"): evals([]),
        }
    )
    assert scores.select("variant", "benchmark", "n", "correct", "accuracy").rows() == [
        ("lemma", "test", 4, 3, 0.75),
        ("base", "test", 2, 0, 0.0),
        ("base", "empty", 0, 0, 0.0),
    ]
    assert scores.row(0, named=True)["ci_low"] == pytest.approx(wilson_interval(3, 4)[0])
    assert scores.row(2)[5:] == (0.0, 0.0)


def test_wilson_interval_edges():
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson_interval(10, 10)
    assert hi == pytest.approx(1.0) and lo == pytest.approx(0.7225, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 0.0)


def test_aggregate_seeds_mean_sd_and_pooled_interval():
    runs = {"lemma-s0": ("lemma", 0), "lemma-s1": ("lemma", 1), "base-s0": ("base", 0)}
    per_run = score_table(
        {
            ("lemma-s0", "t"): evals([True] * 3 + [False]),
            ("lemma-s1", "t"): evals([True, False] * 2),
            ("base-s0", "t"): evals([False, True]),
        }
    )
    agg = aggregate_seeds(per_run, runs)
    assert agg.select("variant", "benchmark", "n", "correct", "seeds").rows() == [
        ("lemma", "t", 8, 5, 2),
        ("base", "t", 2, 1, 1),
    ]
    lemma = agg.row(0, named=True)
    assert lemma["accuracy"] == pytest.approx(0.625)
    assert lemma["sd"] == pytest.approx(math.sqrt(((0.75 - 0.625) ** 2 + (0.5 - 0.625) ** 2) / 1))
    assert (lemma["ci_low"], lemma["ci_high"]) == pytest.approx(wilson_interval(5, 8))
    assert agg.row(1, named=True)["sd"] is None, "one seed has no spread"


def test_paired_markdown():
    assert paired_markdown(pl.DataFrame()) == ""
    paired = pl.DataFrame(
        [
            {
                "benchmark": "test",
                "variant": "lemma",
                "baseline": "base",
                "difference": 0.125,
                "ci_low": -0.05,
                "ci_high": 0.3,
                "seeds": 1,
                "items": 40,
                "mcnemar_p": 0.0213,
            },
            {
                "benchmark": "ood",
                "variant": "lemma",
                "baseline": "base",
                "difference": -0.1,
                "ci_low": -0.2,
                "ci_high": 0.0,
                "seeds": 3,
                "items": 20,
                "mcnemar_p": None,
            },
        ]
    )
    lines = paired_markdown(paired).splitlines()
    assert lines[2] == "| test | lemma − base | +12.5 (-5.0 to +30.0) | 1 | 40 | 0.0213 |"
    assert lines[3] == "| ood | lemma − base | -10.0 (-20.0 to +0.0) | 3 | 20 | – |"
