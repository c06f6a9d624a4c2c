"""The oracle teacher: injected errors are found again (step and type), corrections reach the
reference answer, smoothing keeps it, bad rows are dropped with a reason."""

from __future__ import annotations

import re

import pytest

from lemma.teacher.base import (
    ClassifyRequest,
    CorrectRequest,
    InjectRequest,
    LocateRequest,
    ProblemView,
    SmoothRequest,
    TypeSpec,
)
from lemma.teacher.oracle import OracleTeacher
from lemma.text.reflection import join_trajectory
from lemma.text.steps import split_steps, truncate_after
from lemma.world.problems import generate_world
from lemma.world.solution import AnswerLine, StepLine, apply_op, final_answer, parse_line
from lemma.world.structure import Draw

TAXONOMY_NAMES = [
    "calculation_error",
    "counting_error",
    "context_value_error",
    "hallucination",
    "unit_conversion_error",
    "operator_error",
    "formula_confusion_error",
    "missing_step",
    "contradictory_step",
    "question_misinterpretation",
    "confusing_concept_error",
    "nonsensical_output",
]
TAXONOMY = [TypeSpec(n, f"definition of {n}") for n in TAXONOMY_NAMES]
PHRASE = "Wait, something is off here."


def view(row: dict) -> ProblemView:
    return ProblemView(row["id"], row["question"], row["solution"], row["answer"], row["structure"])


@pytest.fixture(scope="module")
def teacher():
    return OracleTeacher(seed=0)


@pytest.fixture(scope="module")
def train():
    return generate_world(21, 320, 0, 0)["train"]  # enough problems with a site for every type


@pytest.fixture(scope="module")
def injected(teacher, train):
    """type -> [(row, mistake)] for every problem that has a site for the type."""
    out = {}
    for t in teacher.supported_types():
        mistakes = teacher.inject_errors([InjectRequest(view(r), TypeSpec(t, ""), 0) for r in train])
        out[t] = [(r, m) for r, m in zip(train, mistakes) if m.solution is not None]
    return out


def test_world_answer_lines_are_whole_lines_of_one_integer():
    # the world reads the project's answer statement strictly (lemma.grading.extract): the line
    # must be nothing but the statement of an integer
    assert parse_line("The answer is: 1,204") == AnswerLine(1204)
    assert parse_line("the answer is $-3.") == AnswerLine(-3)
    assert parse_line("The answer is: 5 apples") is None
    assert parse_line("The answer is: 5. Wait, step 2 is wrong.") is None
    assert parse_line("So the answer is: 5") is None
    assert final_answer("Step 1: 2 + 3 = 5\nThe answer is: 5\nThat gives 5.\nThe answer is: 6") == 6


def test_supported_types_are_taxonomy_names(teacher):
    assert set(teacher.supported_types()) <= set(TAXONOMY_NAMES)
    assert len(teacher.supported_types()) >= 8


@pytest.mark.parametrize("error_type", OracleTeacher.supported_types())
def test_injected_error_is_located_and_classified_as_injected(teacher, injected, error_type):
    pairs = injected[error_type]
    assert len(pairs) >= 20, f"only {len(pairs)} problems with a site for {error_type}"
    views = [view(r) for r, _ in pairs]
    locs = teacher.locate_errors([LocateRequest(v, m.solution) for v, (_, m) in zip(views, pairs)])
    types = teacher.classify_errors([ClassifyRequest(v, m.solution) for v, (_, m) in zip(views, pairs)], TAXONOMY)
    agree = 0
    for (row, m), loc, lab in zip(pairs, locs, types):
        # a careless student's solution: a wrong final answer, every line still in the world format
        assert final_answer(m.solution) != int(row["answer"]), m.solution
        assert all(parse_line(line) is not None for line in split_steps(m.solution))
        assert m.explanation
        agree += loc.first_wrong_step == m.wrong_step and lab.error_type == error_type
    assert agree >= 0.95 * len(pairs), f"{error_type}: {agree}/{len(pairs)} found again"


def test_later_steps_follow_on_from_the_error(injected):
    """After the wrong step every step is arithmetically right and uses the wrong value onwards."""
    for t, pairs in injected.items():
        if t in ("calculation_error",):
            continue  # the slip itself is an arithmetic error; its followers are checked below
        for _, m in pairs[:30]:
            lines = split_steps(m.solution)
            for line in lines[m.wrong_step :]:
                p = parse_line(line)
                if isinstance(p, StepLine):
                    assert apply_op(p.op, p.a, p.b) == p.c, (t, m.solution)
    for _, m in injected["calculation_error"][:30]:
        lines = split_steps(m.solution)
        slip = parse_line(lines[m.wrong_step - 1])
        assert apply_op(slip.op, slip.a, slip.b) != slip.c
        later = [parse_line(x) for x in lines[m.wrong_step :]]
        steps = [p for p in later if isinstance(p, StepLine)]
        assert all(apply_op(p.op, p.a, p.b) == p.c for p in steps)


