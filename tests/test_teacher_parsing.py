"""The LLM teacher's reply parsers, pinned on realistic replies (good and drifting)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lemma.teacher.base import TypeSpec
from lemma.teacher.parse_verdicts import CORRECT, parse_error_type, parse_step
from lemma.teacher.parse_writing import (
    answers_match,
    find_final_answer,
    parse_continuation,
    parse_injection,
    parse_smoothed,
)
from lemma.teacher.prompts import PROMPTS, PromptError, PromptSet, parse_prompt_file

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def taxonomy():
    data = yaml.safe_load((ROOT / "config" / "taxonomy.yaml").read_text())
    return [
        TypeSpec(t["name"], t["definition"], tuple(t.get("examples", ())), t.get("code", "")) for t in data["types"]
    ]


# -- first wrong step --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "reply,expected",
    [
        ("Step 1 is fine. Step 2 multiplies 7 by 8 and gets 54, which is wrong.\nthe first wrong step is step 2", 2),
        ("...so the calculation goes astray early.\n\n**The first wrong step is Step 3.**", 3),
        ("Therefore, the first incorrect step is step #4", 4),
        ("The first wrong step is step three.", 3),
        ("Looking again, step 2 looks fine after all. The first wrong step is 5", 5),
        ("The first error occurs in step 2, where 12 is used instead of 21.", 2),
        ("Step 4 is the first wrong step because it drops the tax.", 4),
        ("The first wrong step is the second step.", 2),
        ("I first thought the first wrong step is step 1, but on reflection the first wrong step is step 2.", 2),
        ("Analysis...\nFinal verdict: Step 6", 6),
        ("THE FIRST WRONG STEP IS STEP 1", 1),
    ],
)
def test_parse_step_good(reply, expected):
    assert parse_step(reply, 6).value == expected


@pytest.mark.parametrize(
    "reply,reason",
    [
        ("", "empty_reply"),
        (None, "empty_reply"),
        ("The solution has several problems, mainly steps 2 and 4.", "no_step_statement"),
        ("I cannot tell which step is wrong.", "no_step_statement"),
        ("the first wrong step is step 9", "step_out_of_range"),
        ("the first wrong step is step 0", "step_out_of_range"),
    ],
)
def test_parse_step_drops(reply, reason):
    p = parse_step(reply, 6)
    assert p.value is None and p.reason == reason


# -- error type --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "reply,expected",
    [
        ("Step 2 says 7 * 8 = 54.\nSo the wrong type is calculation_error", "calculation_error"),
        ("The student subtracted instead of adding.\n\n**The wrong type is Operator Error.**", "operator_error"),
        ("Hence the wrong type is QM", "question_misinterpretation"),
        ("the wrong type is `question misinterpretation`.", "question_misinterpretation"),
        ("The wrong type is: CA (calculation error)", "calculation_error"),
        ("Error type: Missing-Step", "missing_step"),
        ("the wrong type is counting", "counting_error"),
        ("The type of error is a unit conversion error, since hours became 100 minutes.", "unit_conversion_error"),
        ("First I considered formula confusion.\nthe wrong type is confusing_concept_error", "confusing_concept_error"),
        ("After weighing it up...\nVerdict: Context Value Error", "context_value_error"),
        ('the wrong type is "hallucination"!', "hallucination"),
    ],
)
def test_parse_error_type_good(reply, expected, taxonomy):
    assert parse_error_type(reply, taxonomy).value == expected


@pytest.mark.parametrize(
    "reply,reason",
    [
        ("", "empty_reply"),
        ("the wrong type is rounding_error", "unknown_type"),
        ("The solution is wrong because of arithmetic and a misread question.", "no_type_statement"),
        ("It could be a calculation error or an operator error.", "no_type_statement"),
    ],
)
def test_parse_error_type_drops(reply, reason, taxonomy):
    p = parse_error_type(reply, taxonomy)
    assert p.value is None and p.reason == reason


# -- final answers -----------------------------------------------------------------------------
def test_final_answer_forms():
    assert find_final_answer("x\nThe answer is: 42")[0] == "42"
    assert find_final_answer("So the answer is 42.")[0] == "42"
    assert find_final_answer("**The final answer is: $\\boxed{\\frac{3}{4}}$**")[0] == "\\frac{3}{4}"
    assert find_final_answer("The answer is: 1 then more.\nThe answer is: 7")[0] == "7"
    assert find_final_answer("no verdict here") is None
    assert answers_match("1,200", "1200") and answers_match("$5", "5") and answers_match("5.0", "5")
    assert not answers_match("54", "56")


def test_final_answer_is_read_as_the_grader_reads_it():
    # texts of tests/data (grading_labelled.jsonl, smollm2_replies.jsonl): the teacher's answer
    # line carries the grader's reading of the statement, not the rest of its line
    assert (
        find_final_answer("We compute $3^4 = 81$.\nFinal Answer: The final answer is $81$. I hope it is correct.")[0]
        == "81"
    )
    assert find_final_answer("The answer is: 91 / 7 = 13")[0] == "13"
    assert find_final_answer("The answer is: 20, which is the perimeter of a rectangle")[0] == "20"
    # a placeholder echoed from the prompt, or a verdict on an answer, is not an answer
    assert find_final_answer("She keeps 21 cookies.\nThe answer is: X") is None
    assert find_final_answer("The student's answer is correct but step 3 was incorrect.") is None
    assert (
        parse_smoothed("4 * 6 = 24, not 20.\nThe correct answer is 24.").value
        == "4 * 6 = 24, not 20.\nThe answer is: 24"
    )


# -- injection ---------------------------------------------------------------------------------
GOOD_INJECTION = """Tom buys 4 pens at 3 dollars each.
4 * 3 = 14 dollars for the pens.
He pays with a 20 dollar bill, so he gets 20 - 14 = 6 dollars back.
The answer is: 6

