"""inject_errors: the teacher writes new wrong solutions carrying one error type.

As in the paper's released code, every chosen type gets `per_problem` injections for each problem
the student got wrong at least once; a mistake is kept only if the grader says its final answer
really differs from the reference (an "error" that lands on the right answer teaches nothing).
"""

from __future__ import annotations

import polars as pl

from lemma.pipeline.common import StageStats, problem_views
from lemma.pipeline.grade import grade_texts
from lemma.teacher.base import InjectRequest, Teacher, TypeSpec
from lemma.text.vocabulary import grade_drop


def failed_problem_ids(graded: pl.DataFrame, max_problems: int | None) -> list[str]:
    ids = graded.filter(~pl.col("correct")).select("problem_id").unique().sort("problem_id")["problem_id"].to_list()
    return ids[:max_problems] if max_problems else ids


def injections_for_type(
    per_problem: int, weighting: str, error_type: str, stats: pl.DataFrame | None, types: list[str]
) -> int:
    """How many injections per failed problem this type gets.

    uniform: `per_problem` for every type (the paper's released code).
    stats: the same total budget split by the measured shares of the chosen types, at least 1 for
    a type that was observed, 0 for one never observed."""
    if weighting == "uniform" or stats is None:
        return per_problem
    shares = {r["error_type"]: r["share"] for r in stats.iter_rows(named=True) if r["error_type"] in types}
    total = sum(shares.values())
    if total == 0 or shares.get(error_type, 0) == 0:
        return 0
    return max(1, round(per_problem * len(types) * shares[error_type] / total))


def inject_errors(
    problems: pl.DataFrame,
    graded: pl.DataFrame,
    teacher: Teacher,
    spec: TypeSpec,
    n_per_problem: int,
    max_problems: int | None,
):
    stats = StageStats(f"inject_errors:{spec.name}")
    views = problem_views(problems)
    ids = failed_problem_ids(graded, max_problems)
    reqs = [InjectRequest(views[pid], spec, k) for pid in ids for k in range(n_per_problem)]
    stats.n_in = len(reqs)
    mistakes = teacher.inject_errors(reqs)
    kept = []
    for r, m in zip(reqs, mistakes):
        if m.dropped or not m.solution:
            stats.drop(m.dropped or "empty")
        else:
            kept.append((r, m))
    grades = grade_texts(
        [m.solution for _, m in kept], [r.problem.answer for r, _ in kept], [r.problem.style for r, _ in kept]
    )
    rows, seen = [], set()
    for (r, m), g in zip(kept, grades):
        if g.status != "ok":
            stats.drop(grade_drop(g.status))
        elif g.correct:
            stats.drop("answer_still_right")
        elif (r.problem.id, m.solution) in seen:
            stats.drop("duplicate")
        else:
            seen.add((r.problem.id, m.solution))
            rows.append(
                {
                    "problem_id": r.problem.id,
                    "bucket": spec.name,
                    "sample_index": r.sample_index,
                    "solution": m.solution,
                    "pred_answer": g.pred_answer,
                    "wrong_step": m.wrong_step,
                    "explanation": m.explanation,
                }
            )
    stats.n_out = len(rows)
    return rows, stats