def test_sample_indices_give_different_mistakes_and_are_deterministic(teacher, train):
    row = next(r for r in train if r["n_steps"] >= 2)
    reqs = [InjectRequest(view(row), TypeSpec("calculation_error", ""), k) for k in range(3)]
    first = teacher.inject_errors(reqs)
    assert len({m.solution for m in first}) == 3
    assert OracleTeacher(seed=0).inject_errors(reqs) == first
    many = [InjectRequest(view(r), TypeSpec("calculation_error", ""), 0) for r in train[:40]]
    assert OracleTeacher(seed=1).inject_errors(many) != teacher.inject_errors(many)


def test_unservable_requests_are_dropped_with_a_reason(teacher, train):
    row = train[0]
    no_count = next(r for r in train if '"count"' not in r["structure"])
    bare = ProblemView("x", row["question"], row["solution"], row["answer"], None)
    out = teacher.inject_errors(
        [
            InjectRequest(view(row), TypeSpec("nonsensical_output", ""), 0),
            InjectRequest(view(row), TypeSpec("not_a_type", ""), 0),
            InjectRequest(view(no_count), TypeSpec("counting_error", ""), 0),
            InjectRequest(view(row), TypeSpec("calculation_error", ""), 999),
            InjectRequest(bare, TypeSpec("calculation_error", ""), 0),
        ]
    )
    assert [m.dropped for m in out] == [
        "type_unsupported:nonsensical_output",
        "type_unsupported:not_a_type",
        "no_site:counting_error",
        "no_site:calculation_error",
        "no_structure",
    ]
    assert all(m.solution is None for m in out)
    broken = ProblemView("y", row["question"], row["solution"], row["answer"], "{not json")
    assert teacher.locate_errors([LocateRequest(broken, "Step 1: 1 + 1 = 2")])[0].dropped == "bad_structure"
    assert teacher.fix_continue([CorrectRequest(bare, "x", 1, None, PHRASE)])[0].dropped == "no_structure"


def test_correct_solution_is_not_wrong_and_garbage_is_nonsensical(teacher, train):
    row = train[5]
    assert teacher.locate_errors([LocateRequest(view(row), row["solution"])])[0].dropped == "not_wrong"
    assert teacher.classify_errors([ClassifyRequest(view(row), row["solution"])], TAXONOMY)[0].dropped == "not_wrong"
    garbage = "the the apples apples 12 so"
    assert teacher.locate_errors([LocateRequest(view(row), garbage)])[0].first_wrong_step == 1
    label = teacher.classify_errors([ClassifyRequest(view(row), garbage)], TAXONOMY)[0]
    assert label.error_type == "nonsensical_output" and label.rationale


def test_classification_falls_back_to_the_closest_type_in_the_taxonomy(teacher, injected):
    row, m = injected["counting_error"][0]
    without = [t for t in TAXONOMY if t.name != "counting_error"]
    label = teacher.classify_errors([ClassifyRequest(view(row), m.solution)], without)[0]
    assert label.error_type == "calculation_error"
    only_calc = [TypeSpec("calculation_error", "")]
    label = teacher.classify_errors([ClassifyRequest(view(row), "nonsense here")], only_calc)[0]
    assert label.error_type is None and label.dropped == "type_not_in_taxonomy:nonsensical_output"


def _shop() -> ProblemView:
    """Mia buys 4 notebooks at $7 and 3 pens at $2, pays with $50; a 53-sticker distractor."""
    d = Draw()
    n, p = d.q(4, "notebooks"), d.q(7, "the price of a notebook")
    m, q = d.q(3, "pens"), d.q(2, "the price of a pen")
    d.q(53, "stickers", used=False)
    c1 = d.step("*", n, p, "the cost of the notebooks")
    c2 = d.step("*", m, q, "the cost of the pens")
    bill = d.q(50, "the bill")
    left = d.alt("-", bill, c1, "the money left")
    d.alt("-", left, c2, "the change")
    total = d.step("+", c1, c2, "the total cost")
    d.step("-", bill, total, "the change")
    d.alternative(total)
    d.check()
    q_text = "Mia buys 4 notebooks at $7 each and 3 pens at $2 each. She has 53 stickers. She pays with a $50 bill. How much change does she get?"
    return ProblemView("shop", q_text, d.solution(), str(d.answer()), d.structure_json())


