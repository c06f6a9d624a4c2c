"""Competition-style answers: our grader against plain math-verify, kind by kind, in one run.

    python bench/grading_competition.py             # updates the "## Grading competition-style answers" section
    python bench/grading_competition.py --no-write  # print only
    python bench/grading_competition.py --external DIR   # math-verify's suite from an unpacked sdist
                                                         # (default: its sdist fetched with pip)

Sets (tests/grading_sets.py): the competition-style rows written in public layouts
(tests/data/grading_make_competition.py; one row per kind issue 24 names: several answers, MATH's
number forms, radicals, relations and intervals, whole MATH-style references, no marker) and real
solutions of GPT-3.5 / GPT-4 / GPT-4 Turbo / PaLM 2 to CHAMP's problems (read from the installed
package, hand-labelled; most state their answer without a marker). Our grader runs in the `math`
style twice: with `require_marker` (only a marked statement answers) and with the fallback to the
last expression (the evaluation default). Plain math-verify as `lemma.grading.baseline` calls it.
Each row also counts false "correct": rows labelled wrong that a grader calls right.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grading import agreement, math_verify_verdicts, ours_verdicts  # noqa: E402  (bench/grading.py)

from lemma.grading import grade_many  # noqa: E402
from lemma.grading.baseline import math_verify_correct  # noqa: E402
from tests.grading_sets import (  # noqa: E402
    CHAMP_LABELS_2,
    COMPETITION_KINDS,
    champ_rows,
    competition_rows,
    smollm2_rows,
)

SECTION = "## Grading competition-style answers"


def cell(rows: list[dict], verdicts: list[bool]) -> str:
    right = agreement(rows, verdicts)
    false_right = sum(v and not r["expected"] for v, r in zip(verdicts, rows))
    return f"{right / len(rows):.0%} ({right}; {false_right} false right)"


def sets() -> list[tuple[str, list[dict], str]]:
    rows = competition_rows()
    out = [(f"{kind} (written here)", [r for r in rows if r["kind"] == kind], "math") for kind in COMPETITION_KINDS]
    champ = champ_rows()
    out.append(("CHAMP: real GPT/PaLM solutions, hand-labelled", champ, "math"))
    champ2 = champ_rows(CHAMP_LABELS_2)
    out.append(("CHAMP batch 2: labelled after the changes, held out", champ2, "math"))
    smol = smollm2_rows()
    out.append(("SmolLM2-135M completions (issue 11's set), `math` style", smol, "math"))
    out.append(("SmolLM2-135M completions (issue 11's set), `gsm8k` style", smol, "gsm8k"))
    return out


def external_section(suite: Path | None) -> list[str]:
    """The external suite's lines, from `suite` or from math-verify's sdist fetched with pip."""
    if suite is not None:
        return external_lines(suite)
    from grading_external import fetch_suite

    with tempfile.TemporaryDirectory() as tmp:
        return external_lines(fetch_suite(Path(tmp)))


def external_lines(suite: Path) -> list[str]:
    """The external suite's table (bench/grading_external.py) and its history."""
    from grading_external import marker_subsets, measure, suite_cases

    tests = suite / "tests" if (suite / "tests").is_dir() else suite
    rows = suite_cases(tests)
    lines = [
        f"External check: math-verify's own test suite ({len(rows)} cases read from its sdist by",
        "`bench/grading_external.py`; its labels follow math-verify's conventions, some of which we",
        "do not share: a decimal comma (`1,22` is 1.22), rounding (`0.0833333333333333` is",
        "`\\frac{1}{12}`, `(0.6, 2.6667]` is `(\\frac35, \\frac83]`)).",
        "",
        "| completions | rows | ours, marker required | ours, fallback | plain math-verify |",
        "|---|---|---|---|---|",
    ]
    for name, subset in marker_subsets(rows).items():
        cells = [f"{right / len(subset):.0%} ({right})" for right, _ in measure(subset).values()]
        lines.append(f"| {name} | {len(subset)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "History on that suite: before issue 24 (commit dfa0f03) ours read 72% / 74% with a marker",
        "(required / fallback) and 19% / 21% without; the first measurement after the changes of",
        "commit 5984460, before its misses were looked at, 86% / 93% and 19% / 71% (the held-out",
        "figure). Its misses were then looked at and the general ones fixed (a completion that is",
        "only a value, `\\!` followed by a space, a tuple's `(12,102)` read as a thousands group,",
        "`(y)` dropped as a unit word, an equation as the last math span): the figures above are",
        "no longer held out. The remaining misses are the conventions above and a few odd rows.",
        "The held-out figure since then is CHAMP batch 2: labelled after those first changes, first",
        "measured at commit 0a12e5d (72% / 92%, math-verify 90%), its misses not looked at.",
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    ap.add_argument("--misses", action="store_true", help="print every row a grader of ours gets wrong")
    ap.add_argument(
        "--external",
        type=Path,
        metavar="DIR",
        help="math-verify's own test suite, an unpacked sdist (default: fetched with pip; see bench/grading_external.py)",
    )
    ap.add_argument(
        "--no-external", action="store_true", help="leave the external suite out (offline; the section loses its table)"
    )
    args = ap.parse_args(argv)
    grade_many([("$\\boxed{\\sqrt{8}}$", "2\\sqrt{2}")], style="math")  # start the workers
    math_verify_correct("$\\boxed{1}$", "1")  # math-verify's imports
    table = [
        "| set | rows | ours, marker required | ours, fallback | plain math-verify | pairs/s: ours (fallback) / math-verify |",
        "|---|---|---|---|---|---|",
    ]
    for name, rows, style in sets():
        strict, _ = ours_verdicts(rows, style=style, require_marker=True)
        loose, rate = ours_verdicts(rows, style=style)
        mv, mv_rate = math_verify_verdicts(rows)
        line = (
            f"| {name} | {len(rows)} | {cell(rows, strict)} | {cell(rows, loose)} | {cell(rows, mv)} "
            f"| {rate:,.0f} / {mv_rate:,.0f} |"
        )
        table.append(line)
        print(line, flush=True)
        if args.misses:
            for r, s, lo, m in zip(rows, strict, loose, mv):
                if lo != r["expected"] or s != r["expected"]:
                    print(
                        f"   MISS {r['id']} strict={s} fallback={lo} mv={m} expected={r['expected']} gold={r['gold']!r}"
                    )
    external = [] if args.no_external else external_section(args.external)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    text = "\n".join(
        [
            SECTION,
            "",
            "Issue 24: answers as competitions state them, kind by kind. `python bench/grading_competition.py`.",
            "A cell is agreement with the hand label, the count of rows right, and how many rows labelled",
            "wrong the grader calls right (false right: what a grader adds to the SFT set or to a score",
            "that it should not). Ours is graded in the `math` style unless the row says otherwise;",
            "`fallback` reads a completion without a marker as the style does (a concluding sentence, a",
            "completion that is only a value, the last math expression; evaluation's default), `marker",
            "required` is `grading.require_marker: true`.",
            "",
            "Which figure is evidence of what. The six written kinds and the CHAMP labels were made",
            "before the grader changed (commit dfa0f03) and then used to change it: they show the kinds",
            "are handled, not accuracy on text nobody tuned for. The SmolLM2 rows are issue 11's set (its",
            "dev half was tuned on then). CHAMP batch 2 is held out: labelled after the first changes,",
            "measured after them, its misses never looked at. The external check below was held out",
            "until its first measurement after the changes (see its history).",
            "",
            *table,
            "",
            "Before issue 24 (commit dfa0f03), same rows, marker required / fallback: several 52% / 52%,",
            "number forms 69% / 69%, radicals 83% / 83%, relations 85% / 85%, whole reference 62% / 62%,",
            "no marker 39% / 44%, CHAMP 73% / 91% (0 false right), SmolLM2 `math` 99% / 100%, `gsm8k`",
            "99% / 99%.",
            "",
            *external,
            f"Machine: {cores} usable cores (shared), Python {platform.python_version()}, {platform.system()}.",
            "",
        ]
    )
    print()
    print(text)
    if not args.no_write:
        sys.path.insert(0, str(ROOT / "bench"))
        from results import write_section

        write_section(text, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
