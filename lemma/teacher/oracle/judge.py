"""The oracle's judge: find the first wrong step of a world solution and say what kind of error
it is, by re-computing every step against the problem's structure.

A step is right when its two numbers are legitimate (a quantity of the question, a constant, or
the result of an earlier right step), the operation is one a valid solution takes (any order of
independent steps, either order of a commutative operation, another listed valid route) and the
arithmetic holds. The answer line is right when it states the asked quantity.

The type of a wrong step is read off what it did instead, most specific pattern first: right
operands with a wrong result (calculation), a known misreading of the problem (its type), the
right numbers with another operator, one number swapped for another (off-by-one count, wrong unit
constant, a skipped step's input, a mis-copied earlier result, another number of the question, a
number from nowhere), and so on.
"""

from __future__ import annotations

from dataclasses import dataclass

from lemma.teacher.oracle.model import UNIT_CONFUSIONS, UNIT_VALUES, WorldModel, near_miss
from lemma.text.steps import split_steps
from lemma.world.solution import AnswerLine, StepLine, apply_op, final_answer, parse_line, step_label


@dataclass(frozen=True)
class Finding:
    step: int  # 1-based index of the first wrong step (split_steps, "world" style)
    type: str  # a taxonomy name
    rationale: str  # for the judge's answer: "Step 2 computes 7 * 8 as 54; it is 56."
    note: str  # for a correction, lower case: "7 * 8 is 56, not 54."
    expected: str | None = None  # the node the step should have computed, if known
    label: int | None = None  # the "Step k" number written on that line
    is_answer: bool = False


def _ready(model: WorldModel, key: str, computed: set[int]) -> bool:
    return not model.is_node(key) or model.value(key) in computed


def step_ok(model: WorldModel, p: StepLine, computed: set[int]) -> bool:
    if apply_op(p.op, p.a, p.b) != p.c:
        return False
    return any(
        model.matches(n, p.op, p.a, p.b) and _ready(model, n.a, computed) and _ready(model, n.b, computed)
        for n in model.valid
    )


def judge(model: WorldModel, text: str) -> Finding | None:
    """The first wrong step of `text`, or None when its final answer is right.
    Raises ValueError on an empty text (there is no step to point at)."""
    lines = split_steps(text, "world")
    if not lines:
        raise ValueError("empty solution")
    if final_answer(text) == model.target_value:
        return None
    computed: set[int] = set()
    for i, line in enumerate(lines, 1):
        p = parse_line(line)
        label = step_label(line)
        if p is None:
            short = line if len(line) <= 40 else line[:37] + "..."
            return Finding(
                i,
                "nonsensical_output",
                f"Step {i} is neither a calculation nor an answer: {short!r}.",
                f"step {i} does not make sense.",
                label=label,
            )
        if isinstance(p, AnswerLine):
            if p.value == model.target_value:
                continue
            return _answer(model, i, p.value, computed)
        if step_ok(model, p, computed):
            computed.add(p.c)
            continue
        return _step(model, i, p, computed, label)
    return Finding(
        len(lines),
        "nonsensical_output",
        "The solution never states a final answer.",
        "the solution has no final answer.",
        label=step_label(lines[-1]),
    )


def _answer(model: WorldModel, i: int, v: int, computed: set[int]) -> Finding:
    t, tname = model.target_value, model.name(model.target)
    target = model.nodes[model.target]

    def f(kind: str, rationale: str, note: str) -> Finding:
        return Finding(i, kind, rationale, note, None, None, True)

    if target.kind == "count" and target.raw and v == model.value(target.raw):
        return f(
            "counting_error",
            f"The answer {v} is off by one: {tname} is {t}.",
            f"{tname} is {t}, not {v}; the count was off by one.",
        )
    for k in model.alternatives:
        if model.value(k) == v:
            return f(
                "question_misinterpretation",
                f"The answer gives {model.name(k)} ({v}), but the question asks for {tname} ({t}).",
                f"the question asks for {tname}, not {model.name(k)}.",
            )
    for m in model.misreadings:
        if m.replace == model.target and m.final == v:
            return f(m.type, f"The answer {v} {m.note}; the question asks for {tname} ({t}).", f"the answer {m.note}.")
    if v in computed:
        if t in computed:
            return f(
                "question_misinterpretation",
                f"The answer states {v}, but the question asks for {tname} ({t}).",
                f"the question asks for {tname}, not {v}.",
            )
        return f(
            "missing_step",
            f"The answer stops at {v}; the steps that give {tname} are missing.",
            f"{v} is not yet {tname}; a step is missing.",
        )
    if v in model.qvalues:
        return f(
            "question_misinterpretation",
            f"The answer repeats {v} from the question; it asks for {tname} ({t}).",
            f"the question asks for {tname}, not {v}.",
        )
    if near_miss(v, t) or t in computed:
        return f(
            "contradictory_step", f"The answer says {v}, but the steps found {t}.", f"the steps found {t}, not {v}."
        )
    return f("hallucination", f"The answer {v} does not follow from any step.", f"{v} does not follow from the steps.")


