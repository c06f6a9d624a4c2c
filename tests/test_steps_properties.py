"""Step splitting, truncation and re-splitting agree (issue 11, item 8), on GSM8K- and MATH-style
text in the public datasets' layouts, on generated text of those layouts (hypothesis), and on a
real model's solutions (tests/data/smollm2_replies.jsonl).

For every step k of a solution: the truncation after step k is a byte-exact prefix of the sample
and splits back into exactly its first k steps; the numbered solution a judge sees starts with
the numbered prefix; the whole attempt (cut=whole) keeps every step; and a trajectory joined after
the prefix keeps the prefix's steps as its first k.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lemma.text.reflection import join_trajectory
from lemma.text.steps import number_steps, split_steps, step_spans, truncate_after, whole_attempt

DATA = Path(__file__).resolve().parent / "data"


def check_solution(text: str, style: str) -> None:
    steps = split_steps(text, style)
    for (s, e), step in zip(step_spans(text, style), steps):
        assert text[s:e] == step and step == step.strip() and step
    numbered = number_steps(text, style)
    for k in range(1, len(steps) + 1):
        prefix = truncate_after(text, k, style)
        assert text.startswith(prefix), "a truncation is a byte-exact prefix of the sample"
        assert split_steps(prefix, style) == steps[:k], f"prefix after step {k} re-splits differently"
        assert numbered.startswith(number_steps(prefix, style))
        joined = join_trajectory(prefix, "Wait, let me check that again.", "It should be 5.\nThe answer is: 5", style)
        assert split_steps(joined, style)[:k] == steps[:k]
        assert split_steps(joined, style)[k].startswith("Wait, let me check")
    assert split_steps(whole_attempt(text), style) == steps
    with pytest.raises(ValueError, match="out of range"):
        truncate_after(text, len(steps) + 1, style)


# -- the public layouts -----------------------------------------------------------------------
GSM8K_ANSWERS = [json.loads(line)["answer"] for line in (DATA / "loaders" / "gsm8k.jsonl").read_text().splitlines()] + [
    # written as GSM8K's `answer` field writes them: one line per sentence, <<calc>>, "#### N"
    "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in "
    "April and May.\n#### 72",
    "Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.\nWorking 50 minutes, she earned 0.2 x 50 = "
    "$<<0.2*50=10>>10.\n#### 10",
    "In the beginning, Betty has only 100 / 2 = $<<100/2=50>>50.\nBetty's grandparents gave her 15 * 2 = "
    "$<<15*2=30>>30.\nThis means, Betty needs 100 - 50 - 30 - 15 = $<<100-50-30-15=5>>5 more.\n#### 5",
]
MATH_SOLUTIONS = [
    json.loads(line)["solution"] for line in (DATA / "loaders" / "math.jsonl").read_text().splitlines()
] + [
    # written as MATH's `solution` field writes them: LaTeX, display math, \boxed{}
    "We have $$\\frac{3}{4} \\cdot \\frac{8}{9} = \\frac{24}{36} = \\frac{2}{3}.$$ So the answer is "
    "$\\boxed{\\frac{2}{3}}$.",
    "Let the roots be $r$ and $s$. By Vieta's formulas, $r+s=5$ and $rs=6$.\nThen\n\\[\n(r+s)^2 - 2rs = 25 - 12.\n\\]"
    "\nSo $r^2+s^2 = \\boxed{13}$.",
    "Note that\n\\begin{align*}\nx &= 2y + 1.\\\\\ny &= 3.\n\\end{align*}\nHence $x = 7$.\n\nThe final answer is "
    "$\\boxed{7}$.",
]


@pytest.mark.parametrize("text", GSM8K_ANSWERS)
def test_public_gsm8k_answers(text):
    check_solution(text, "gsm8k")
    assert split_steps(text, "gsm8k")[-1].startswith("####")


@pytest.mark.parametrize("text", MATH_SOLUTIONS)
def test_public_math_solutions(text):
    check_solution(text, "math")


def test_layouts_that_used_to_collapse():
    """What the old splitter got wrong: GSM8K numbered lists lost their line breaks when re-joined
    (and split a list marker "1." off as a step); MATH display math was split inside."""
    listed = "To find the total:\n\n1. Mia bakes 4 * 12 = 48 cookies.\n2. She keeps 48 - 15 = 33.\n\nThe answer is: 33"
    assert split_steps(listed, "gsm8k") == [
        "To find the total:",
        "1. Mia bakes 4 * 12 = 48 cookies.",
        "2. She keeps 48 - 15 = 33.",
        "The answer is: 33",
    ]
    assert (
        truncate_after(listed, 3, "gsm8k")
        == "To find the total:\n\n1. Mia bakes 4 * 12 = 48 cookies.\n2. She keeps 48 - 15 = 33."
    )
    display = MATH_SOLUTIONS[-2]
    assert "\\[\n(r+s)^2 - 2rs = 25 - 12.\n\\]" in split_steps(display, "math")[1]
    assert split_steps("Dr. Lee paid $3.50 for 2 pens, i.e. 1.75 each. Then he left.", "gsm8k") == [
        "Dr. Lee paid $3.50 for 2 pens, i.e. 1.75 each.",
        "Then he left.",
    ]


def test_model_solutions_from_the_fixture():
    """Real SmolLM2 student solutions: markdown, lists, headings, blank lines."""
    rows = [json.loads(line) for line in (DATA / "smollm2_replies.jsonl").read_text().splitlines()]
    student = [r for r in rows if r["kind"] == "student"]
    assert len(student) >= 8
    for r in student:
        for style in ("gsm8k", "math", "world"):
            check_solution(r["reply"], style)
    prefixes = [r for r in rows if r["kind"] in ("fix_continue", "fresh_restart")]
    for r in prefixes:  # the prefixes the teacher was given re-split into the step it was told
        assert len(split_steps(r["prefix"], r["style"])) == r["wrong_step"]


# -- generated text of both layouts -----------------------------------------------------------
_num = st.integers(0, 999).map(str)
_word = st.sampled_from(
    [
        "she",
        "buys",
        "apples",
        "the",
        "total",
        "is",
        "cost",
        "so",
        "then",
        "Mr.",
        "e.g.",
        "each",
        "left",
        "x",
        "Dr.",
        "pens",
        "per",
        "hour",
        "$5",
        "3.5",
        "(a)",
    ]
)


@st.composite
def gsm8k_sentence(draw):
    a, b = draw(_num), draw(_num)
    words = draw(st.lists(_word, min_size=1, max_size=6))
    calc = draw(st.sampled_from([f"{a} * {b} = <<{a}*{b}=1>>1", f"{a}+{b} = <<{a}+{b}=2>>2", f"{a} / {b}", ""]))
    end = draw(st.sampled_from([".", ".", "", ":", "!"]))
    return " ".join(words + ([calc] if calc else [])) + end


@st.composite
def gsm8k_text(draw):
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        sentences = draw(st.lists(gsm8k_sentence(), min_size=1, max_size=3))
        marker = draw(st.sampled_from(["", "", "1. ", "2. ", "- ", "Step 3. ", "**Step 2:** ", "a. "]))
        lines.append(marker + draw(st.sampled_from([" ", "  "])).join(sentences))
    seps = draw(st.lists(st.sampled_from(["\n", "\n\n", " \n", "\n  "]), min_size=len(lines), max_size=len(lines)))
    body = "".join(line + sep for line, sep in zip(lines, seps))
    tail = draw(st.sampled_from(["#### 12", "The answer is: 12", "", "#### 1,250"]))
    lead = draw(st.sampled_from(["", " ", "\n"]))
    return lead + body + tail


@st.composite
def math_text(draw):
    pieces = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["prose", "inline", "display", "bracket", "align", "boxed"]))
        a, b = draw(_num), draw(_num)
        pieces.append(
            {
                "prose": f"We see that {a} and {b} are the values",
                "inline": f"Then $x = {a}$ and $y^2 = {b}$",
                "display": f"we get $$\\frac{{{a}}}{{{b}}} = {a}.\n{b}.$$",
                "bracket": f"so\n\\[\n{a} + {b} = c.\n\\]",
                "align": f"hence\n\\begin{{align*}}\nx &= {a}.\\\\\ny &= {b}.\n\\end{{align*}}",
                "boxed": f"so the answer is $\\boxed{{{a}}}$",
            }[kind]
            + draw(st.sampled_from([".", ".", "", ","]))
        )
    seps = draw(st.lists(st.sampled_from(["\n", "\n\n", " ", "\n \n"]), min_size=len(pieces), max_size=len(pieces)))
    return "".join(p + s for p, s in zip(pieces, seps)).rstrip() + draw(st.sampled_from(["", "\n", "  "]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gsm8k_text())
def test_gsm8k_split_truncate_split(text):
    check_solution(text, "gsm8k")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(math_text())
def test_math_split_truncate_split(text):
    check_solution(text, "math")
    for step in split_steps(text, "math"):  # no step ends inside display math
        assert step.count("$$") % 2 == 0 and step.count("\\[") == step.count("\\]")
        assert step.count("\\begin{") == step.count("\\end{")


@settings(max_examples=100, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab1. \n$\\[]<>{}#")), max_size=80),
    st.sampled_from(["world", "gsm8k", "math"]),
)
def test_any_text_keeps_the_prefix_property(text, style):
    steps = split_steps(text, style)
    for k in range(1, len(steps) + 1):
        prefix = truncate_after(text, k, style)
        assert text.startswith(prefix) and split_steps(prefix, style) == steps[:k]
