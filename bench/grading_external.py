"""The grader on an external suite nobody here wrote: math-verify's own test cases.

    python bench/grading_external.py                    # fetches math-verify's sdist with pip
    python bench/grading_external.py --suite DIR        # an unpacked sdist (or its tests/ folder)

math-verify's source distribution ships its tests: parametrized (gold, completion, expected)
triples, many taken from MATH, NuminaMath and OpenThoughts outputs. This script reads those
triples with `ast` (nothing of theirs is imported, copied or committed), grades each with our
grader (`math` style, the marker fallback on and off) and with plain math-verify (as
`lemma.grading.baseline` calls it), and prints agreement with the suite's labels, split by whether
the completion carries an answer marker. The suite is math-verify's, so it measures how close we
come to math-verify's conventions (some of which we do not share: "1,22" read as 1.22, a decimal
comma); it is not a set we tune on (see the "Grading competition-style answers" section of
bench/RESULTS.md for which figure came before which change).
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grading import agreement, math_verify_verdicts, ours_verdicts  # noqa: E402  (bench/grading.py)

from lemma.grading import grade_many  # noqa: E402

# Which of the sdist's test files hold (gold, pred, expected) cases.
SUITE_FILES = ("test_all.py", "test_numina_cases.py", "test_open_thoughts.py", "test_boxed.py", "test_yujianll.py")
MARKER = re.compile(r"\\boxed|\\fbox|answer", re.IGNORECASE)


def fetch_suite(into: Path) -> Path:
    """math-verify's sdist, of the installed version, unpacked under `into`; its tests/ folder."""
    wanted = version("math-verify")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            f"math-verify=={wanted}",
            "--no-binary",
            ":all:",
            "--no-deps",
            "-q",
            "-d",
            str(into),
        ],
        check=True,
    )
    archive = next(into.glob("math_verify-*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return next(into.glob("math_verify-*/tests"))


def suite_cases(tests: Path) -> list[dict]:
    """Every (gold, pred, expected) triple of the suite's parametrized tests whose three values
    are literals: a string, a string and 0/1."""
    rows = []
    for name in SUITE_FILES:
        path = tests / name
        if not path.exists():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "parametrize"):
                continue
            try:
                names = ast.literal_eval(node.args[0])
                values = ast.literal_eval(node.args[1])
            except (ValueError, SyntaxError, IndexError):
                continue
            names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
            if names[:3] != ["gold", "pred", "expected"]:
                continue
            for v in values:
                gold, pred, expected = v[:3]
                if isinstance(gold, str) and isinstance(pred, str) and expected in (0, 1):
                    rows.append({"file": name, "gold": gold, "completion": pred, "expected": bool(expected)})
    return rows


def marker_subsets(rows: list[dict]) -> dict[str, list[dict]]:
    """The suite split by whether the completion carries an answer marker."""
    return {
        "with a marker": [r for r in rows if MARKER.search(r["completion"])],
        "without one": [r for r in rows if not MARKER.search(r["completion"])],
    }


def measure(rows: list[dict]) -> dict:
    """(rows agreeing with the label, pairs/s) for ours with the marker required, ours with the
    fallback, and plain math-verify."""
    out = {}
    for require in (True, False):
        verdicts, rate = ours_verdicts(rows, style="math", require_marker=require)
        out[f"ours, marker {'required' if require else 'fallback'}"] = (agreement(rows, verdicts), rate)
    verdicts, rate = math_verify_verdicts(rows)
    out["plain math-verify"] = (agreement(rows, verdicts), rate)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", type=Path, help="an unpacked math-verify sdist or its tests/ folder")
    ap.add_argument("--misses", action="store_true", help="print the rows our grader (fallback on) gets wrong")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tests = args.suite if args.suite else fetch_suite(Path(tmp))
        if (tests / "tests").is_dir():
            tests = tests / "tests"
        rows = suite_cases(tests)
    subsets = marker_subsets(rows)
    print(f"math-verify {version('math-verify')} test suite: {len(rows)} cases")
    print(
        "| completions | rows | " + " | ".join(["ours, marker required", "ours, fallback", "plain math-verify"]) + " |"
    )
    print("|---|---|---|---|---|")
    for name, subset in subsets.items():
        m = measure(subset)
        cells = [f"{right / len(subset):.0%} ({right})" for right, _ in m.values()]
        print(f"| {name} | {len(subset)} | " + " | ".join(cells) + " |")
    if args.misses:
        grades = grade_many([(r["completion"], r["gold"]) for r in rows], style="math", require_marker=False)
        for r, g in zip(rows, grades):
            if g.correct != r["expected"]:
                print(
                    f"MISS {r['file']}: gold={r['gold']!r} pred={r['completion'][-160:]!r} "
                    f"expected={r['expected']} got={g.pred_answer!r} {g.status}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
