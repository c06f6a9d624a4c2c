"""The oracle's corrections and smoothing: the text after the reflection phrase (Fix & Continue,
Fresh & Restart) and the rewrite of a joined trajectory into one solver's voice.

All step text goes through `lemma.world.solution` (format and parse), so corrections read exactly
like reference solutions.
"""

from __future__ import annotations

import re

from lemma.teacher.oracle.judge import Finding, judge, step_ok
from lemma.teacher.oracle.model import WorldModel
from lemma.text.steps import split_steps
from lemma.world.solution import (
    AnswerLine,
    StepLine,
    format_answer,
    format_step,
    parse_line,
    solution_text,
    step_label,
    strip_label,
)

_MAX_ORDERS = 24


def plan_rest(model: WorldModel, computed: set[int], first: str | None = None, prefer_alt: bool = False) -> list[str]:
    """Keys of the steps still to do, given values already computed: `first` (if it can be done
    now), then any step whose inputs are ready and whose result is still needed, reference order."""
    have = set(computed)
    out: list[str] = []

    def ready(key: str) -> bool:
        n = model.nodes[key]
        return n.value not in have and all(not model.is_node(k) or model.value(k) in have for k in (n.a, n.b))

    def needed(key: str) -> bool:
        return needed_value(model.value(key), 0)

    def needed_value(v: int, depth: int) -> bool:
        # a value is needed while some step that uses it (up to the target) is not done; steps
        # are linked by value so a route of alt steps that ends on a reference value counts
        if v == model.target_value:
            return True
        if depth > len(model.nodes):
            return False
        users = [n for n in model.valid if v in model.operands(n) and n.value != v]
        return any(n.value not in have and needed_value(n.value, depth + 1) for n in users)

    if first is not None and model.is_node(first) and ready(first) and needed(first):
        out.append(first)
        have.add(model.value(first))
    order = (model.alt_keys + model.ref_keys) if prefer_alt else (model.ref_keys + model.alt_keys)
    while model.target_value not in have:
        nxt = next((k for k in order if ready(k) and needed(k)), None)
        if nxt is None:
            break
        out.append(nxt)
        have.add(model.value(nxt))
    return out


def rows_of(model: WorldModel, keys: list[str]) -> list[tuple[int, str, int, int]]:
    """(a, op, b, c) of each node, for lemma.world.solution.solution_text."""
    rows = []
    for k in keys:
        n = model.nodes[k]
        a, b = model.operands(n)
        rows.append((a, n.op, b, n.value))
    return rows


def _prefix_state(model: WorldModel, prefix: str, wrong_step: int) -> tuple[set[int], int]:
    """Values the attempt computed before its wrong step, and the number the next written step
    should carry (the wrong step's own "Step k" label when it has one)."""
    lines = split_steps(prefix, "world")
    computed: set[int] = set()
    last_label = 0
    for line in lines[: wrong_step - 1]:
        p = parse_line(line)
        if isinstance(p, StepLine) and step_ok(model, p, computed):
            computed.add(p.c)
        last_label = step_label(line) or last_label + 1
    wrong = lines[wrong_step - 1] if 0 < wrong_step <= len(lines) else ""
    p = parse_line(wrong)
    if isinstance(p, AnswerLine) or not wrong:
        return computed, last_label + 1
    return computed, step_label(wrong) or last_label + 1


def _finding_at(model: WorldModel, prefix: str, wrong_step: int) -> Finding | None:
    lines = split_steps(prefix, "world")
    f = judge(model, "\n".join(lines[:wrong_step])) if lines else None
    return f if f is not None and f.step == wrong_step else None


def fix_continue(model: WorldModel, prefix: str, wrong_step: int) -> str:
    computed, start = _prefix_state(model, prefix, wrong_step)
    f = _finding_at(model, prefix, wrong_step)
    note = f.note if f is not None else f"step {start} is wrong."
    keys = plan_rest(model, computed, f.expected if f is not None else None)
    return note + "\n" + solution_text(rows_of(model, keys), model.target_value, start)


