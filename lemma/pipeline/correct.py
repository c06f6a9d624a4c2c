"""locate_and_truncate, correct, smooth_and_filter: from a wrong solution to a kept trajectory."""

from __future__ import annotations

import polars as pl

from lemma.grading import DEFAULT_TIMEOUT_S
from lemma.pipeline.common import StageStats, problem_views
from lemma.pipeline.grade import grade_texts
from lemma.teacher.base import CorrectRequest, LocateRequest, SmoothRequest, Teacher
from lemma.text.reflection import check_smoothed, join_trajectory, pick_phrase
from lemma.text.steps import truncate_after, whole_attempt
from lemma.text.vocabulary import (
    FINAL_ANSWER_WRONG,
    FIRST_ERROR,
    FIX_CONTINUE,
    FRESH_RESTART,
    JUDGED_CORRECT,
    STUDENT_BUCKET,
    grade_drop,
)

# the step judge's verdict "this solution is correct"
LOCATE_JUDGED_CORRECT = f"locate:{JUDGED_CORRECT}"


def _prefix(solution: str, step: int, cut: str, style: str) -> str:
    """A byte-exact prefix of the solution: cut after the wrong step, or the whole attempt (whose
    steps, re-split, are the ones the judge numbered, so `step` still names the wrong one)."""
    if cut == FIRST_ERROR:
        return truncate_after(solution, step, style)
    truncate_after(solution, step, style)  # the same range check as a cut
    return whole_attempt(solution)


def truncate_student(problems: pl.DataFrame, steps: pl.DataFrame, cut: str):
    """The student's own wrong samples, already located by the step judge."""
    stats = StageStats(f"truncate:student:{cut}")
    views = problem_views(problems)
    rows = []
    for r in steps.iter_rows(named=True):
        stats.n_in += 1
        if r["dropped"] is not None or r["first_wrong_step"] is None:
            stats.drop(r["dropped"] or "no_step")
            continue
        try:
            prefix = _prefix(r["completion"], r["first_wrong_step"], cut, views[r["problem_id"]].style)
        except ValueError:
            stats.drop("step_out_of_range")
            continue
        rows.append(
            {
                "problem_id": r["problem_id"],
                "bucket": STUDENT_BUCKET,
                "sample_index": r["sample_index"],
                "error_type": None,
                "first_wrong_step": r["first_wrong_step"],
                "prefix": prefix,
            }
        )
    stats.n_out = len(rows)
    return rows, stats


def truncate_mistakes(problems: pl.DataFrame, mistakes: pl.DataFrame, teacher: Teacher, cut: str):
    """Injected mistakes: the step judge finds the first wrong step, as for the student's own."""
    stats = StageStats(f"truncate:{cut}")
    views = problem_views(problems)
    rows_in = mistakes.to_dicts()
    stats.n_in = len(rows_in)
    labels = teacher.locate_errors([LocateRequest(views[r["problem_id"]], r["solution"]) for r in rows_in])
    rows = []
    for r, lab in zip(rows_in, labels):
        if lab.dropped or lab.first_wrong_step is None:
            stats.drop(lab.dropped or "no_step")
            continue
        try:
            prefix = _prefix(r["solution"], lab.first_wrong_step, cut, views[r["problem_id"]].style)
        except ValueError:
            stats.drop("step_out_of_range")
            continue
        rows.append(
            {
                "problem_id": r["problem_id"],
                "bucket": r["bucket"],
                "sample_index": r["sample_index"],
                "error_type": r["bucket"],
                "first_wrong_step": lab.first_wrong_step,
                "prefix": prefix,
            }
        )
    stats.n_out = len(rows)
    return rows, stats


