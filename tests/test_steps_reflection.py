import pytest

from lemma.reflection import join_trajectory, pick_phrase
from lemma.steps import number_steps, split_steps, truncate_after

SOL = "Step 1: 4 * 6 = 24\nStep 2: 50 - 24 = 26\nThe answer is: 26"


def test_world_steps_and_truncation():
    assert split_steps(SOL) == ["Step 1: 4 * 6 = 24", "Step 2: 50 - 24 = 26", "The answer is: 26"]
    assert truncate_after(SOL, 2) == "Step 1: 4 * 6 = 24\nStep 2: 50 - 24 = 26"
    with pytest.raises(ValueError, match="out of range"):
        truncate_after(SOL, 4)


def test_gsm8k_and_math_styles():
    gsm = "He buys 4 pens for 6 each. That is 24 dollars. So 50 - 24 = 26 is left.\n#### 26"
    assert split_steps(gsm, "gsm8k") == ["He buys 4 pens for 6 each.", "That is 24 dollars.", "So 50 - 24 = 26 is left.", "#### 26"]
    math = "Let $x=2$.\nThen $x^2 = 4$.\nSo the answer is $\\boxed{4}$."
    assert len(split_steps(math, "math")) == 3
    assert number_steps(gsm, "gsm8k").splitlines()[1] == "Step 2: That is 24 dollars."


def test_join_trajectory_keeps_prefix_exact_and_puts_phrase_on_its_own_step():
    prefix = truncate_after("Step 1: 4 * 6 = 24\nStep 2: 50 - 42 = 8\nThe answer is: 8", 2)
    t = join_trajectory(prefix + "\n", "Wait, that is not right.", "step 2 should subtract 24.\nStep 2: 50 - 24 = 26\nThe answer is: 26")
    assert t.startswith(prefix + "\nWait, that is not right. step 2 should")
    assert split_steps(t)[:2] == split_steps(prefix)
    assert t.endswith("The answer is: 26")
    with pytest.raises(ValueError):
        join_trajectory(prefix, "", "x")


def test_phrase_choice_is_stable_and_spread():
    phrases = [f"p{i}" for i in range(10)]
    assert pick_phrase(phrases, "a", 1) == pick_phrase(phrases, "a", 1)
    assert len({pick_phrase(phrases, "train-%d" % i, 0) for i in range(200)}) == 10


def test_training_references_get_one_answer_line():
    from lemma.pipeline.problems import with_answer_line

    assert with_answer_line("4 + 4 = 8.", "8") == "4 + 4 = 8.\nThe answer is: 8"
    assert with_answer_line("x\nThe answer is: 8", "8") == "x\nThe answer is: 8"
    assert with_answer_line(None, "8") is None
