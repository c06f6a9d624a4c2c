"""The text stages around the teacher (issue 11, items 5-8): judged-correct samples, the judged-sample
cap, cut=whole on MATH, and the smoothing check, run through the real stage functions and the LLM
teacher behind the openai engine and an HTTP server on loopback."""

from __future__ import annotations

import polars as pl
import pytest

from lemma.pipeline.correct import correct, first_correct_samples, smooth_and_filter, truncate_student
from lemma.pipeline.judges import locate_student_errors, wrong_samples
from lemma.tables.records import GRADED, PROBLEMS, STEP_LABELS
from lemma.teacher.factory import build_teacher
from lemma.teacher.prompts import PROMPTS, PromptError, PromptSet, parse_prompt_file
from lemma.text.reflection import check_smoothed
from lemma.text.steps import split_steps
from tests.fake_openai_server import FakeOpenAIServer, teacher_config

PROMPT_SET = PromptSet.load()
KEY_ENV = "LEMMA_TEST_TEACHER_KEY"
PHRASES = ["Wait, I think I made a mistake."]

QUESTION = "Mia bakes 4 trays of 12 cookies and gives away 15. How many cookies does she keep?"
REFERENCE = "Mia bakes 4 * 12 = <<4*12=48>>48 cookies.\nShe keeps 48 - 15 = <<48-15=33>>33 cookies.\n#### 33"
WRONG = "Mia bakes 4 * 12 = 48 cookies. She keeps 48 - 51 = -3 cookies.\nThe answer is: -3"
RIGHT_BUT_MISGRADED = "Mia bakes 48 cookies and keeps 48 - 15 = 33 of them.\nSo she has thirty-three."


def problems_frame(rows: list[dict]) -> pl.DataFrame:
    full = [{"dataset": r["id"].split("-")[0], "family": "", "n_steps": None, "structure": None, **r} for r in rows]
    return pl.DataFrame(full, schema=PROBLEMS)


PROBLEMS_DF = problems_frame(
    [
        {"id": "gsm8k-1", "question": QUESTION, "solution": REFERENCE, "answer": "33", "style": "gsm8k"},
        {"id": "gsm8k-2", "question": "[correct] " + QUESTION, "solution": REFERENCE, "answer": "33", "style": "gsm8k"},
    ]
)


def stage_of(body: dict) -> str:
    system = next(m["content"] for m in body["messages"] if m["role"] == "system")
    return next(name for name, t in PROMPT_SET.templates.items() if t.system.strip() == system)


def responder(body: dict) -> str:
    stage, user = stage_of(body), body["messages"][-1]["content"]
    if stage == "judge_step":
        if "[correct]" in user:
            return "Every step checks out and 33 is right.\nthe solution is correct"
        return "Step 8 of nothing.\nStep 2: She keeps 48 - 51 = -3 cookies.\nthe first wrong step is step 2"
    if stage == "fix_continue":
        return "She gave away 15, not 51, so she keeps 48 - 15 = 33 cookies.\nThe answer is: 33"
    if stage == "smooth":
        if "erase" in user:
            return "The answer is: 33"  # what 18 of 19 "smoothed" trajectories were
        return (
            "Mia bakes 4 * 12 = 48 cookies. She keeps 48 - 51 = -3 cookies. Hmm, I made a mistake: she gave "
            "away 15, not 51, so she keeps 48 - 15 = 33 cookies.\nThe answer is: 33"
        )
    raise AssertionError(f"unexpected prompt {stage}")


@pytest.fixture
def teacher(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "dummy")
    with FakeOpenAIServer(responder=responder) as server:
        params = {"temperature": 0.7, "top_p": 1.0, "max_new_tokens": 256}
        cfg = teacher_config(server.base_url, KEY_ENV, "m", params=params)
        t = build_teacher(cfg, cache_path=str(tmp_path / "cache.sqlite"), rule="test")
        t.server = server
        yield t
        t.close()


