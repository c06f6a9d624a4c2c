"""Pieces every stage shares: problem lookup, drop accounting, logging set-up."""

from __future__ import annotations

import logging
import re
import sys
from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from lemma.teacher.base import ProblemView


@dataclass
class StageStats:
    stage: str
    n_in: int = 0
    n_out: int = 0
    dropped: Counter = field(default_factory=Counter)

    def drop(self, reason: str, n: int = 1) -> None:
        self.dropped[reason] += n

    def as_dict(self) -> dict:
        return {"stage": self.stage, "in": self.n_in, "out": self.n_out, "dropped": dict(sorted(self.dropped.items()))}


# Why a teacher request got no answer, as the engines name it (`<stage>:request_failed:<code>`).
# These say nothing about the request itself: the server was down, too slow, overloaded (429, 5xx
# after the engine's retries) or answered something that is not an answer. Asking again later can
# cure them. A 400 ("this prompt is too long") is about the request and would fail again: not one.
_FAILED = re.compile(r"^(?P<stage>[^:]+):request_failed:(?P<code>.+)$")


def is_transport_failure(code: str) -> bool:
    return code in ("connection", "timeout", "http_429", "malformed_response", "no_text") or bool(
        re.fullmatch(r"http_5\d\d", code)
    )


class TeacherUnreachable(RuntimeError):
    """Too many of a stage's teacher requests got no answer for reasons a later run can cure."""


def check_teacher_failures(stats: StageStats, max_fraction: float) -> None:
    """Raise TeacherUnreachable when more than `max_fraction` of a stage's items were dropped for
    transport reasons, so the job fails before it writes its output (a rerun asks again, and the
    answers received so far stay in the request cache). Below the threshold they stay drops."""
    failed: Counter = Counter()
    for reason, n in stats.dropped.items():
        m = _FAILED.match(reason)
        if m and is_transport_failure(m.group("code")):
            failed[m.group("code")] += n
    asked = max(stats.n_in, stats.n_out + sum(stats.dropped.values()))
    total = sum(failed.values())
    if not total or total <= max_fraction * asked:
        return
    causes = ", ".join(f"{code}: {n}" for code, n in failed.most_common())
    raise TeacherUnreachable(
        f"{stats.stage}: {total} of {asked} teacher requests got no answer ({causes}), more than "
        f"teacher.max_failed_fraction={max_fraction:g} of them; is the teacher's server up and reachable? "
        "Nothing was written, so rerunning asks those requests again; the answers already received are "
        "kept in the request cache and are not paid for twice."
    )


def problem_views(problems: pl.DataFrame) -> dict[str, ProblemView]:
    return {
        r["id"]: ProblemView(
            id=r["id"],
            question=r["question"],
            solution=r["solution"],
            answer=r["answer"],
            structure=r["structure"],
            style=r["style"],
        )
        for r in problems.iter_rows(named=True)
    }


def setup_logging(level: int = logging.INFO) -> logging.Logger:
    """Log lines to stderr, which a rule's script points at its log file (runner.start)."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.StreamHandler(sys.stderr)],
        force=True,
    )
    return logging.getLogger("lemma")