def first_correct_samples(graded: pl.DataFrame, steps: pl.DataFrame | None = None) -> dict[str, str]:
    """One correct student solution per problem (lowest sample index), for Fresh & Restart.

    `steps` is the step judge's table: a sample the judge found correct although the grader did
    not joins the pool, after the grader's own correct samples (which are preferred)."""
    ok = graded.filter(pl.col("correct")).sort(["problem_id", "sample_index"]).unique("problem_id", keep="first")
    pool = dict(zip(ok["problem_id"], ok["completion"]))
    if steps is not None and steps.height:
        judged = (
            steps.filter(pl.col("dropped") == LOCATE_JUDGED_CORRECT)
            .sort(["problem_id", "sample_index"])
            .unique("problem_id", keep="first")
        )
        for pid, text in zip(judged["problem_id"], judged["completion"]):
            pool.setdefault(pid, text)
    return pool


def correct(
    problems: pl.DataFrame,
    truncated: pl.DataFrame,
    graded: pl.DataFrame,
    teacher: Teacher,
    strategy: str,
    phrases: list[str],
    steps: pl.DataFrame | None = None,
):
    stats = StageStats(f"correct:{strategy}")
    views = problem_views(problems)
    samples = first_correct_samples(graded, steps) if strategy == FRESH_RESTART else {}
    rows_in = truncated.to_dicts()
    stats.n_in = len(rows_in)
    reqs = [
        CorrectRequest(
            problem=views[r["problem_id"]],
            prefix=r["prefix"],
            wrong_step=r["first_wrong_step"],
            error_type=r["error_type"],
            phrase=pick_phrase(phrases, r["problem_id"], r["bucket"], r["sample_index"], strategy),
            correct_sample=samples.get(r["problem_id"]),
            sample_index=r["sample_index"],
        )
        for r in rows_in
    ]
    method = {FIX_CONTINUE: teacher.fix_continue, FRESH_RESTART: teacher.fresh_restart}[strategy]
    rows = []
    for r, req, out in zip(rows_in, reqs, method(reqs)):
        if out.dropped or not out.text:
            stats.drop(out.dropped or "empty")
            continue
        rows.append(
            {
                **{k: r[k] for k in ("problem_id", "bucket", "sample_index", "error_type", "prefix")},
                "strategy": strategy,
                "phrase": req.phrase,
                "continuation": out.text,
                "trajectory": join_trajectory(r["prefix"], req.phrase, out.text, req.problem.style),
            }
        )
    stats.n_out = len(rows)
    return rows, stats


def smooth_and_filter(
    problems: pl.DataFrame,
    corrections: pl.DataFrame,
    teacher: Teacher,
    grade_timeout: float = DEFAULT_TIMEOUT_S,
    require_marker: bool = False,
):
    """Smooth each trajectory; keep it only if the rewrite still has the wrong prefix, a reflection
    and the correction's reasoning (lemma.text.reflection.check_smoothed: else dropped as
    smooth:prefix_lost / smooth:reflection_lost / smooth:correction_lost), and its final answer
    equals the reference."""
    stats = StageStats("smooth_and_filter")
    views = problem_views(problems)
    rows_in = corrections.to_dicts()
    stats.n_in = len(rows_in)
    smoothed = teacher.smooth(
        [SmoothRequest(views[r["problem_id"]], r["trajectory"], r["sample_index"]) for r in rows_in]
    )
    pending = []
    for r, s in zip(rows_in, smoothed):
        if s.dropped or not s.text:
            stats.drop(s.dropped or "empty")
        elif (lost := check_smoothed(s.text, r["prefix"], r["phrase"], r["continuation"])) is not None:
            stats.drop(f"smooth:{lost}")
        else:
            pending.append({**r, "smoothed": s.text})
    grades = grade_texts(
        [r["smoothed"] for r in pending],
        [views[r["problem_id"]].answer for r in pending],
        [views[r["problem_id"]].style for r in pending],
        timeout=grade_timeout,
        require_marker=require_marker,
    )
    rows = []
    for r, g in zip(pending, grades):
        r.update(pred_answer=g.pred_answer, correct=g.correct)
        if g.correct:
            rows.append(r)
        else:
            stats.drop(FINAL_ANSWER_WRONG if g.status == "ok" else grade_drop(g.status))
    stats.n_out = len(rows)
    return rows, stats
