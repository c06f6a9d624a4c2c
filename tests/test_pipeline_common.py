"""lemma.pipeline.common: drop accounting, which failures count as "teacher unreachable", problem
views, logging set-up."""

from __future__ import annotations

import logging

import polars as pl
import pytest

from lemma.pipeline.common import (
    StageStats,
    TeacherUnreachable,
    check_teacher_failures,
    is_transport_failure,
    problem_views,
    setup_logging,
)
from lemma.tables.records import PROBLEMS
from lemma.teacher.base import ProblemView


def test_stage_stats_counts_drops_and_sorts_reasons():
    s = StageStats("inject_errors:calculation_error", n_in=5)
    s.drop("no_site:calculation_error")
    s.drop("answer_still_right", 2)
    s.drop("no_site:calculation_error")
    s.n_out = 1
    assert s.as_dict() == {
        "stage": "inject_errors:calculation_error",
        "in": 5,
        "out": 1,
        "dropped": {"answer_still_right": 2, "no_site:calculation_error": 2},
    }
    assert list(s.as_dict()["dropped"]) == ["answer_still_right", "no_site:calculation_error"]
    assert StageStats("x").as_dict() == {"stage": "x", "in": 0, "out": 0, "dropped": {}}


@pytest.mark.parametrize(
    "code, transport",
    [
        ("connection", True),
        ("timeout", True),
        ("http_429", True),
        ("malformed_response", True),
        ("no_text", True),
        ("http_500", True),
        ("http_503", True),
        ("http_400", False),
        ("http_404", False),
        ("http_5000", False),
        ("budget", False),
        ("", False),
    ],
)
def test_is_transport_failure(code, transport):
    assert is_transport_failure(code) is transport


def stats(n_in: int, n_out: int, **dropped: int) -> StageStats:
    s = StageStats("locate_errors", n_in=n_in, n_out=n_out)
    for reason, n in dropped.items():
        s.drop(reason.replace("__", ":"), n)
    return s


def test_check_teacher_failures_threshold_is_strictly_above_the_fraction():
    # 1 of 20 = 5 %: at the threshold, kept as a drop
    check_teacher_failures(stats(20, 19, locate__request_failed__timeout=1), 0.05)
    # 2 of 20 = 10 %: over it
    with pytest.raises(TeacherUnreachable) as e:
        check_teacher_failures(
            stats(20, 17, locate__request_failed__timeout=1, locate__request_failed__http_503=1, not_wrong=1), 0.05
        )
    msg = str(e.value)
    assert msg.startswith("locate_errors: 2 of 20 teacher requests got no answer (")
    assert "timeout: 1" in msg and "http_503: 1" in msg and "max_failed_fraction=0.05" in msg


def test_check_teacher_failures_ignores_request_errors_and_other_drops():
    # a 400 (prompt too long) fails again on a rerun; parse failures are the answer's fault
    check_teacher_failures(stats(10, 0, locate__request_failed__http_400=5, unparseable_step=5), 0.05)
    # a reason that merely mentions a code is not a transport failure
    check_teacher_failures(stats(4, 0, timeout=4), 0.0)


def test_check_teacher_failures_counts_asked_from_the_drops_when_n_in_is_unset():
    # n_in 0: asked = out + drops = 4; 3 of 4 failed
    with pytest.raises(TeacherUnreachable, match="3 of 4"):
        check_teacher_failures(stats(0, 1, smooth__request_failed__connection=3), 0.5)


def test_problem_views_keys_by_id_with_every_field_a_teacher_may_read():
    df = pl.DataFrame(
        [
            {
                "id": "a",
                "dataset": "d",
                "question": "q1",
                "solution": "s1",
                "answer": "1",
                "style": "world",
                "family": "f",
                "n_steps": 1,
                "structure": "{}",
            },
            {
                "id": "b",
                "dataset": "d",
                "question": "q2",
                "solution": "s2",
                "answer": "2",
                "style": "gsm8k",
                "family": "f",
                "n_steps": None,
                "structure": None,
            },
        ],
        schema=PROBLEMS,
    )
    views = problem_views(df)
    assert list(views) == ["a", "b"]
    assert views["a"] == ProblemView("a", "q1", "s1", "1", "{}", "world")
    assert views["b"] == ProblemView("b", "q2", "s2", "2", None, "gsm8k")


def test_setup_logging_writes_to_stderr(capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        log = setup_logging(logging.DEBUG)
        assert log.name == "lemma"
        log.debug("a line for the rule log")
        err = capsys.readouterr().err
        assert "DEBUG lemma: a line for the rule log" in err
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
