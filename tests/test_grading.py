"""Unit tests of lemma.grading: extraction order, normalisation, the exact fast path, the worker
pool's hard timeout, size bounds, the labelled set, and the `lemma grade` command."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

import pytest

from lemma.cli import main as lemma_cli
from lemma.grading import MAX_COMPLETION_CHARS, Grade, extract_answer, grade, grade_many
from lemma.grading.baseline import math_verify_correct
from lemma.grading.equivalence import fast_equal
from lemma.grading.guard import too_costly
from lemma.grading.normalize import normalize, parse_rational
from lemma.grading.several import answer_items

LABELLED = Path(__file__).parent / "data" / "grading_labelled.jsonl"


# --- extraction -------------------------------------------------------------------------------


def test_the_statement_that_begins_last_wins_whatever_its_kind():
    text = "$\\boxed{3}$\n#### 4\nThe answer is: 5"
    assert extract_answer(text, "math") == "5"
    assert extract_answer("$\\boxed{3}$\n#### 4", "math") == "4"
    assert extract_answer("The answer is: 5\n$\\boxed{3}$", "math") == "3"
    assert extract_answer("$\\boxed{3}$ Final Answer: The final answer is 6. I hope it is correct.", "math") == "6"
    assert extract_answer("Final Answer: The final answer is $6$. I hope it is correct.", "math") == "6"


def test_last_marker_counts_after_reflection():
    text = "The answer is: 8\nWait, I missed a bag.\nThe answer is: 12"
    assert extract_answer(text, "world") == "12"
    assert extract_answer("\\boxed{1} then \\boxed{2}", "math") == "2"


def test_boxed_keeps_nested_braces_and_skips_unbalanced():
    assert extract_answer("so $\\boxed{\\frac{\\sqrt{3}}{2}}$.", "math") == "\\frac{\\sqrt{3}}{2}"
    assert extract_answer("\\boxed{a} and \\boxed{\\frac{1}{2}", "math") == "a"
    assert extract_answer("\\boxed{\\{1, 2\\}}", "math") == "\\{1, 2\\}"


def test_last_number_fallback_is_a_style_setting():
    text = "He has 5 and buys 7, so 12 in all."
    assert extract_answer(text, "gsm8k") == "12"
    assert extract_answer(text, "math") is None
    assert extract_answer(text, "world") is None
    assert extract_answer(text, "math", allow_last_number=True) == "12"
    assert extract_answer(text, "gsm8k", allow_last_number=False) is None
    assert extract_answer("It costs $1,250 in total.", "gsm8k") == "1,250"


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match="unknown grading style"):
        grade_many([("1", "1")], style="nope")


# --- normalisation and the exact path ---------------------------------------------------------


@pytest.mark.parametrize(
    "raw, text, percent",
    [
        ("1{,}000", "1000", False),
        ("1\\,000\\,000", "1000000", False),
        ("\\$18.00", "18.00", False),
        ("5 \\text{ cm}^2", "5", False),
        ("18 apples", "18", False),
        ("5x", "5x", False),
        ("45^{\\circ}", "45", False),
        ("25\\%", "25", True),
        ("\\text{(C)}", "C", False),
        ("x = 5", "5", False),
        ("\\dfrac{1}{2}", "\\frac{1}{2}", False),
        ("[1, 2)", "[1, 2)", False),
    ],
)
def test_normalize(raw, text, percent):
    n = normalize(raw)
    assert (n.text, n.percent) == (text, percent)


@pytest.mark.parametrize(
    "text, value",
    [
        ("1\\frac{1}{2}", Fraction(3, 2)),
        ("-1\\frac{1}{4}", Fraction(-5, 4)),
        ("3 1/2", Fraction(7, 2)),
        ("\\frac12", Fraction(1, 2)),
        ("0.0000001", Fraction(1, 10**7)),
        ("1.5 \\times 10^{3}", Fraction(1500)),
        ("\\frac{1}{0}", None),
        ("2\\pi", None),
    ],
)
def test_parse_rational_is_exact(text, value):
    assert parse_rational(text) == value


def test_list_items_respect_brackets():
    assert answer_items("1, 2")[0] == ["1", "2"]
    assert answer_items("x=1 or x=-2")[0] == ["1", "-2"]
    assert answer_items("(1, 2)")[0] == ["(1, 2)"]
    assert answer_items("[1,2)")[0] == ["[1,2)"]


def test_fast_path_rules():
    assert fast_equal("0.25", "25%") is True  # percent on one side only
    assert fast_equal("50", "0.5") is False  # no percent sign: no guessing a factor 100
    assert fast_equal("1000000", "1000001") is False  # no relative tolerance
    assert fast_equal("-3, 2", "2, -3") is True
    assert fast_equal("-3, 2", "2, 3") is False
    assert fast_equal("\\text{Monday}", "monday") is True
    assert fast_equal("12", "\\text{none}") is False
    assert fast_equal("\\sqrt{2}", "1.41421356") is None  # left to the symbolic path


def test_guard_refuses_costly_expressions():
    assert too_costly("9^{9^{9^{9^{9}}}}")
    assert too_costly("9^9^9")
    assert too_costly("2^{10000000}")
    assert too_costly("(3!)!")
    assert too_costly("1" * 2000)
    assert too_costly("2^{2010}") is None
    assert too_costly("e^{-x^2}") is None
    assert too_costly("\\frac{1}{2004!}") is None


def test_plain_numbers_never_load_sympy():
    """The fast path decides plain numbers in this process without math-verify or sympy."""
    code = (
        "import sys\n"
        "from lemma.grading import grade_many\n"
        "pairs = [('The answer is: 1,234', '1234'), ('#### $18.00', '18'), ('so 7 apples', '8'),\n"
        "         ('\\\\boxed{1\\\\frac{1}{2}}', '3/2'), ('The answer is: 25%', '0.25')]\n"
        "out = grade_many(pairs, style='gsm8k')\n"
        "assert [g.correct for g in out] == [True, True, False, True, True], out\n"
        "assert 'sympy' not in sys.modules and 'math_verify' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --- grade / grade_many: statuses, bounds, timeouts ---------------------------------------------


def test_grade_statuses():
    assert grade("The answer is: 18", "18") == Grade("18", True, "ok")
    assert grade("no idea", "18", style="math") == Grade(None, False, "no_answer")
    assert grade("x" * (MAX_COMPLETION_CHARS + 1), "1").status == "error"
    assert grade("$\\boxed{" + "1+" * 20_000 + "1}$", "1", style="math").status == "error"
    refused = grade("$\\boxed{9^{9^{9^{9^{9}}}}}$", "1", style="math")
    assert (refused.correct, refused.status) == (False, "error")
    assert grade(None, "1").status == "error"  # type: ignore[arg-type]


def test_exact_check_overrides_rounding():
    out = grade_many(
        [
            ("$\\boxed{\\frac{1}{2004!}}$", "\\frac{1}{2006!}"),
            ("$\\boxed{0.0000001}$", "\\frac{1}{2004!}"),
            ("$\\boxed{\\frac{1}{2006!}}$", "\\frac{1}{2006!}"),
            ("$\\boxed{\\sqrt{8}}$", "2\\sqrt{2}"),
        ],
        style="math",
        workers=2,
    )
    assert [g.correct for g in out] == [False, False, True, True]
    assert all(g.status == "ok" for g in out)


def test_hard_timeout_is_its_own_status_and_order_is_kept():
    slow = "$\\boxed{(1+\\sqrt{3})^{90000}}$"
    pairs = [("$\\boxed{\\sqrt{8}}$", "2\\sqrt{2}"), (slow, "(1+\\sqrt{2})^{90000}"), ("#### 5", "5")]
    t0 = time.monotonic()
    out = grade_many(pairs, style="math", timeout=1.0, workers=1)
    elapsed = time.monotonic() - t0
    assert [g.status for g in out] == ["ok", "timeout", "ok"]
    assert [g.correct for g in out] == [True, False, True]
    assert out[1].pred_answer == "(1+\\sqrt{3})^{90000}"
    # One worker start (about a second on a busy machine) plus the 1 s limit, with slack.
    assert elapsed < 20


def test_grade_many_works_from_a_thread():
    """No SIGALRM anywhere: grading from a non-main thread must work."""
    import threading

    box = {}
    thread = threading.Thread(
        target=lambda: box.update(out=grade_many([("$\\boxed{\\sqrt{8}}$", "2\\sqrt{2}")], style="math"))
    )
    thread.start()
    thread.join(60)
    assert box["out"][0] == Grade("\\sqrt{8}", True, "ok")


def test_gold_may_be_a_full_solution():
    gold = "Natalia sold 48/2 = 24 clips.\nAltogether 48+24 = 72.\n#### 72"
    assert grade("The answer is: 72", gold).correct
    assert not grade("The answer is: 24", gold).correct


# --- the labelled set ---------------------------------------------------------------------------


def _labelled_rows() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_labelled_set_covers_every_category_both_ways():
    rows = _labelled_rows()
    assert len(rows) >= 300
    hand = [r for r in rows if r["source"] == "hand"]
    outcomes = defaultdict(set)
    for r in hand:
        outcomes[r["category"]].add(r["expected"])
    must_go_both_ways = {
        "paper_marker", "gsm8k_marker", "boxed", "minerva", "last_number", "thousands", "currency",
        "units", "degrees", "percent", "mixed_number", "list", "choice", "dfrac", "exact", "equation",
        "interval", "symbolic", "words", "world", "reference_solution",
    }  # fmt: skip
    for category in must_go_both_ways:
        assert outcomes[category] == {True, False}, category
    assert {r["style"] for r in hand} == {"world", "gsm8k", "math"}


@pytest.mark.slow
def test_labelled_set_accuracy_beats_plain_math_verify():
    rows = _labelled_rows()
    ours: dict[str, Grade] = {}
    for style in ("world", "gsm8k", "math"):
        subset = [r for r in rows if r["style"] == style]
        for r, g in zip(subset, grade_many([(r["completion"], r["gold"]) for r in subset], style=style, timeout=10)):
            ours[r["id"]] = g
    ours_right = sum(ours[r["id"]].correct == r["expected"] for r in rows)
    baseline_right = sum(math_verify_correct(r["completion"], r["gold"]) == r["expected"] for r in rows)
    wrong = [(r["id"], r["category"], ours[r["id"]]) for r in rows if ours[r["id"]].correct != r["expected"]]
    assert ours_right >= 0.99 * len(rows), wrong
    assert ours_right > baseline_right, (ours_right, baseline_right)
    bad_status = [
        (r["id"], ours[r["id"]].status)
        for r in rows
        if r.get("expected_status", ours[r["id"]].status) != ours[r["id"]].status
    ]
    assert not bad_status


# --- the command ----------------------------------------------------------------------------------


def test_cli_adds_verdicts_and_passes_fields_through(tmp_path):
    src = tmp_path / "pairs.jsonl"
    rows = [
        {"id": 1, "completion": "The answer is: 18", "gold": "18", "extra": [1, 2]},
        {"id": 2, "completion": "The answer is: 17", "gold": "18"},
        {"id": 3, "completion": "no answer", "gold": "18"},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out" / "graded.jsonl"
    assert lemma_cli(["grade", "--input", str(src), "--output", str(out), "--style", "math"]) == 0
    graded = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["id"] for g in graded] == [1, 2, 3]
    assert graded[0]["extra"] == [1, 2]
    assert [(g["pred_answer"], g["correct"], g["status"]) for g in graded] == [
        ("18", True, "ok"),
        ("17", False, "ok"),
        (None, False, "no_answer"),
    ]


def test_cli_names_the_bad_row(tmp_path, capsys):
    src = tmp_path / "pairs.jsonl"
    src.write_text(json.dumps({"completion": "x", "gold": "1"}) + "\n" + json.dumps({"completion": "x"}) + "\n")
    assert lemma_cli(["grade", "--input", str(src), "--output", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "pairs.jsonl line 2" in err and "'gold'" in err


# --- the timeout: a config value ----------------------------------------------------------------


def test_timeout_default_is_the_papers_and_the_config_fills_it():
    from lemma.config import load_yaml, validate
    from lemma.grading import DEFAULT_TIMEOUT_S

    assert DEFAULT_TIMEOUT_S == 10.0
    cfg = load_yaml(Path(__file__).parent.parent / "config" / "config.yaml")
    assert not validate(cfg, "config", "config.yaml")
    assert cfg["grading"] == {  # threads: the world config's own
        "timeout_s": 10,
        "threads": 1,
        "require_marker": {"training": False, "evaluation": False},
    }
    cfg["grading"] = {"timeout_s": 0}
    assert any("grading.timeout_s" in str(p) for p in validate(cfg, "config", "config.yaml"))


def test_workflow_grading_passes_the_timeout_through():
    """Every workflow entry point into the grader hands its timeout on (an invalid one is refused
    by grade_many, which proves it arrived), and the rules that grade pass `grading` as params."""
    import polars as pl

    from lemma.pipeline.grade import grade_samples, grade_texts

    with pytest.raises(ValueError, match="timeout must be positive"):
        grade_texts(["The answer is: 1"], ["1"], ["gsm8k"], timeout=0)
    problems = pl.DataFrame({"id": ["p"], "answer": ["1"], "style": ["gsm8k"]})
    samples = pl.DataFrame({"problem_id": ["p"], "completion": ["#### 1"]})
    with pytest.raises(ValueError, match="timeout must be positive"):
        grade_samples(problems, samples, timeout=-1)
    assert grade_samples(problems, samples, timeout=3)[0]["correct"] is True
    root = Path(__file__).parent.parent
    rules = "".join(p.read_text() for p in (root / "rules").glob("*.smk"))
    uses = {"grade_samples": "training", "smooth_and_filter": "training", "evaluate": "evaluation"}
    for rule, use in {**uses, "evaluate_majority": "evaluation"}.items():
        body = rules.split(f"rule {rule}:", 1)[1].split("\nrule ", 1)[0]
        assert f'grading=grading_params("{use}")' in body, rule
        script = body.split("script:")[1].split('"')[1].replace("../", "")
        # the evaluate scripts read it through lemma.pipeline.runner.eval_spec (tests/test_pipeline_runner.py)
        text = (root / script).read_text()
        assert 'grading["timeout_s"]' in text or "eval_spec(snakemake)" in text, script
        assert 'grading["require_marker"]' in text or "eval_spec(snakemake)" in text, script
