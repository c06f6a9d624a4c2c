"""locate_and_truncate, correct, smooth_and_filter: from a wrong solution to a kept trajectory."""

from __future__ import annotations

import polars as pl

from lemma.pipeline.common import StageStats, problem_views
from lemma.grading import DEFAULT_TIMEOUT_S
from lemma.pipeline.grade import grade_texts
from lemma.reflection import join_trajectory, pick_phrase
from lemma.steps import split_steps, truncate_after
from lemma.teacher.base import CorrectRequest, LocateRequest, SmoothRequest, Teacher

CUTS = ("first_error", "whole")


def _prefix(solution: str, step: int, cut: str, style: str) -> str:
    return truncate_after(solution, step, style) if cut == "first_error" else "\n".join(split_steps(solution, style))


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
        rows.append({"problem_id": r["problem_id"], "bucket": "student", "sample_index": r["sample_index"],
                     "error_type": None, "first_wrong_step": r["first_wrong_step"], "prefix": prefix})
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
        rows.append({"problem_id": r["problem_id"], "bucket": r["bucket"], "sample_index": r["sample_index"],
                     "error_type": r["bucket"], "first_wrong_step": lab.first_wrong_step, "prefix": prefix})
    stats.n_out = len(rows)
    return rows, stats


def first_correct_samples(graded: pl.DataFrame) -> dict[str, str]:
    """One correct student solution per problem (lowest sample index), for Fresh & Restart."""
    ok = graded.filter(pl.col("correct")).sort(["problem_id", "sample_index"]).unique("problem_id", keep="first")
    return dict(zip(ok["problem_id"], ok["completion"]))


def correct(problems: pl.DataFrame, truncated: pl.DataFrame, graded: pl.DataFrame, teacher: Teacher,
            strategy: str, phrases: list[str]):
    stats = StageStats(f"correct:{strategy}")
    views = problem_views(problems)
    samples = first_correct_samples(graded) if strategy == "fresh_restart" else {}
    rows_in = truncated.to_dicts()
    stats.n_in = len(rows_in)
    reqs = [CorrectRequest(problem=views[r["problem_id"]], prefix=r["prefix"], wrong_step=r["first_wrong_step"],
                           error_type=r["error_type"],
                           phrase=pick_phrase(phrases, r["problem_id"], r["bucket"], r["sample_index"], strategy),
                           correct_sample=samples.get(r["problem_id"]), sample_index=r["sample_index"])
            for r in rows_in]
    method = {"fix_continue": teacher.fix_continue, "fresh_restart": teacher.fresh_restart}[strategy]
    rows = []
    for r, req, out in zip(rows_in, reqs, method(reqs)):
        if out.dropped or not out.text:
            stats.drop(out.dropped or "empty")
            continue
        rows.append({**{k: r[k] for k in ("problem_id", "bucket", "sample_index", "error_type", "prefix")},
                     "strategy": strategy, "phrase": req.phrase, "continuation": out.text,
                     "trajectory": join_trajectory(r["prefix"], req.phrase, out.text)})
    stats.n_out = len(rows)
    return rows, stats


def smooth_and_filter(problems: pl.DataFrame, corrections: pl.DataFrame, teacher: Teacher,
                      grade_timeout: float = DEFAULT_TIMEOUT_S):
    """Smooth each trajectory, then keep it only if its final answer equals the reference."""
    stats = StageStats("smooth_and_filter")
    views = problem_views(problems)
    rows_in = corrections.to_dicts()
    stats.n_in = len(rows_in)
    smoothed = teacher.smooth([SmoothRequest(views[r["problem_id"]], r["trajectory"], r["sample_index"]) for r in rows_in])
    pending = []
    for r, s in zip(rows_in, smoothed):
        if s.dropped or not s.text:
            stats.drop(s.dropped or "empty")
        else:
            pending.append({**r, "smoothed": s.text})
    grades = grade_texts([r["smoothed"] for r in pending], [views[r["problem_id"]].answer for r in pending],
                         [views[r["problem_id"]].style for r in pending], timeout=grade_timeout)
    rows = []
    for r, g in zip(pending, grades):
        r.update(pred_answer=g.pred_answer, correct=g.correct)
        if g.correct:
            rows.append(r)
        else:
            stats.drop("final_answer_wrong" if g.status == "ok" else f"grade_{g.status}")
    stats.n_out = len(rows)
    return rows, stats