RIGHT = "Step 1: 4 * 7 = 28\nStep 2: 3 * 2 = 6\nStep 3: 28 + 6 = 34\n"


@pytest.mark.parametrize(
    "solution, step, kind",
    [
        # another valid order and a commutative operand order are right; the wrong answer line is step 4
        (
            "Step 1: 3 * 2 = 6\nStep 2: 7 * 4 = 28\nStep 3: 28 + 6 = 34\nThe answer is: 34",
            4,
            "question_misinterpretation",
        ),
        # another valid route (take each cost off the bill), then a slip
        (
            "Step 1: 4 * 7 = 28\nStep 2: 50 - 28 = 22\nStep 3: 3 * 2 = 6\nStep 4: 22 - 6 = 15\nThe answer is: 15",
            4,
            "calculation_error",
        ),
        (
            "Step 1: 4 + 7 = 11\nStep 2: 3 * 2 = 6\nStep 3: 11 + 6 = 17\nStep 4: 50 - 17 = 33\nThe answer is: 33",
            1,
            "operator_error",
        ),
        (RIGHT + "Step 4: 53 - 34 = 19\nThe answer is: 19", 4, "context_value_error"),
        (RIGHT + "Step 4: 50 - 3 = 47\nThe answer is: 47", 4, "missing_step"),
        (
            "Step 1: 4 * 7 = 28\nStep 2: 3 * 2 = 6\nStep 3: 82 + 6 = 88\nStep 4: 88 - 50 = 38\nThe answer is: 38",
            3,
            "contradictory_step",
        ),
        ("Step 1: 4 * 7 = 28\nStep 2: 50 - 34 = 17\nThe answer is: 17", 2, "missing_step"),
        ("Step 1: 4 * 7 = 28\nStep 2: 28 + 9 = 37\nThe answer is: 37", 2, "hallucination"),
        (RIGHT + "Step 4: 50 - 34 = 16\nThe answer is: 19", 5, "contradictory_step"),
        ("Step 1: 4 * 7 = 28\nStep 2: 3 * 2 = 6", 2, "nonsensical_output"),
    ],
)
def test_hand_written_student_solutions(teacher, solution, step, kind):
    problem = _shop()
    assert problem.answer == "16"
    loc = teacher.locate_errors([LocateRequest(problem, solution)])[0]
    label = teacher.classify_errors([ClassifyRequest(problem, solution)], TAXONOMY)[0]
    assert (loc.first_wrong_step, label.error_type) == (step, kind), label.rationale


def test_miscopied_quantity_and_the_other_persons_number():
    d = Draw()
    a, b, g = d.q(53, "Tom's cards"), d.q(12, "Ann's cards"), d.q(17, "the gift")
    left = d.step("-", a, g, "Tom's cards now")
    d.misread(
        "question_misinterpretation", left, [("+", b, g, "Ann's cards now")], "counts Ann's cards instead of Tom's"
    )
    d.check()
    p = ProblemView(
        "t",
        "Tom has 53 cards and Ann has 12. Tom gives Ann 17 cards. How many cards does Tom have now?",
        d.solution(),
        str(d.answer()),
        d.structure_json(),
    )
    t = OracleTeacher()
    cases = {
        "Step 1: 35 - 17 = 18\nThe answer is: 18": "context_value_error",
        "Step 1: 12 - 17 = -5\nThe answer is: -5": "context_value_error",
        "Step 1: 12 + 17 = 29\nThe answer is: 29": "question_misinterpretation",
        "Step 1: 53 + 17 = 70\nThe answer is: 70": "operator_error",
    }
    labels = t.classify_errors([ClassifyRequest(p, s) for s in cases], TAXONOMY)
    assert [lab.error_type for lab in labels] == list(cases.values())
    assert "35" in labels[0].rationale and "53" in labels[0].rationale


def _corrections(teacher, injected, per_type=12):
    for t, pairs in injected.items():
        for k, (row, m) in enumerate(pairs[:per_type]):
            prefix = truncate_after(m.solution, m.wrong_step)
            yield row, m, CorrectRequest(view(row), prefix, m.wrong_step, t, PHRASE, sample_index=k)