def graded(rows) -> pl.DataFrame:
    return pl.DataFrame(
        [{"finish_reason": "stop", "pred_answer": None, "status": "ok", **r} for r in rows], schema=GRADED
    )


def test_judged_correct_is_its_own_reason_and_joins_the_correct_pool(teacher):
    g = graded(
        [
            {"problem_id": "gsm8k-1", "sample_index": 0, "completion": WRONG, "correct": False},
            {"problem_id": "gsm8k-2", "sample_index": 1, "completion": RIGHT_BUT_MISGRADED, "correct": False},
        ]
    )
    rows, stats = locate_student_errors(PROBLEMS_DF, g, teacher, None)
    by_id = {r["problem_id"]: r for r in rows}
    # the echoed student line "Step 2: ..." is ignored; the judge's own statement is read
    assert by_id["gsm8k-1"]["first_wrong_step"] == 2 and by_id["gsm8k-1"]["dropped"] is None
    assert by_id["gsm8k-2"]["first_wrong_step"] is None and by_id["gsm8k-2"]["dropped"] == "locate:judged_correct"
    assert stats.as_dict()["dropped"] == {"locate:judged_correct": 1} and stats.n_out == 1
    steps = pl.DataFrame(rows, schema=STEP_LABELS)
    truncated, tstats = truncate_student(PROBLEMS_DF, steps, "first_error")
    assert [r["problem_id"] for r in truncated] == ["gsm8k-1"]
    assert tstats.as_dict()["dropped"] == {"locate:judged_correct": 1}, "never forced into a wrong step"
    # the judged-correct sample is a guide for Fresh & Restart, after the grader's own correct ones
    assert first_correct_samples(g, steps) == {"gsm8k-2": RIGHT_BUT_MISGRADED}
    g2 = pl.concat([g, graded([{"problem_id": "gsm8k-2", "sample_index": 3, "completion": "x", "correct": True}])])
    assert first_correct_samples(g2, steps) == {"gsm8k-2": "x"}


def test_cut_whole_on_math_keeps_the_sample_and_the_judged_step():
    text = (
        "Let the roots be $r$ and $s$.\nThen\n\\[\n(r+s)^2 = 25.\n\\]\nSo $r + s = 6$.\n\n"
        "The final answer is $\\boxed{6}$."
    )
    probs = problems_frame([{"id": "math-1", "question": "q", "solution": "s", "answer": "5", "style": "math"}])
    steps = pl.DataFrame(
        [
            {
                "problem_id": "math-1",
                "sample_index": 0,
                "completion": text,
                "first_wrong_step": 2,
                "rationale": "",
                "dropped": None,
            }
        ],
        schema=STEP_LABELS,
    )
    whole, _ = truncate_student(probs, steps, "whole")
    cut, _ = truncate_student(probs, steps, "first_error")
    assert whole[0]["prefix"] == text, "the whole attempt, byte for byte"
    assert split_steps(whole[0]["prefix"], "math")[1] == split_steps(text, "math")[1]
    assert cut[0]["prefix"] == text[: text.index("\n\nThe final")]


def test_judged_sample_cap_draws_across_datasets_with_the_seed():
    rows = [
        {"problem_id": f"combinatorics/{i:03d}", "sample_index": k, "completion": f"c{i}-{k}", "correct": False}
        for i in range(40)
        for k in range(3)
    ] + [
        {"problem_id": f"gsm8k_train-{i:05d}", "sample_index": k, "completion": f"g{i}-{k}", "correct": False}
        for i in range(40)
        for k in range(3)
    ]
    g = graded(rows)
    picked = wrong_samples(g, 20, seed=1234)
    ids = picked["problem_id"].to_list()
    assert picked.height == 20
    assert 5 <= sum(i.startswith("gsm8k") for i in ids) <= 15, "both datasets are sampled"
    assert len(set(ids)) == 20, "spread over problems before a second sample of any"
    assert picked.equals(wrong_samples(g.reverse(), 20, seed=1234)), "deterministic, whatever the row order"
    assert not picked.equals(wrong_samples(g, 20, seed=1)), "the seed decides the draw"
    assert wrong_samples(g, None).height == 240 and wrong_samples(g, 1000).height == 240


