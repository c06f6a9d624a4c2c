"""locate_errors, classify_errors, taxonomy_stats: what errors does this student make?

The two judges are separate jobs on purpose: the first-wrong-step judge does not read the taxonomy,
so editing an error type's definition reruns only the type judge and the stats, never the
truncation of the student's own mistakes that hangs off the step judge.
"""

from __future__ import annotations

import hashlib

import polars as pl

from lemma.pipeline.common import StageStats, problem_views
from lemma.teacher.base import ClassifyRequest, LocateRequest, Teacher, TypeSpec


def _rank(seed: int, *parts) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, (seed, *parts))).encode()).digest()[:8], "big")


def wrong_samples(graded: pl.DataFrame, max_items: int | None, seed: int = 0) -> pl.DataFrame:
    """Distinct wrong student samples, in a stable order, at most `max_items`.

    Under the cap the choice is a seeded draw spread over problems (and so over datasets, in
    proportion to their failed problems): problems in a seeded order take one sample each, then a
    second each, and so on. Taking the first rows by problem id instead would give the whole cap
    to whichever dataset's ids sort first. The draw depends only on the seed and each row's
    identity, never on table order."""
    wrong = (
        graded.filter(~pl.col("correct"))
        .unique(subset=["problem_id", "completion"], keep="first", maintain_order=True)
        .sort(["problem_id", "sample_index"])
    )
    if not max_items or wrong.height <= max_items:
        return wrong
    ids, idx = wrong["problem_id"].to_list(), wrong["sample_index"].to_list()
    turn: dict[int, int] = {}  # row -> how many of its problem's samples come before it
    by_problem: dict[str, list[int]] = {}
    for i, pid in enumerate(ids):
        by_problem.setdefault(pid, []).append(i)
    for pid, rows in by_problem.items():
        for k, i in enumerate(sorted(rows, key=lambda i: _rank(seed, pid, idx[i]))):
            turn[i] = k
    order = sorted(range(len(ids)), key=lambda i: (turn[i], _rank(seed, ids[i]), ids[i], idx[i]))
    chosen = sorted(order[:max_items])
    return wrong.with_row_index("_row").filter(pl.col("_row").is_in(chosen)).drop("_row")


def locate_student_errors(
    problems: pl.DataFrame, graded: pl.DataFrame, teacher: Teacher, max_items: int | None, seed: int = 0
):
    stats = StageStats("locate_errors")
    views = problem_views(problems)
    wrong = wrong_samples(graded, max_items, seed)
    stats.n_in = wrong.height
    rows = wrong.select("problem_id", "sample_index", "completion").to_dicts()
    labels = teacher.locate_errors([LocateRequest(views[r["problem_id"]], r["completion"]) for r in rows])
    for r, lab in zip(rows, labels):
        r.update(first_wrong_step=lab.first_wrong_step, rationale=lab.rationale, dropped=lab.dropped)
        if lab.dropped:
            stats.drop(lab.dropped)
        else:
            stats.n_out += 1
    return rows, stats


def classify_student_errors(problems: pl.DataFrame, steps: pl.DataFrame, teacher: Teacher, taxonomy: list[TypeSpec]):
    stats = StageStats("classify_errors")
    views = problem_views(problems)
    located = steps.filter(pl.col("dropped").is_null())
    stats.n_in = located.height
    rows = located.to_dicts()
    reqs = [ClassifyRequest(views[r["problem_id"]], r["completion"], r["first_wrong_step"]) for r in rows]
    out = []
    for r, lab in zip(rows, teacher.classify_errors(reqs, taxonomy)):
        out.append(
            {
                "problem_id": r["problem_id"],
                "sample_index": r["sample_index"],
                "first_wrong_step": r["first_wrong_step"],
                "error_type": lab.error_type,
                "rationale": lab.rationale,
                "dropped": lab.dropped,
            }
        )
        if lab.dropped:
            stats.drop(lab.dropped)
        else:
            stats.n_out += 1
    return out, stats


def taxonomy_stats(labels: pl.DataFrame, taxonomy: list[TypeSpec]) -> list[dict]:
    counts = dict(labels.filter(pl.col("error_type").is_not_null()).group_by("error_type").len().iter_rows())
    total = sum(counts.values())
    return [
        {"error_type": t.name, "count": counts.get(t.name, 0), "share": counts.get(t.name, 0) / total if total else 0.0}
        for t in taxonomy
    ]


def plot_taxonomy(stats: list[dict], path: str, title: str = "Error types of the student's wrong samples") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(stats, key=lambda r: r["count"], reverse=True)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.barh([r["error_type"] for r in rows][::-1], [100 * r["share"] for r in rows][::-1], color="#4472c4")
    for i, r in enumerate(rows[::-1]):
        ax.text(100 * r["share"] + 0.5, i, str(r["count"]), va="center", fontsize=8)
    ax.set_xlabel("share of classified wrong samples (%)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
