"""`grade` and `grade_many`: extraction, the fast exact path in this process, and the pool for
the rest."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lemma.grading.equivalence import fast_equal
from lemma.grading.extract import extract_answer, reference_answer
from lemma.grading.pool import shared_pool
from lemma.grading.styles import get_style

STATUSES = ("ok", "no_answer", "timeout", "error")

# Size bounds. A completion is a model's whole output (4096 tokens is about 16k characters);
# an answer or a reference answer longer than MAX_ANSWER_CHARS is not an answer.
MAX_COMPLETION_CHARS = 100_000
MAX_GOLD_CHARS = 20_000
MAX_ANSWER_CHARS = 1_000
# Hard time limit of one symbolic comparison, seconds: the paper's 10 s. The workflow passes the
# config's `grading.timeout_s`; this is the default for direct callers.
DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Grade:
    """The verdict on one completion. `correct` is True only when `status` is "ok"; a `timeout`
    or an `error` is never counted as a wrong answer by code that reads `status`."""

    pred_answer: str | None
    correct: bool
    status: str


def _prepare(
    completion, gold, style: str, allow_last_number: bool | None, require_marker: bool
) -> Grade | tuple[str, str]:
    """A final Grade when the bounds or the fast path decide; else (gold_answer, pred_answer)
    for the worker pool."""
    if not isinstance(completion, str) or not isinstance(gold, str):
        return Grade(None, False, "error")
    if len(completion) > MAX_COMPLETION_CHARS or len(gold) > MAX_GOLD_CHARS:
        return Grade(None, False, "error")
    pred = extract_answer(completion, style, allow_last_number, require_marker)
    if pred is None:
        return Grade(None, False, "no_answer")
    gold_answer = reference_answer(gold)
    if not gold_answer or len(pred) > MAX_ANSWER_CHARS or len(gold_answer) > MAX_ANSWER_CHARS:
        return Grade(pred, False, "error")
    verdict = fast_equal(gold_answer, pred)
    if verdict is not None:
        return Grade(pred, verdict, "ok")
    return gold_answer, pred


def grade_many(
    pairs: Iterable[tuple[str, str]],
    style: str = "gsm8k",
    timeout: float = DEFAULT_TIMEOUT_S,
    workers: int | None = None,
    allow_last_number: bool | None = None,
    require_marker: bool = False,
) -> list[Grade]:
    """Grade (completion, gold) pairs, in order. Plain numbers are decided here; the rest go to
    a pool of `workers` processes (default: all cores; never more than the hard items), each item
    under a hard `timeout` in seconds. The pool is kept for the next call in this process. `gold` may be a bare answer or a full reference solution
    (its ``#### X`` / ``\\boxed{X}`` / ``The answer is: X`` is used)."""
    get_style(style)  # unknown styles fail before any work
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    results: list[Grade | None] = []
    hard: list[tuple[int, str]] = []
    jobs: list[tuple[str, str]] = []
    for i, pair in enumerate(pairs):
        try:
            completion, gold = pair
        except (TypeError, ValueError):
            raise ValueError(f"pair {i}: expected (completion, gold), got {type(pair).__name__}") from None
        prepared = _prepare(completion, gold, style, allow_last_number, require_marker)
        if isinstance(prepared, Grade):
            results.append(prepared)
        else:
            results.append(None)
            hard.append((i, prepared[1]))
            jobs.append(prepared)
    if jobs:
        with shared_pool() as pool:
            outcomes = pool.run(jobs, timeout=timeout, workers=workers)
        for (i, pred), outcome in zip(hard, outcomes):
            results[i] = Grade(pred, outcome.correct and outcome.status == "ok", outcome.status)
    return results  # type: ignore[return-value]


def grade(
    completion: str,
    gold: str,
    style: str = "gsm8k",
    timeout: float = DEFAULT_TIMEOUT_S,
    allow_last_number: bool | None = None,
    require_marker: bool = False,
) -> Grade:
    """Grade one completion against its reference (see `grade_many`)."""
    return grade_many(
        [(completion, gold)],
        style=style,
        timeout=timeout,
        allow_last_number=allow_last_number,
        require_marker=require_marker,
    )[0]
