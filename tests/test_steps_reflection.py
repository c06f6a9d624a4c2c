import pytest

from lemma.text.reflection import join_trajectory, pick_phrase
from lemma.text.steps import number_steps, split_steps, truncate_after

SOL = "Step 1: 4 * 6 = 24\nStep 2: 50 - 24 = 26\nThe answer is: 26"


def test_world_steps_and_truncation():
    assert split_steps(SOL) == ["Step 1: 4 * 6 = 24", "Step 2: 50 - 24 = 26", "The answer is: 26"]
    assert truncate_after(SOL, 2) == "Step 1: 4 * 6 = 24\nStep 2: 50 - 24 = 26"
    with pytest.raises(ValueError, match="out of range"):
        truncate_after(SOL, 4)


def test_gsm8k_and_math_styles():
    gsm = "He buys 4 pens for 6 each. That is 24 dollars. So 50 - 24 = 26 is left.\n#### 26"
    assert split_steps(gsm, "gsm8k") == [
        "He buys 4 pens for 6 each.",
        "That is 24 dollars.",
        "So 50 - 24 = 26 is left.",
        "#### 26",
    ]
    math = "Let $x=2$.\nThen $x^2 = 4$.\nSo the answer is $\\boxed{4}$."
    assert len(split_steps(math, "math")) == 3
    assert number_steps(gsm, "gsm8k").splitlines()[1] == "Step 2: That is 24 dollars."


def test_join_trajectory_keeps_prefix_exact_and_puts_phrase_on_its_own_step():
    prefix = truncate_after("Step 1: 4 * 6 = 24\nStep 2: 50 - 42 = 8\nThe answer is: 8", 2)
    t = join_trajectory(
        prefix + "\n", "Wait, that is not right.", "step 2 should subtract 24.\nStep 2: 50 - 24 = 26\nThe answer is: 26"
    )
    assert t.startswith(prefix + "\nWait, that is not right. step 2 should")
    assert split_steps(t)[:2] == split_steps(prefix)
    assert t.endswith("The answer is: 26")
    with pytest.raises(ValueError):
        join_trajectory(prefix, "", "x")


def test_phrase_choice_is_stable_and_spread():
    phrases = [f"p{i}" for i in range(10)]
    assert pick_phrase(phrases, "a", 1) == pick_phrase(phrases, "a", 1)
    assert len({pick_phrase(phrases, f"train-{i}", 0) for i in range(200)}) == 10


def test_training_references_get_one_answer_line():
    from lemma.pipeline.problems import with_answer_line

    assert with_answer_line("4 + 4 = 8.", "8") == "4 + 4 = 8.\nThe answer is: 8"
    assert with_answer_line("x\nThe answer is: 8", "8") == "x\nThe answer is: 8"
    assert with_answer_line(None, "8") is None


def test_the_oracles_smoothed_trajectories_pass_the_smoothing_check():
    """The built-in world keeps working: every trajectory the oracle smooths still has its prefix,
    a reflection and the correction (lemma.text.reflection.check_smoothed), for both strategies."""
    from lemma.teacher.base import CorrectRequest, InjectRequest, ProblemView, SmoothRequest, TypeSpec
    from lemma.teacher.oracle import OracleTeacher
    from lemma.text.reflection import check_smoothed
    from lemma.world.problems import generate_world

    teacher = OracleTeacher(seed=0)
    rows = generate_world(21, 80, 0, 0)["train"]
    views = [ProblemView(r["id"], r["question"], r["solution"], r["answer"], r["structure"]) for r in rows]
    checked = 0
    for t in teacher.supported_types():
        mistakes = teacher.inject_errors([InjectRequest(v, TypeSpec(t, ""), 0) for v in views])
        reqs = [
            CorrectRequest(v, truncate_after(m.solution, m.wrong_step), m.wrong_step, t, "Wait, something is off here.")
            for v, m in zip(views, mistakes)
            if m.solution and m.wrong_step
        ]
        for method in (teacher.fix_continue, teacher.fresh_restart):
            pairs = [(r, c.text) for r, c in zip(reqs, method(reqs)) if c.text]
            trajs = [join_trajectory(r.prefix, r.phrase, c) for r, c in pairs]
            smoothed = teacher.smooth([SmoothRequest(r.problem, tr) for (r, _), tr in zip(pairs, trajs)])
            for (r, c), s in zip(pairs, smoothed):
                assert s.text and check_smoothed(s.text, r.prefix, r.phrase, c) is None, (r.prefix, c, s.text)
                checked += 1
    assert checked > 100
    # the whole-attempt cut (no_truncate): the wrong answer line inside the attempt is reworded
    prefix = "Step 1: 90 / 10 = 9\nThe answer is: 9"
    cont = "the question asks for the students who take the bus.\nStep 2: 90 - 9 = 81\nThe answer is: 81"
    smoothed = (
        "Step 1: 90 / 10 = 9\nThat gives 9.\nHold on, let me check that step again: the question asks for "
        "the students who take the bus.\nStep 2: 90 - 9 = 81\nThe answer is: 81"
    )
    assert check_smoothed(smoothed, prefix, "Hold on, let me check that step again.", cont) is None
    # a student's garbled line that loses its "Step 1:" label in the rewrite still is the prefix
    garbled = "2 sh answer is: 4\nWait, something is off here. step 1 does not make sense.\nStep 1: 12 * 6 = 72\nThe answer is: 72"
    assert (
        check_smoothed(
            garbled,
            "Step 1: 2 sh answer is: 4",
            "Wait, something is off here.",
            "step 1 does not make sense.\nStep 1: 12 * 6 = 72\nThe answer is: 72",
        )
        is None
    )
