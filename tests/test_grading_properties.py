"""Property test: random and hostile text never makes the grader raise, overrun its timeout, or
run anything. Batches go through `grade_many` so a worker pool is started once per example, not
once per string; the example count is kept small so the file runs in well under a minute."""

from __future__ import annotations

import math
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lemma.grading import STATUSES, grade_many

TIMEOUT = 2.0
WORKERS = 2
# Starting the workers (a fresh interpreter importing sympy) on a busy 2-core machine.
STARTUP_MARGIN_S = 15.0


def _payloads(sentinel: str) -> list[str]:
    """Strings that would create `sentinel` if anything evaluated them as Python."""
    return [
        f"__import__('os').system('touch {sentinel}')",
        f"__import__('pathlib').Path('{sentinel}').touch()",
        f"open('{sentinel}', 'w').write('x')",
        f"exec(\"open('{sentinel}','w')\")",
        f"eval(\"__import__('os').system('touch {sentinel}')\")",
        f"\\text{{__import__('os').system('touch {sentinel}')}}",
        f"Lambda(x, __import__('os').system('touch {sentinel}'))(1)",
    ]


def _hostile(sentinel: str) -> st.SearchStrategy[str]:
    digits = st.integers(min_value=2, max_value=99).map(str)
    tower = st.lists(digits, min_size=3, max_size=6).map(lambda ds: "^{".join(ds) + "}" * (len(ds) - 1))
    chained = st.lists(digits, min_size=3, max_size=6).map("^".join)
    long_expr = st.sampled_from(["1+", "x*", "\\frac{1}{", "(", "2^"]).map(lambda unit: unit * (40_000 // len(unit)))
    unbalanced = st.text(alphabet="{}[]()\\$^_", min_size=1, max_size=200)
    nested = st.integers(min_value=10, max_value=60).map(lambda d: "\\frac{1}{" * d + "2" + "}" * d)
    latexish = st.text(alphabet="0123456789+-*/^{}()[]\\fracsqrtpi=,.% xyz!", max_size=120)
    return st.one_of(
        st.sampled_from(_payloads(sentinel)),
        tower,
        chained,
        long_expr,
        unbalanced,
        nested,
        latexish,
        st.text(max_size=300),
    )


def _completion(answer: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        answer.map(lambda a: f"Working...\nThe answer is: {a}"),
        answer.map(lambda a: f"So $\\boxed{{{a}}}$."),
        answer.map(lambda a: f"#### {a}"),
        answer.map(lambda a: f"Final Answer: The final answer is {a}. I hope it is correct."),
        answer,
    )


def test_hostile_inputs(tmp_path):
    sentinel = str(tmp_path / "pwned")
    hostile = _hostile(sentinel)
    pairs = st.tuples(_completion(hostile), st.one_of(hostile, st.sampled_from(["1", "\\frac{1}{2}", "x+1"])))

    @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(batch=st.lists(pairs, min_size=1, max_size=8), style=st.sampled_from(["world", "gsm8k", "math"]))
    def check(batch, style):
        t0 = time.monotonic()
        out = grade_many(batch, style=style, timeout=TIMEOUT, workers=WORKERS)
        elapsed = time.monotonic() - t0
        assert len(out) == len(batch)
        for g in out:
            assert g.status in STATUSES
            assert isinstance(g.correct, bool)
            assert g.pred_answer is None or isinstance(g.pred_answer, str)
            assert not (g.correct and g.status != "ok")
        # Items run WORKERS at a time, each killed at TIMEOUT at the latest.
        assert elapsed <= math.ceil(len(batch) / WORKERS) * (TIMEOUT + 1.0) + STARTUP_MARGIN_S

    check()
    # The payloads went through extraction, normalisation, the guard, math-verify and the
    # worker pipes; none of them ran.
    direct = grade_many([(f"$\\boxed{{{p}}}$", p) for p in _payloads(sentinel)], style="math", timeout=TIMEOUT)
    assert all(g.status in STATUSES for g in direct)
    assert not (tmp_path / "pwned").exists()


def test_power_tower_and_huge_inputs_are_bounded():
    batch = [
        ("$\\boxed{9^{9^{9^{9^{9}}}}}$", "9^{9^{9^{9^{9}}}}"),
        ("$\\boxed{9^{9^{9^{9^{9}}}}}$", "1"),
        ("The answer is: " + "9^" * 20_000 + "9", "1"),
        ("$\\boxed{" + "(" * 40_000 + "}$", "1"),
        ("{" * 40_000, "1"),
    ]
    t0 = time.monotonic()
    out = grade_many(batch, style="math", timeout=TIMEOUT, workers=WORKERS)
    assert time.monotonic() - t0 <= len(batch) * (TIMEOUT + 1.0) + STARTUP_MARGIN_S
    # Identical strings are equal without evaluating anything; otherwise refused.
    assert (out[0].correct, out[0].status) == (True, "ok")
    assert (out[1].correct, out[1].status) == (False, "error")
    assert [g.status for g in out[2:4]] == ["error", "error"]  # answers over the size bound
    assert out[4].status == "no_answer"  # nothing balanced, no marker


# --- extraction: spans and cost -----------------------------------------------------------------

_ANSWERISH = st.text(alphabet="0123456789 .,$\\{}()*#:-=\nabcxyzAnswerisfinalboxed", max_size=200)
_MARKERS = st.sampled_from(
    [
        "The answer is ",
        "the answer is: ",
        "**Answer:** ",
        "Answer: ",
        "#### ",
        "\\boxed{",
        "$\\boxed{",
        "Final Answer: The final answer is ",
        "### Final Answer\n",
        "}",
        "$",
        ". ",
        "\n",
    ]
)


@settings(max_examples=300, deadline=None, database=None)
@given(parts=st.lists(st.one_of(_MARKERS, _ANSWERISH), max_size=12), style=st.sampled_from(["world", "gsm8k", "math"]))
def test_find_answer_span_is_where_the_answer_is(parts, style):
    """Whatever the text, a found answer is the cleaned text of its own span, inside the text,
    after its statement's start; and extract_answer agrees with find_answer. A run of boxes or
    math spans (lemma.grading.several.join_run) answers its parts joined by ", "; a math chain its
    last side."""
    from lemma.grading import extract_answer, find_answer
    from lemma.grading.clean import clean_answer

    text = "".join(parts)
    found = find_answer(text, style)
    assert extract_answer(text, style) == (None if found is None else found.text)
    if found is not None:
        assert 0 <= found.start <= found.answer_start <= found.end <= len(text)
        assert found.text
        raw = text[found.answer_start : found.end]
        if found.rule == "last_number":
            assert found.text == raw
        elif found.rule in ("boxed", "last_math") and found.text != clean_answer(raw):
            # a run: every part is the cleaned content of a span inside the answer's place
            parts = found.text.split(", ")
            assert all(p and (p in raw or p in clean_answer(raw)) for p in parts), (found, raw)
        else:
            assert found.text == clean_answer(raw)


def test_extraction_of_hostile_text_is_linear():
    """Texts built to make a scanner retry from every marker run in well under a second each."""
    from lemma.grading import extract_answer

    texts = [
        "the answer is <x> " * 20_000,
        "The answer is " * 20_000,
        "Answer:\n" * 20_000,
        "#### Question\n" * 20_000,
        "####" * 50_000,
        "\\boxed{" * 30_000,
        "$" + "{" * 50_000 + " the answer is 5",
        "the answer is " + "{$" * 50_000,
        "So, " * 30_000,
        "Therefore, it is 1 2 " * 20_000,
        "1 + 1 = " * 20_000,
    ]
    for text in texts:
        t0 = time.process_time()
        extract_answer(text, "math")
        extract_answer(text, "gsm8k")
        assert time.process_time() - t0 < 2.0, text[:40]  # CPU time: a loaded machine does not inflate it