def _orders(model: WorldModel) -> list[list[str]]:
    """Other valid ways through the reference steps: other topological orders of independent
    steps, then the other listed route (alt steps), each different from the reference order."""
    deps = {k: {d for d in (model.nodes[k].a, model.nodes[k].b) if d in model.ref_keys} for k in model.ref_keys}
    found: list[list[str]] = []

    def walk(done: list[str]):
        if len(found) >= _MAX_ORDERS:
            return
        if len(done) == len(model.ref_keys):
            if done != model.ref_keys:
                found.append(list(done))
            return
        for k in model.ref_keys:
            if k not in done and deps[k] <= set(done):
                walk(done + [k])

    walk([])
    alt = plan_rest(model, set(), prefer_alt=True)
    if alt != model.ref_keys and alt not in found and any(k in model.alt_keys for k in alt):
        found.append(alt)
    return found


def _sample_steps(model: WorldModel, sample: str | None) -> list[tuple[int, str, int, int]] | None:
    """The steps of a correct student sample, or None if it is not one."""
    if not sample:
        return None
    try:
        if judge(model, sample) is not None:
            return None
    except ValueError:
        return None
    rows = []
    computed: set[int] = set()
    for line in split_steps(sample, "world"):
        p = parse_line(line)
        if isinstance(p, StepLine):
            if not step_ok(model, p, computed):
                return None
            computed.add(p.c)
            rows.append((p.a, p.op, p.b, p.c))
        elif isinstance(p, AnswerLine):
            break
        else:
            return None
    return rows if rows and model.target_value in computed else None


def fresh_restart(model: WorldModel, correct_sample: str | None, sample_index: int) -> tuple[str, str]:
    """(continuation, source) where source is "sample", "reorder" or "reference"."""
    rows = _sample_steps(model, correct_sample)
    source = "sample"
    if rows is None:
        orders = _orders(model)
        keys, source = (orders[sample_index % len(orders)], "reorder") if orders else (model.ref_keys, "reference")
        rows = rows_of(model, keys)
    return "let me solve it again from the start.\n" + solution_text(rows, model.target_value), source


# -- smoothing ---------------------------------------------------------------------------------
def _merge(phrase: str, sentence: str) -> str:
    """One clean sentence from a reflection phrase and the first sentence that follows it."""
    phrase, sentence = phrase.strip(), sentence.strip()
    if not sentence:
        return phrase
    if phrase.endswith(("?", "!")):
        return f"{phrase} {sentence[0].upper()}{sentence[1:]}"
    return f"{phrase.rstrip('.… ')}: {sentence[0].lower()}{sentence[1:]}"


def smooth(model: WorldModel | None, trajectory: str) -> str:
    """Rewrite a joined trajectory so it reads as one solver thinking aloud:
    * whitespace normalised, one step per line;
    * steps numbered 1, 2, ... within each attempt (a restart starts again at 1, a fix goes on
      from the step it redoes), whatever numbers the student or teacher wrote;
    * the reflection phrase and the sentence after it merged into one sentence;
    * a wrong "The answer is" inside the attempt becomes "That gives N." so the text ends with
      exactly one answer line, the one of the corrected reasoning (checked against the last
      step when the trajectory has no answer line of its own)."""
    raw_lines = [re.sub(r"\s+", " ", ln).strip() for ln in trajectory.strip().splitlines()]
    raw_lines = [ln for ln in raw_lines if ln]
    out: list[str] = []
    number = 0
    final: int | None = None
    last_result: int | None = None
    answers = [i for i, ln in enumerate(raw_lines) if isinstance(parse_line(ln), AnswerLine)]
    last_answer = answers[-1] if answers else None
    for i, line in enumerate(raw_lines):
        p = parse_line(line)
        if isinstance(p, StepLine):
            label = p.label
            if label is not None and number and label <= number:
                number = label - 1  # the attempt goes back to redo a step: keep its number
            number += 1
            out.append(format_step(number, p.a, p.op, p.b, p.c))
            last_result = p.c
        elif isinstance(p, AnswerLine):
            if i == last_answer:
                final = p.value
            else:
                out.append(f"That gives {p.value}.")
        else:
            text = strip_label(line) if step_label(line) is not None else line
            # a reflection line: the phrase (first sentence) and what follows it
            m = re.match(r"^(.*?[.?!…])\s+(.+)$", text)
            if m and not out_has_reflection(out):
                text = _merge(m.group(1), m.group(2))
            if "restart" in text.lower() or "from the start" in text.lower():
                number = 0
            out.append(text)
    if final is None:
        final = last_result
    if final is None:
        raise ValueError("trajectory has no step and no answer")
    out.append(format_answer(final))
    return "\n".join(out)


def out_has_reflection(lines: list[str]) -> bool:
    return any(parse_line(ln) is None and not ln.startswith("That gives") for ln in lines)
