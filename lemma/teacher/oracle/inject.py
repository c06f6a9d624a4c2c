"""The oracle's "careless student": every way one error of a given type can be put into a world
problem's reference solution, each continued consistently (later steps use the wrong value) to a
wrong final answer.

`options(model, type)` lists them; the teacher picks one per sample index. A site is offered only
when the error reads unambiguously as its type (the wrong number is not also some other
legitimate value of the problem), the way a careful human writer of such examples would check.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from lemma.teacher.oracle.model import (
    UNIT_CONFUSIONS,
    UNIT_VALUES,
    PlanStep,
    WorldModel,
    consumers,
    near_miss,
    prune,
    substitute,
)
from lemma.world.solution import apply_op

SUPPORTED = (
    "calculation_error",
    "operator_error",
    "context_value_error",
    "missing_step",
    "question_misinterpretation",
    "counting_error",
    "unit_conversion_error",
    "contradictory_step",
    "hallucination",
    "formula_confusion_error",
    "confusing_concept_error",
)
OP_SWAPS = {"+": ("-", "*"), "-": ("+",), "*": ("+", "/"), "/": ("*", "-")}


@dataclass(frozen=True)
class Option:
    solution: str
    wrong_step: int  # 1-based, the answer line counting as a step
    explanation: str


def _finish(
    model: WorldModel, plan: list[PlanStep], answer_key: str, wrong_step: int, why: str, answer: int | None = None
) -> Option | None:
    values = model.evaluate(plan)
    if values is None:
        return None
    final = answer if answer is not None else (values[answer_key] if answer_key in values else model.value(answer_key))
    if final == model.target_value:
        return None
    text = model.render(plan, answer_key, answer=answer)
    return Option(text, wrong_step, why) if text else None


def _vals(model: WorldModel, plan: list[PlanStep], i: int) -> tuple[int, int] | None:
    values = model.evaluate(plan[:i])
    if values is None:
        return None
    get = lambda k: values[k] if k in values else model.value(k)  # noqa: E731
    return get(plan[i].a), get(plan[i].b)


def _clean(model: WorldModel, op: str, a: int, b: int, intended: str | None) -> bool:
    """The written step is not a valid or misread step, not a valid step's numbers with another
    operator, and shares an operand with no valid step of the same operator other than `intended`
    (else a reader could not tell which step it was meant to be)."""
    if model.any_sig(op, a, b) or model.same_pair(a, b):
        return False
    for n in model.valid:
        if n.key == intended or n.op != op:
            continue
        va, vb = model.operands(n)
        if {va, vb} & {a, b}:
            return False
    return True


def _with_step(model: WorldModel, plan: list[PlanStep], i: int, new: PlanStep, why: str) -> Option | None:
    """The plan with step i written as `new` (the error sits in that step), continued to its answer."""
    return _finish(model, plan[:i] + [new] + plan[i + 1 :], model.target, i + 1, why)


def _operand_sites(plan: list[PlanStep]) -> Iterator[tuple[int, PlanStep, str, str]]:
    """Every operand a step reads: (step index, step, slot "a" or "b", the operand's key)."""
    for i, st in enumerate(plan):
        for slot in ("a", "b"):
            yield i, st, slot, getattr(st, slot)


def _miscopies(model: WorldModel, x: int) -> list[int]:
    """What a careless copy of x may give (digits reversed, off by one or by ten), kept only where
    it is no other value of the problem, so the slip reads as a miscopy of x."""
    slips = (int(str(x)[::-1]) if x >= 10 else 0, x + 1, x - 1, x + 10, x - 10)
    return [y for y in slips if near_miss(y, x) and y not in model.all_values]


def calculation(model: WorldModel) -> Iterator[Option | None]:
    plan = model.reference_plan()
    for i, st in enumerate(plan):
        a, b = model.operands(model.nodes[st.key])
        r = model.nodes[st.key].value
        wrong = [r + 1, r - 1, r + 10, r - 10, int(str(r)[::-1]) if r >= 10 else r + 2]
        if st.op == "*":
            wrong += [a * (b + 1), a * (b - 1)]
        for w in dict.fromkeys(wrong):
            if w > 0 and w != r:
                why = f"Step {i + 1} computes {a} {st.op} {b} as {w} instead of {r}."
                yield _with_step(model, plan, i, replace(st, override=w), why)


def operator(model: WorldModel) -> Iterator[Option | None]:
    plan = model.reference_plan()
    for i, st in enumerate(plan):
        a, b = model.operands(model.nodes[st.key])
        for op2 in OP_SWAPS[st.op]:
            r2 = apply_op(op2, a, b)
            if r2 is None or r2 <= 0 or model.any_sig(op2, a, b):
                continue
            why = f"Step {i + 1} uses {op2} instead of {st.op}: {a} {op2} {b} = {r2}."
            yield _with_step(model, plan, i, replace(st, op=op2), why)


def _swap_operand(model, plan, i, slot, new_key, why) -> Option | None:
    st = plan[i]
    new = replace(st, **{slot: new_key})
    vals = _vals(model, plan[:i] + [new], i)
    if vals is None or not _clean(model, st.op, vals[0], vals[1], st.key):
        return None
    return _with_step(model, plan, i, new, why)


def _extra_q(model: WorldModel, value: int) -> str:
    """A key for a number that is not a quantity of the problem (a plan may write any number)."""
    return f"c{value}"


def context_value(model: WorldModel) -> Iterator[Option | None]:
    plan = model.reference_plan()
    for i, _st, slot, key in _operand_sites(plan):
        if not key.startswith("q"):
            continue
        x = model.value(key)
        others = [f"q{j}" for j, v in enumerate(model.qvalues) if v != x and not model.qused[j]]
        others += [f"q{j}" for j, v in enumerate(model.qvalues) if v != x and model.qused[j]]
        for k in others:
            why = f"Step {i + 1} uses {model.value(k)} ({model.name(k)}) instead of {x} ({model.name(key)})."
            yield _swap_operand(model, plan, i, slot, k, why)
        for y in _miscopies(model, x):
            why = f"Step {i + 1} copies {model.name(key)} as {y} instead of {x}."
            yield _swap_operand(model, plan, i, slot, _extra_q(model, y), why)


def _skip_step(plan: list[PlanStep], i: int, stand_in: str) -> tuple[list[PlanStep], list[int]]:
    """The plan without step i, later steps reading `stand_in` where they read its result; and
    which steps from i on now read `stand_in`."""
    rest = substitute(plan[:i] + plan[i + 1 :], plan[i].key, stand_in)
    return rest, [j for j in consumers(rest, stand_in) if j >= i]


def missing_step(model: WorldModel) -> Iterator[Option | None]:
    plan = model.reference_plan()
    for i, st in enumerate(plan):
        node = model.nodes[st.key]
        if st.key == model.target or node.kind == "count":
            continue
        for o in (st.a, st.b):
            if o.startswith("c") or model.value(o) == node.value:
                continue
            rest, users = _skip_step(plan, i, o)
            if not users:
                continue
            j = users[0]
            vals = _vals(model, rest, j)
            if vals is None or not _clean(model, rest[j].op, vals[0], vals[1], rest[j].key):
                continue
            yield _finish(
                model,
                rest,
                model.target,
                j + 1,
                f"The step for {node.name} ({model.value(st.a)} {st.op} {model.value(st.b)} = {node.value}) "
                f"is skipped; step {j + 1} uses {model.value(o)} in its place.",
            )


def _misread_plan(model: WorldModel, m) -> tuple[list[PlanStep], int] | None:
    plan = model.reference_plan()
    pos = next(i for i, s in enumerate(plan) if s.key == m.replace)
    new = [PlanStep(k, model.nodes[k].op, model.nodes[k].a, model.nodes[k].b) for k in m.keys]
    rest = substitute(plan[pos + 1 :], m.replace, m.keys[-1])
    answer = m.keys[-1] if m.replace == model.target else model.target
    full = prune(plan[:pos] + new + rest, answer)
    first = next(i for i, s in enumerate(full) if s.key in m.keys)
    return full, first


def misreadings(model: WorldModel, kind: str) -> Iterator[Option | None]:
    for m in model.misreadings:
        if m.type != kind:
            continue
        full, first = _misread_plan(model, m)
        answer = m.keys[-1] if m.replace == model.target else model.target
        yield _finish(model, full, answer, first + 1, f"Step {first + 1} {m.note}.")
    if kind == "question_misinterpretation":
        for k in model.alternatives:
            sub = prune(model.reference_plan(), k)
            yield _finish(
                model,
                sub,
                k,
                len(sub) + 1,
                f"The answer gives {model.name(k)} ({model.value(k)}) instead of {model.name(model.target)}.",
            )


def counting(model: WorldModel) -> Iterator[Option | None]:
    plan = model.reference_plan()
    for i, st in enumerate(plan):
        node = model.nodes[st.key]
        if node.kind != "count" or not node.raw:
            continue
        rest, users = _skip_step(plan, i, node.raw)
        if st.key == model.target:
            rest = prune(rest, node.raw)
            yield _finish(
                model,
                rest,
                node.raw,
                len(rest) + 1,
                f"The count of {node.name} is off by one: {model.value(node.raw)} instead of {node.value}.",
            )
            continue
        if users:
            yield _finish(
                model,
                rest,
                model.target,
                users[0] + 1,
                f"Step {users[0] + 1} counts {node.name} as {model.value(node.raw)} instead of {node.value} (off by one).",
            )


def unit_conversion(model: WorldModel) -> Iterator[Option | None]:
    plan = model.reference_plan()
    for i, st, slot, key in _operand_sites(plan):
        if model.const_kind(key) != "unit":
            continue
        x = model.value(key)
        for y in UNIT_CONFUSIONS.get(x, ()):
            why = f"Step {i + 1} uses {y} for {model.name(key)} instead of {x}."
            yield _with_step(model, plan, i, replace(st, **{slot: f"c{y}"}), why)


def contradictory(model: WorldModel) -> Iterator[Option | None]:
    plan = model.reference_plan()
    for i, _st, slot, key in _operand_sites(plan):
        node = model.nodes.get(key)
        if node is None or node.kind == "count":
            continue
        x = node.value
        for y in _miscopies(model, x):
            why = f"Step {i + 1} uses {y} for {node.name}, but an earlier step found {x}."
            yield _swap_operand(model, plan, i, slot, f"c{y}", why)
    t = model.target_value
    if model.nodes[model.target].kind != "count":
        for y in _miscopies(model, t):
            why = f"The answer line says {y}, but the last step found {t}."
            yield _finish(model, plan, model.target, len(plan) + 1, why, answer=y)


def hallucination(model: WorldModel) -> Iterator[Option | None]:
    plan = model.reference_plan()
    known = model.all_values
    made_up = [
        h
        for h in range(2, 100)
        if h not in known
        and h not in UNIT_VALUES
        and h - 1 not in known
        and h + 1 not in known
        and not any(near_miss(h, v) for v in known)
    ]
    if not made_up:
        return
    for i, st in enumerate(plan):
        x = model.nodes[st.key].value
        for n, op in enumerate(("+", "-")):
            # spread the made-up numbers over the small ones a student might invent
            h = made_up[(3 * i + 5 * n + model.target_value) % min(len(made_up), 12)]
            if op == "-" and x - h <= 0:
                continue
            new = PlanStep(f"h{i}", op, st.key, f"c{h}")
            rest = substitute(plan[i + 1 :], st.key, new.key)
            answer = new.key if st.key == model.target else model.target
            what = "adds" if op == "+" else "takes away"
            yield _finish(
                model,
                plan[: i + 1] + [new] + rest,
                answer,
                i + 2,
                f"Step {i + 2} {what} {h}, a number the problem never mentions.",
            )


def options(model: WorldModel, kind: str) -> list[Option]:
    """Every distinct injection of `kind` into this problem (empty when it has no site)."""
    makers = {
        "calculation_error": calculation,
        "operator_error": operator,
        "context_value_error": context_value,
        "missing_step": missing_step,
        "counting_error": counting,
        "unit_conversion_error": unit_conversion,
        "contradictory_step": contradictory,
        "hallucination": hallucination,
    }
    found = makers[kind](model) if kind in makers else misreadings(model, kind)
    seen, out = set(), []
    for o in found:
        if o is not None and o.solution not in seen:
            seen.add(o.solution)
            out.append(o)
    return out