<explanation>
Wrong step: 4 * 3 = 14 dollars for the pens.
The product of 4 and 3 is 12, not 14; the change should be 8 dollars.
</explanation>"""


def test_parse_injection_good():
    m = parse_injection(GOOD_INJECTION, "8", "world")
    assert m.reason is None
    assert m.solution.endswith("The answer is: 6") and "<explanation>" not in m.solution
    assert m.wrong_step == 2
    assert m.explanation.startswith("Wrong step:")


def test_parse_injection_drifting_format():
    reply = (
        "Here is the careless student's solution:\n```\nHalf of 30 is 15.\n15 + 4 = 19.\n"
        "**The answer is: 19.**\n```\n<Explanation>The error is in step 2: the student added "
        "4 instead of subtracting it.</EXPLANATION>"
    )
    m = parse_injection(reply, "11", "world")
    assert m.reason is None
    assert m.solution == "Half of 30 is 15.\n15 + 4 = 19.\nThe answer is: 19"
    assert m.wrong_step == 2


@pytest.mark.parametrize(
    "reply,reason",
    [
        ("", "empty_reply"),
        ("4 * 3 = 14.\nThe answer is: 6", "no_explanation"),
        ("4 * 3 = 14 and so on.\n<explanation>Wrong step: 4 * 3 = 14.</explanation>", "no_final_answer"),
        (
            "4 * 3 = 12.\nThe answer is: 8\n<explanation>Wrong step: none really.</explanation>",
            "same_answer_as_reference",
        ),
    ],
)
def test_parse_injection_drops(reply, reason):
    m = parse_injection(reply, "8", "world")
    assert m.solution is None and m.reason == reason


# -- continuations and smoothing ---------------------------------------------------------------
PHRASE = "Wait, let me look at the question again."


def test_parse_continuation_good_and_repeated_phrase():
    reply = "Step 2 used 35 apples, but the question says 53. So 53 - 20 = 33 apples are left.\nThe answer is: 33"
    assert parse_continuation(reply, PHRASE).value == reply
    repeated = "**Wait, let me look at the question again!** " + reply + "\n\nI hope this helps."
    assert parse_continuation(repeated, PHRASE).value == reply


def test_parse_continuation_retyped_prefix():
    prefix = "There are 35 apples.\n35 - 20 = 15."
    reply = prefix + "\n" + PHRASE + " The question says 53 apples. 53 - 20 = 33.\nThe answer is: 33"
    assert (
        parse_continuation(reply, PHRASE, prefix).value
        == "The question says 53 apples. 53 - 20 = 33.\nThe answer is: 33"
    )


def test_parse_continuation_and_smooth_drops():
    assert parse_continuation("   ", PHRASE).reason == "empty_reply"
    assert parse_continuation("So 53 - 20 = 33 apples are left.", PHRASE).reason == "no_final_answer"
    assert parse_smoothed("A rewrite without any verdict.").reason == "no_final_answer"
    assert parse_smoothed(None).reason == "empty_reply"


def test_parse_smoothed_strips_labels_and_fences():
    reply = "Rewritten solution:\n```\nThere are 35 apples... wait, it says 53.\n53 - 20 = 33.\nThe answer is: 33.\n```"
    assert parse_smoothed(reply).value == "There are 35 apples... wait, it says 53.\n53 - 20 = 33.\nThe answer is: 33"


# -- prompt files ------------------------------------------------------------------------------
def test_every_prompt_file_loads_and_renders():
    prompts = PromptSet.load()
    assert set(prompts.templates) == set(PROMPTS)
    msgs = prompts["smooth"].render(question="Q?", reference_answer="7", trajectory="T {x} \\frac{1}{2}")
    assert msgs[0]["role"] == "system" and msgs[-1]["role"] == "user"
    assert "T {x} \\frac{1}{2}" in msgs[-1]["content"] and "{{" not in msgs[-1]["content"]
    with pytest.raises(PromptError, match="no value"):
        prompts["smooth"].render(question="Q?")


def test_bad_prompt_files_are_refused_with_their_name():
    with pytest.raises(PromptError, match="unknown placeholder.*answr"):
        parse_prompt_file("smooth", "## user\n{{trajectory}} {{answr}}", "x/smooth.md")
    with pytest.raises(PromptError, match="must use.*trajectory"):
        parse_prompt_file("smooth", "## user\nrewrite it", "x/smooth.md")
    with pytest.raises(PromptError, match="x/smooth.md.*## user"):
        parse_prompt_file("smooth", "## system\nonly a system part {{trajectory}}", "x/smooth.md")


# -- verdicts must be statements of the asked form (issue 11, item 5) ----------------------------
NUMBERED = (
    "Step 1: Tom has 7 boxes of 15 pens, so 7 * 15 = 105 pens.\nStep 2: He gives away 20 pens.\n"
    "Step 3: 105 - 20 = 95 pens.\nStep 4: Checking: 95 + 20 = 115.\nStep 5: Wait, 105 + 0 = 105.\n"
    "Step 6: So 105 is right.\nStep 7: He has 105 pens.\nStep 8: The answer is correct: 105"
)


@pytest.mark.parametrize(
    "reply",
    [
        # the student's own numbered line echoed back (what a lenient fallback used to accept as step 8)
        "Let me look at the solution.\nStep 8: The answer is correct: 105",
        "Step 3: 105 - 20 = 95 pens.",
        # a line naming a step that says more than a verdict
        "I am not sure.\nMaybe step 4 has the calculation: 95 + 20 = 115",
    ],
)
def test_parse_step_refuses_echoes(reply):
    p = parse_step(reply, 8, shown=NUMBERED)
    assert p.value is None and p.reason in ("echo_not_verdict", "no_step_statement")
    assert parse_step(reply, 8).value is None, "even without knowing what was shown"


def test_parse_step_echo_reason_and_verdict_after_an_echo():
    assert parse_step("Step 8: The answer is correct: 105", 8, shown=NUMBERED).reason == "echo_not_verdict"
    echo_then_verdict = "Step 4: Checking: 95 + 20 = 115.\nThis check is wrong.\nThe first wrong step is step 4."
    assert parse_step(echo_then_verdict, 8, shown=NUMBERED).value == 4
    # a verdict line copied out of the student's own text is not the judge's
    tricky = NUMBERED.replace("Step 6: So 105 is right.", "Step 6: so the first wrong step is step 2")
    assert parse_step("Step 6: so the first wrong step is step 2", 8, shown=tricky).value is None


@pytest.mark.parametrize(
    "reply",
    [
        "Every step checks out.\nthe solution is correct",
        "**The student's solution is correct.**",
        "I checked each step: there is no wrong step.",
        "All steps are correct, the grader was mistaken.",
        "The student's solution to the math problem is correct.",  # SmolLM2's words
        "The student's solution (5 numbered steps) is correct.",
    ],
)
def test_judges_may_answer_correct(reply, taxonomy):
    assert parse_step(reply, 8, shown=NUMBERED).value == CORRECT
    assert parse_error_type(reply, taxonomy, shown=NUMBERED).value == CORRECT


@pytest.mark.parametrize(
    "reply",
    [
        "The solution is not correct: the first wrong step is step 3.",
        "Steps 1 and 2 are correct. The first wrong step is step 3.",
        "The solution is incorrect.\nthe first wrong step is step 3",
        "The first wrong step is step 3; the rest of the solution is correct.",
        "There is no mistake in steps 1 and 2. The first wrong step is step 3.",
    ],
)
def test_a_partly_correct_solution_is_not_a_correct_verdict(reply):
    assert parse_step(reply, 8).value == 3


def test_parse_error_type_refuses_echoes_and_bare_mentions(taxonomy):
    assert parse_error_type("Step 8: The answer is correct: 105", taxonomy, shown=NUMBERED).value is None
    echoed = "Step 1: 7 * 15 = 105, a calculation error\n"
    assert (
        parse_error_type(echoed, taxonomy, shown="Step 1: 7 * 15 = 105, a calculation error").reason
        == "echo_not_verdict"
    )
    assert parse_error_type("Some words.\nCalculation Error.", taxonomy).value == "calculation_error"
    assert parse_error_type("Some words.\nThe student made a calculation error somewhere.", taxonomy).value is None


# -- continuations (issue 11, item 10) ----------------------------------------------------------
PREFIX_GSM8K = "Mia bakes 4 * 12 = 48 cookies. She keeps 48 - 51 = -3 cookies."
FIX = "She gave away 15, not 51, so she keeps 48 - 15 = 33 cookies.\nThe answer is: 33"


def test_retyped_numbered_attempt_is_detected():
    reply = f"Step 1: Mia bakes 4 * 12 = 48 cookies.\nStep 2: She keeps 48 - 51 = -3 cookies.\n{PHRASE}\n{FIX}"
    assert parse_continuation(reply, PHRASE, PREFIX_GSM8K, "gsm8k").value == FIX


def test_retyped_one_line_prefix_keeps_the_correction_on_its_line():
    reply = f"{PREFIX_GSM8K} {PHRASE} {FIX}"
    assert parse_continuation(reply, PHRASE, PREFIX_GSM8K, "gsm8k").value == FIX
    without_phrase = f"{PREFIX_GSM8K} {FIX}"
    assert parse_continuation(without_phrase, PHRASE, PREFIX_GSM8K, "gsm8k").value == FIX


def test_retyped_wrong_step_alone_and_a_quoted_step_is_kept():
    reply = f"She keeps 48 - 51 = -3 cookies.\n{PHRASE} {FIX}"
    assert parse_continuation(reply, PHRASE, PREFIX_GSM8K, "gsm8k").value == FIX
    quoted = '"She keeps 48 - 51 = -3 cookies" is wrong: she gave away 15. 48 - 15 = 33.\nThe answer is: 33'
    assert parse_continuation(quoted, PHRASE, PREFIX_GSM8K, "gsm8k").value == quoted


def test_phrase_written_twice_is_stripped_twice():
    reply = f"{PHRASE} {PHRASE.upper()} {FIX}"
    assert parse_continuation(reply, PHRASE, PREFIX_GSM8K, "gsm8k").value == FIX


def test_leaked_step_labels_are_removed_outside_the_world_style():
    reply = "Step 2 used 51 instead of 15.\nStep 3: 48 - 15 = 33 cookies.\n**Step 4:** She keeps 33.\nThe answer is: 33"
    got = parse_continuation(reply, PHRASE, PREFIX_GSM8K, "gsm8k").value
    assert got == "Step 2 used 51 instead of 15.\n48 - 15 = 33 cookies.\nShe keeps 33.\nThe answer is: 33"
    # the built-in world numbers its steps that way, and so may a student's own prefix
    world = "Step 3: 48 - 15 = 33\nThe answer is: 33"
    assert parse_continuation(world, PHRASE, "Step 1: 4 * 12 = 48\nStep 2: 48 - 51 = -3", "world").value == world
    own = "Step 1: Mia bakes 48 cookies.\nStep 2: She keeps -3."
    assert parse_continuation(world, PHRASE, own, "gsm8k").value == world
    heading = "### Step 3: 48 - 15 = 33 cookies.\nThe answer is: 33"  # SmolLM2 writes labels as headings
    assert (
        parse_continuation(heading, PHRASE, PREFIX_GSM8K, "gsm8k").value == "48 - 15 = 33 cookies.\nThe answer is: 33"
    )


def test_a_continuation_that_is_only_the_answer_is_dropped():
    assert parse_continuation("The answer is: 190", PHRASE, PREFIX_GSM8K, "gsm8k").reason == "answer_only"
    assert parse_continuation(f"{PHRASE}\n**The answer is: 33**", PHRASE, PREFIX_GSM8K, "gsm8k").reason == "answer_only"
