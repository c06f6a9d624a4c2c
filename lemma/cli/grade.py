"""`lemma grade --input pairs.jsonl --output graded.jsonl`: grade a JSONL file of completions.

Each input row needs string fields `completion` and `gold`; every other field passes through.
Each output row adds `pred_answer` (string or null), `correct` (bool) and `status`. This calls
the same `lemma.grading.grade_many` that the workflow's grading, filtering and evaluation rules
use.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from lemma.cli.options import UserError
from lemma.grading import DEFAULT_TIMEOUT_S, STYLES, grade_many
from lemma.tables.jsonl import iter_jsonl


def add_parser(commands) -> None:
    p = commands.add_parser(
        "grade",
        help="grade a JSONL file of completions with the workflow's grader",
        description="Grade completions against reference answers.",
    )
    p.set_defaults(run=run)
    p.add_argument("--input", required=True, type=Path, help="JSONL with `completion` and `gold` per row")
    p.add_argument("--output", required=True, type=Path, help="JSONL to write (input rows plus verdicts)")
    p.add_argument("--style", default="gsm8k", choices=sorted(STYLES), help="answer style of the dataset")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help="hard time limit per item, seconds (default: %(default)s)",
    )
    p.add_argument(
        "--last-number",
        dest="allow_last_number",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="allow/forbid the last-number fallback (default: the style's setting)",
    )
    p.add_argument(
        "--require-marker",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="only a marked statement (\\boxed{}, 'The answer is', 'Answer:', '####') answers; no fallback "
        "to a concluding sentence, the last expression or the last number (default: %(default)s, as "
        "grading.require_marker.evaluation)",
    )


def read_rows(path: Path) -> list[dict]:
    rows = []
    for where, row in iter_jsonl(path):
        for key in ("completion", "gold"):
            if not isinstance(row.get(key), str):
                got = "missing" if key not in row else type(row[key]).__name__
                raise ValueError(f"{where}: field {key!r} must be a string ({got})")
        rows.append(row)
    return rows


def run(args: argparse.Namespace) -> int:
    try:
        rows = read_rows(args.input)
    except (OSError, ValueError) as e:
        raise UserError(str(e)) from None
    grades = grade_many(
        [(r["completion"], r["gold"]) for r in rows],
        style=args.style,
        timeout=args.timeout,
        workers=args.workers,
        allow_last_number=args.allow_last_number,
        require_marker=args.require_marker,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row, g in zip(rows, grades):
            out = {**row, "pred_answer": g.pred_answer, "correct": g.correct, "status": g.status}
            f.write(json.dumps(out, ensure_ascii=False) + "\n")
    tmp.replace(args.output)  # a killed run never leaves a half-written output behind
    statuses = Counter(g.status for g in grades)
    n_correct = sum(g.correct for g in grades)
    print(
        f"lemma grade: {len(grades)} rows, {n_correct} correct; "
        + ", ".join(f"{k}={statuses.get(k, 0)}" for k in ("ok", "no_answer", "timeout", "error")),
        file=sys.stderr,
    )
    return 0