def test_smoothing_that_erases_the_method_is_dropped(teacher):
    prefix = "Mia bakes 4 * 12 = 48 cookies. She keeps 48 - 51 = -3 cookies."
    truncated = pl.DataFrame(
        [
            {
                "problem_id": "gsm8k-1",
                "bucket": b,
                "sample_index": 0,
                "error_type": None,
                "first_wrong_step": 2,
                "prefix": prefix,
            }
            for b in ("student", "erase")
        ]
    )
    rows, stats = correct(PROBLEMS_DF, truncated, graded([]), teacher, "fix_continue", PHRASES)
    assert stats.n_out == 2
    rows[1]["trajectory"] += "\n(erase)"  # the marker that makes the scripted teacher erase everything
    corrections = pl.DataFrame(rows)
    kept, sstats = smooth_and_filter(PROBLEMS_DF, corrections, teacher)
    assert [r["bucket"] for r in kept] == ["student"]
    assert sstats.as_dict()["dropped"] == {"smooth:prefix_lost": 1}
    # the smoothing teacher never saw the reference answer; the correction prompt did not dictate it
    smooth_prompts = [h.text for h in teacher.server.hits() if "reads as one continuous piece" in h.text]
    assert smooth_prompts and all("#### 33" not in p and "<<48-15=33>>" not in p for p in smooth_prompts)
    fix_prompts = [h.text for h in teacher.server.hits() if "Right after your last step" in h.text]
    assert fix_prompts and all("The answer is: 33" not in p for p in fix_prompts)


def test_smoothing_prompt_may_not_use_the_reference_answer():
    assert "reference_answer" not in PROMPTS["smooth"][0]
    with pytest.raises(PromptError, match="unknown placeholder.*reference_answer"):
        parse_prompt_file("smooth", "## user\n{{trajectory}} ends with {{reference_answer}}", "x/smooth.md")
    for name in ("fix_continue", "fresh_restart", "smooth"):
        user = PROMPT_SET[name].user
        assert "The answer is: {{reference_answer}}" not in user and "{{reference_answer}}" not in user


@pytest.mark.parametrize(
    "smoothed,reason",
    [
        ("The answer is: 33", "prefix_lost"),
        (
            "Mia bakes 4 * 12 = 48 cookies. She keeps 48 - 51 = -3 cookies.\nSo she keeps 33.\nThe answer is: 33",
            "reflection_lost",
        ),
        (
            "Mia bakes 4 * 12 = 48 cookies. She keeps 48 - 51 = -3 cookies. Wait, that is wrong.\nThe answer is: 33",
            "correction_lost",
        ),
        (
            "Mia bakes 4 * 12 = 48 cookies. She keeps 48 - 51 = -3 cookies. Wait, that is wrong, let me redo the "
            "whole thing more carefully now.\nThe answer is: 33",
            "correction_lost",
        ),
        (
            "Mia bakes 4 times 12 = 48 cookies, and she keeps 48 - 51 = -3 cookies. Hmm, she gave away 15, not 51, "
            "so she keeps 48 - 15 = 33 cookies.\nThe answer is: 33",
            None,
        ),
    ],
)
def test_check_smoothed(smoothed, reason):
    prefix = "Mia bakes 4 * 12 = 48 cookies. She keeps 48 - 51 = -3 cookies."
    continuation = "She gave away 15, not 51, so she keeps 48 - 15 = 33 cookies.\nThe answer is: 33"
    assert check_smoothed(smoothed, prefix, "Wait, I think I made a mistake.", continuation) == reason
