"""grade_samples and every other "is this answer right?" in the workflow: one call into lemma.grading."""

from __future__ import annotations

from collections import defaultdict

from lemma.grading import DEFAULT_TIMEOUT_S, Grade, grade_many


def grade_texts(
    texts: list[str],
    golds: list[str],
    styles: list[str],
    workers: int | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    require_marker: bool = False,
) -> list[Grade]:
    """Grade pairs whose styles may differ, batching each style through the grader's pool.
    `require_marker`: only a marked statement answers (config `grading.require_marker`)."""
    by_style: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(styles):
        by_style[s].append(i)
    out: list[Grade | None] = [None] * len(texts)
    for style, idx in by_style.items():
        grades = grade_many(
            [(texts[i], golds[i]) for i in idx],
            style=style,
            workers=workers,
            timeout=timeout,
            require_marker=require_marker,
        )
        for i, g in zip(idx, grades):
            out[i] = g
    return out  # type: ignore[return-value]


def grade_samples(
    problems, samples, workers: int | None = None, timeout: float = DEFAULT_TIMEOUT_S, require_marker: bool = False
) -> list[dict]:
    gold = dict(zip(problems["id"], problems["answer"]))
    style = dict(zip(problems["id"], problems["style"]))
    rows = samples.to_dicts()
    grades = grade_texts(
        [r["completion"] for r in rows],
        [gold[r["problem_id"]] for r in rows],
        [style[r["problem_id"]] for r in rows],
        workers,
        timeout,
        require_marker,
    )
    for r, g in zip(rows, grades):
        r.update(pred_answer=g.pred_answer, correct=g.correct, status=g.status)
    return rows