def _swap_type(model: WorldModel, x_key: str, y: int, computed: set[int]) -> tuple[int, str]:
    """(rank, type) of using y where the step needed the value of x_key; lower rank wins."""
    x = model.value(x_key)
    node = model.nodes.get(x_key)
    if node is not None and node.kind == "count" and node.raw and y == model.value(node.raw):
        return 0, "counting_error"
    if model.const_kind(x_key) == "unit" and (y in UNIT_VALUES or y in UNIT_CONFUSIONS.get(x, ())):
        return 1, "unit_conversion_error"
    if node is not None and y in model.closure(x_key):
        return 2, "missing_step"
    if near_miss(y, x):
        if node is not None and x in computed:
            return 3, "contradictory_step"
        if node is None:
            return 3, "unit_conversion_error" if model.const_kind(x_key) == "unit" else "context_value_error"
    if y in model.qvalues:
        return 4, "context_value_error"
    if y in computed:
        return 5, "context_value_error"
    return 6, "hallucination"


def _step(model: WorldModel, i: int, p: StepLine, computed: set[int], label: int | None) -> Finding:
    expr = f"{p.a} {p.op} {p.b}"
    r = apply_op(p.op, p.a, p.b)
    # 1. a valid step: either an operand was never computed, or the arithmetic is wrong
    for n in model.valid:
        if model.matches(n, p.op, p.a, p.b):
            missing = [k for k in (n.a, n.b) if not _ready(model, k, computed)]
            if missing:
                k = missing[0]
                return Finding(
                    i,
                    "missing_step",
                    f"Step {i} uses {model.value(k)} ({model.name(k)}) before any step computes it.",
                    f"{model.name(k)} ({model.value(k)}) has to be worked out first.",
                    k,
                    label,
                )
            right = "not a whole number" if r is None else str(r)
            return Finding(
                i,
                "calculation_error",
                f"Step {i} computes {expr} as {p.c}; it is {right}.",
                f"{expr} is {right}, not {p.c}.",
                n.key,
                label,
            )
    # 2. a known misreading of the problem
    for m in model.misreadings:
        for k in m.keys:
            if model.matches(model.nodes[k], p.op, p.a, p.b):
                return Finding(
                    i,
                    m.type,
                    f"Step {i} {m.note}: {expr} does not give {model.name(m.replace)}.",
                    f"step {label or i} {m.note}.",
                    None,
                    label,
                )
    # 3. the right numbers with another operator (or the operands of - or / reversed)
    for n in model.valid:
        va, vb = model.operands(n)
        if sorted((va, vb)) == sorted((p.a, p.b)) and _ready(model, n.a, computed) and _ready(model, n.b, computed):
            return Finding(
                i,
                "operator_error",
                f"Step {i} computes {expr}; it should be {va} {n.op} {vb} = {n.value} ({model.name(n.key)}).",
                f"{model.name(n.key)} is {va} {n.op} {vb}, not {expr}.",
                n.key,
                label,
            )
    # 4. one operand right, the other swapped for something else
    best = None
    for n in model.valid:
        if n.op != p.op:
            continue
        va, vb = model.operands(n)
        pairs = [(va, p.a, n.b, p.b), (vb, p.b, n.a, p.a)]
        if p.op in "+*":
            pairs += [(va, p.b, n.b, p.a), (vb, p.a, n.a, p.b)]
        for kept, written, x_key, y in pairs:
            if kept == written and model.value(x_key) != y:
                rank, kind = _swap_type(model, x_key, y, computed)
                if best is None or rank < best[0]:
                    best = (rank, kind, n, x_key, y)
    if best is not None:
        _, kind, n, x_key, y = best
        x, xname = model.value(x_key), model.name(x_key)
        why = {
            "counting_error": f"Step {i} uses {y} for {xname}, but the count is {x} (off by one).",
            "unit_conversion_error": f"Step {i} uses {y} for {xname}; it is {x}.",
            "missing_step": f"Step {i} uses {y} where {xname} ({x}) is needed; the step that computes it is missing.",
            "contradictory_step": f"Step {i} uses {y} for {xname}, but an earlier step found {x}.",
            "context_value_error": f"Step {i} uses {y} where the question gives {x} ({xname}).",
            "hallucination": f"Step {i} uses {y}, a number that is not in the problem; it needs {xname} ({x}).",
        }[kind]
        note = f"step {label or i} should use {x} ({xname}), not {y}."
        return Finding(i, kind, why, note, n.key, label)
    # 5. nothing like any valid step
    for y in (p.a, p.b):
        if y not in model.leaf_values and y not in computed:
            if any(near_miss(y, q) for q in model.qvalues):
                q = next(q for q in model.qvalues if near_miss(y, q))
                return Finding(
                    i,
                    "context_value_error",
                    f"Step {i} uses {y}; the question says {q}.",
                    f"the question says {q}, not {y}.",
                    None,
                    label,
                )
            return Finding(
                i,
                "hallucination",
                f"Step {i} uses {y}, a number that is not in the problem.",
                f"step {label or i} uses {y}, which the problem never gives, so that step does not belong.",
                None,
                label,
            )
    return Finding(
        i,
        "formula_confusion_error",
        f"Step {i} computes {expr}, which the problem does not call for.",
        f"{expr} is not what the problem needs.",
        None,
        label,
    )