def test_fix_continue_and_fresh_restart_end_with_the_reference_answer(teacher, injected):
    items = list(_corrections(teacher, injected))
    fixes = teacher.fix_continue([req for _, _, req in items])
    restarts = teacher.fresh_restart([req for _, _, req in items])
    for (row, _m, req), fix, restart in zip(items, fixes, restarts):
        for cont in (fix, restart):
            assert cont.dropped is None and cont.text
            joined = req.prefix + "\n" + req.phrase + " " + cont.text
            assert joined.endswith(f"The answer is: {row['answer']}")
            assert final_answer(joined) == int(row["answer"])
            for line in split_steps(cont.text)[1:]:
                p = parse_line(line)
                assert isinstance(p, (StepLine, AnswerLine)), line
                if isinstance(p, StepLine):
                    assert apply_op(p.op, p.a, p.b) == p.c
        assert restart.text.startswith("let me solve it again from the start.\nStep 1:")
        # the fix redoes the wrong step under the number it had
        wrong_line = split_steps(req.prefix)[-1]
        redo = re.match(r"Step (\d+):", split_steps(fix.text)[1]) if len(split_steps(fix.text)) > 1 else None
        if isinstance(parse_line(wrong_line), StepLine) and redo:
            assert int(redo.group(1)) == parse_line(wrong_line).label


def test_fix_continue_names_the_wrong_value(teacher):
    problem = _shop()
    prefix = RIGHT + "Step 4: 53 - 34 = 19"
    fix = teacher.fix_continue([CorrectRequest(problem, prefix, 4, None, PHRASE)])[0].text
    assert fix == "step 4 should use 50 (the bill), not 53.\nStep 4: 50 - 34 = 16\nThe answer is: 16"


def test_fresh_restart_uses_a_correct_sample_else_another_order(teacher):
    problem = _shop()
    prefix = "Step 1: 4 * 7 = 29"
    sample = "Step 1: 4 * 7 = 28\nStep 2: 50 - 28 = 22\nStep 3: 3 * 2 = 6\nStep 4: 22 - 6 = 16\nThe answer is: 16"
    with_sample = teacher.fresh_restart([CorrectRequest(problem, prefix, 1, None, PHRASE, correct_sample=sample)])[0]
    assert with_sample.text.split("\n")[1:] == sample.split("\n")
    assert with_sample.meta["source"] == "sample"
    wrong_sample = sample.replace("22 - 6 = 16\nThe answer is: 16", "22 - 6 = 15\nThe answer is: 15")
    assert wrong_sample != sample
    texts = {
        teacher.fresh_restart(
            [CorrectRequest(problem, prefix, 1, None, PHRASE, correct_sample=wrong_sample, sample_index=k)]
        )[0].text
        for k in range(3)
    }
    assert problem.solution not in {t.split("\n", 1)[1] for t in texts}  # another way than the reference
    assert all(t.endswith("The answer is: 16") for t in texts)


def test_smooth_keeps_the_answer_and_cleans_the_trajectory(teacher, injected):
    items = list(_corrections(teacher, injected, per_type=6))
    for strategy in (teacher.fix_continue, teacher.fresh_restart):
        conts = strategy([req for _, _, req in items])
        reqs = [
            SmoothRequest(req.problem, join_trajectory(req.prefix, req.phrase, c.text))
            for (_, _, req), c in zip(items, conts)
        ]
        smoothed = teacher.smooth(reqs)
        assert teacher.smooth(reqs) == smoothed  # deterministic
        for (row, _, _), s in zip(items, smoothed):
            lines = s.text.split("\n")
            assert lines[-1] == f"The answer is: {row['answer']}"
            assert sum("The answer is" in ln for ln in lines) == 1
            assert PHRASE not in s.text and "Wait, something is off here:" in s.text  # merged into one sentence
            assert all(ln == ln.strip() and "  " not in ln for ln in lines)
            numbers = [int(m.group(1)) for m in (re.match(r"Step (\d+):", ln) for ln in lines) if m]
            for prev, nxt in zip(numbers, numbers[1:]):
                assert nxt == prev + 1 or nxt <= prev  # goes on, or goes back to redo/restart


def test_smooth_renumbers_steps_and_merges_the_phrase(teacher):
    problem = _shop()
    traj = (
        "4 * 7 = 28\nStep 7: 3 * 2 = 6\nStep 3: 28 + 6 = 35\nThe answer is: 15\n"
        "Hmm, that does not look right. step 3 should be 28 + 6 = 34.\n"
        "Step 3:   28 + 6 = 34\nStep 4: 50 - 34 = 16\nThe answer is: 16"
    )
    out = teacher.smooth([SmoothRequest(problem, traj)])[0].text
    assert out == (
        "Step 1: 4 * 7 = 28\nStep 2: 3 * 2 = 6\nStep 3: 28 + 6 = 35\nThat gives 15.\n"
        "Hmm, that does not look right: step 3 should be 28 + 6 = 34.\n"
        "Step 3: 28 + 6 = 34\nStep 4: 50 - 34 = 16\nThe answer is: 16"
    )
