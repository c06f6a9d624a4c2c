"""The teacher's parsers on text nobody in this project wrote: SmolLM2-135M-Instruct's replies to
our own prompts (tests/data/smollm2_replies.jsonl, made by tests/data/make_smollm2_replies.py).

Every reply is either read as a statement of the asked form or dropped with a named reason, and no
echo of the student's own text is ever accepted as a verdict.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from lemma.teacher.base import TypeSpec
from lemma.teacher.parse_verdicts import CORRECT, parse_error_type, parse_step
from lemma.teacher.parse_writing import parse_continuation, parse_smoothed
from lemma.text.reflection import check_smoothed
from lemma.text.steps import number_steps, split_steps

ROOT = Path(__file__).resolve().parent.parent
ROWS = [json.loads(line) for line in (ROOT / "tests" / "data" / "smollm2_replies.jsonl").read_text().splitlines()]
TAXONOMY = [TypeSpec.from_dict(t) for t in yaml.safe_load((ROOT / "config" / "taxonomy.yaml").read_text())["types"]]

STEP_REASONS = {"empty_reply", "no_step_statement", "echo_not_verdict", "step_out_of_range"}
TYPE_REASONS = {"empty_reply", "no_type_statement", "echo_not_verdict", "unknown_type"}
CONTINUATION_REASONS = {"empty_reply", "no_final_answer", "answer_only"}
SMOOTH_CHECK = {"prefix_lost", "reflection_lost", "correction_lost"}
# a verdict of the asked form, written independently of the parser's own patterns
STEP_VERDICT = re.compile(
    r"first\s+\w+\s+step|first\s+(?:error|mistake)|step\s*#?\s*\d+\s+is\s+the\s+first|"
    r"^\s*(?:answer|verdict|conclusion|first\s+\w+\s+step)\s*[:=-]\s*step",
    re.I | re.M,
)
TYPE_VERDICT = re.compile(
    r"(?:wrong|error|mistake)\s+type|type\s+of\s+(?:the\s+)?(?:first\s+)?(?:error|mistake)|"
    r"(?:error|mistake)\s+(?:category|label|kind)",
    re.I,
)
LABEL_FORMS = {f for t in TAXONOMY for f in (t.name, t.name.removesuffix("_error"), t.code.lower())}


def bare_label_line(text: str) -> bool:
    """The last line is nothing but one label (after an optional "Answer:")."""
    last = [ln for ln in text.splitlines() if ln.strip()][-1]
    last = re.sub(r"^\s*\w+\s*[:=-]\s*", "", last).strip(" *.!`")
    return re.sub(r"[\s-]+", "_", last.lower()) in LABEL_FORMS


def of(kind: str) -> list[dict]:
    return [r for r in ROWS if r["kind"] == kind]


def test_the_fixture_is_real_model_text_of_both_layouts():
    kinds = Counter(r["kind"] for r in ROWS)
    assert kinds["student"] >= 8 and kinds["judge_step"] >= 8 and kinds["judge_type"] >= 4
    assert kinds["fix_continue"] + kinds["fresh_restart"] >= 4 and kinds["smooth"] >= 2
    assert {r["style"] for r in ROWS} == {"gsm8k", "math"}
    assert all(isinstance(r["reply"], str) for r in ROWS)


def _shown(r: dict) -> str:
    shown = number_steps(r["solution"], r["style"])
    assert shown in r["messages"][-1]["content"], "the numbered solution is the one the judge was shown"
    return shown


def _without_shown_lines(reply: str, shown: str) -> str:
    lines = {ln.strip() for ln in shown.splitlines()}
    return "\n".join(
        ln for ln in reply.splitlines() if ln.strip() not in lines and not re.match(r"\s*step\s*\d+\s*:", ln, re.I)
    )


@pytest.mark.parametrize("r", of("judge_step"), ids=lambda r: r["problem_id"])
def test_step_judge_replies(r):
    shown = _shown(r)
    p = parse_step(r["reply"], r["n_steps"], shown=shown)
    if p.reason is not None:
        assert p.reason in STEP_REASONS, p
    elif p.value != CORRECT:
        assert 1 <= p.value <= r["n_steps"]
        assert STEP_VERDICT.search(_without_shown_lines(r["reply"], shown)), f"accepted a non-statement: {r['reply']!r}"
    # the student's own numbered solution, echoed back whole or as its last line, is never a verdict
    assert parse_step(shown, r["n_steps"], shown=shown).value is None
    assert parse_step(shown.splitlines()[-1], r["n_steps"], shown=shown).value is None


@pytest.mark.parametrize("r", of("judge_type"), ids=lambda r: r["problem_id"])
def test_type_judge_replies(r):
    shown = _shown(r)
    p = parse_error_type(r["reply"], TAXONOMY, shown=shown)
    if p.reason is not None:
        assert p.reason in TYPE_REASONS, p
    elif p.value != CORRECT:
        assert p.value in {t.name for t in TAXONOMY}
        kept = _without_shown_lines(r["reply"], shown)
        assert TYPE_VERDICT.search(kept) or bare_label_line(kept), f"accepted a non-statement: {r['reply']!r}"
    assert parse_error_type(shown, TAXONOMY, shown=shown).value is None


@pytest.mark.parametrize("r", of("fix_continue") + of("fresh_restart"), ids=lambda r: f"{r['kind']}-{r['problem_id']}")
def test_correction_replies(r):
    p = parse_continuation(r["reply"], r["phrase"], r["prefix"], r["style"])
    if p.reason is not None:
        assert p.reason in CONTINUATION_REASONS, p
        return
    text = p.value
    first = split_steps(r["prefix"], r["style"])[0]
    assert not text.startswith(first), "a re-typed attempt is trimmed"
    assert not text.lower().startswith(r["phrase"].lower()), "a repeated phrase is trimmed"
    assert not re.search(r"(?m)^\s*step\s*\d+\s*:", text, re.I), "no Step N: label leaks from the numbered attempt"
    assert re.search(r"The answer is: .+$", text)


@pytest.mark.parametrize("r", of("smooth"), ids=lambda r: r["problem_id"])
def test_smoothing_replies(r):
    assert "reference_answer" not in r["messages"][-1]["content"]
    p = parse_smoothed(r["reply"])
    if p.reason is not None:
        assert p.reason in {"empty_reply", "no_final_answer"}
        return
    lost = check_smoothed(p.value, r["prefix"], r["phrase"], r["continuation"])
    assert lost is None or lost in SMOOTH_CHECK
    if lost is None:  # kept: the prefix's words are still there, in order
        assert split_steps(r["prefix"], r["style"])[0][:10].lower() in p.value.lower()
