"""Building one problem's computation and its `structure` JSON (read by the oracle teacher).

A problem is a small computation graph:
  * quantities: numbers stated in the question (`used` false for distractors);
  * constants: numbers the solver must know (60 minutes in an hour, the +1 of an inclusive
    count, 100 for a percentage), written inline as {"c": value, "kind": ..., "name": ...};
  * steps: `a op b = result` nodes whose operands are references {"q": i}, {"c": ...} or {"s": j}
    (an earlier step); `kind` is "plain", "convert" (uses a unit constant) or "count" (the
    adjustment that turns a difference into an inclusive/exclusive count; `raw` is the step or
    quantity a careless counter would use instead);
  * target: the step whose result is the answer (always the last step);
  * alternatives: steps whose result a misreader would give as the answer (the total instead of
    what is left);
  * alt_steps: other valid steps ({"a": k} refers to one) a solver may take on another valid route;
  * misreadings: typed wrong ways to compute one node ({"m": i} refers to an earlier step of the
    same misreading): the other person's count (question_misinterpretation), area for perimeter
    (formula_confusion_error), "25% off" as "$25 off" (confusing_concept_error).

`Draw` raises `BadDraw` for any draw the oracle could not judge unambiguously (repeated values,
inexact division, non-positive results); the generator simply draws again.
"""

from __future__ import annotations

import json

from lemma.world.solution import apply_op, solution_text

UNIT_CONSTANTS = (60, 100, 12, 24, 7, 1000)


class BadDraw(Exception):
    """This random draw makes an ambiguous or invalid problem; draw again."""


def const(value: int, kind: str, name: str) -> dict:
    return {"c": value, "kind": kind, "name": name}


class Draw:
    def __init__(self) -> None:
        self.quantities: list[dict] = []
        self.steps: list[dict] = []
        self.alt_steps: list[dict] = []
        self.misreadings: list[dict] = []
        self.alternatives: list[int] = []

    # -- references ---------------------------------------------------------------------------
    def q(self, value: int, name: str, used: bool | None = None) -> dict:
        """A number of the question. `used=False` declares a distractor (checked); otherwise
        `used` is whatever the reference steps make of it (the other person's count in a question
        about one person is stated but not needed)."""
        if value <= 0:
            raise BadDraw(f"quantity {name} must be positive, got {value}")
        self.quantities.append({"name": name, "value": int(value), "used": used})
        return {"q": len(self.quantities) - 1}

    def value(self, ref: dict, local: list[int] | None = None) -> int:
        if "q" in ref:
            return self.quantities[ref["q"]]["value"]
        if "c" in ref:
            return ref["c"]
        if "s" in ref:
            return self.steps[ref["s"]]["result"]
        if "a" in ref:
            return self.alt_steps[ref["a"]]["result"]
        if "m" in ref and local is not None:
            return local[ref["m"]]
        raise ValueError(f"bad reference {ref!r}")

    def _compute(self, op: str, a: dict, b: dict, local=None) -> int:
        r = apply_op(op, self.value(a, local), self.value(b, local))
        if r is None or r <= 0:
            raise BadDraw(f"{self.value(a, local)} {op} {self.value(b, local)} is not a positive integer")
        return r

    # -- nodes --------------------------------------------------------------------------------
    def step(self, op: str, a: dict, b: dict, name: str, kind: str = "plain", raw: dict | None = None) -> dict:
        node = {"op": op, "a": a, "b": b, "result": self._compute(op, a, b), "kind": kind, "name": name}
        if raw is not None:
            node["raw"] = raw
        self.steps.append(node)
        return {"s": len(self.steps) - 1}

    def alt(self, op: str, a: dict, b: dict, name: str) -> dict:
        self.alt_steps.append(
            {"op": op, "a": a, "b": b, "result": self._compute(op, a, b), "kind": "plain", "name": name}
        )
        return {"a": len(self.alt_steps) - 1}

    def misread(self, error_type: str, replace: dict, steps: list[tuple], note: str) -> None:
        """A typed wrong way to compute node `replace`; `steps` are (op, a, b, name) tuples."""
        local: list[int] = []
        out = []
        for op, a, b, name in steps:
            r = self._compute(op, a, b, local)
            local.append(r)
            out.append({"op": op, "a": a, "b": b, "result": r, "kind": "plain", "name": name})
        self.misreadings.append({"type": error_type, "replace": replace["s"], "steps": out, "note": note})

    def alternative(self, ref: dict) -> None:
        self.alternatives.append(ref["s"])

    # -- output -------------------------------------------------------------------------------
    def constants(self) -> list[dict]:
        seen: dict[int, dict] = {}
        for node in self.steps + self.alt_steps + [s for m in self.misreadings for s in m["steps"]]:
            for ref in (node["a"], node["b"]):
                if "c" in ref:
                    seen.setdefault(ref["c"], {"value": ref["c"], "kind": ref["kind"], "name": ref["name"]})
        return list(seen.values())

    def check(self) -> None:
        """Refuse draws whose numbers would make the oracle's judgement ambiguous."""
        qvals = [q["value"] for q in self.quantities]
        if len(set(qvals)) != len(qvals):
            raise BadDraw("two quantities share a value")
        cvals = {c["value"] for c in self.constants()}
        if cvals & set(qvals) or 1 in qvals:
            raise BadDraw("a quantity equals a constant")
        results = [s["result"] for s in self.steps]
        if len(set(results)) != len(results) or set(results) & (set(qvals) | cvals):
            raise BadDraw("a step result repeats another value")
        # another route may end on a reference value (that is its point), but its own
        # intermediate values must be new
        alts = [s["result"] for s in self.alt_steps]
        if len(set(alts)) != len(alts) or set(alts) & (set(qvals) | cvals):
            raise BadDraw("an alternative-route result repeats another value")
        if any(q["used"] is False and u for q, u in zip(self.quantities, self._used())):
            raise BadDraw("a quantity declared a distractor is used by the steps")
        target = self.steps[-1]["result"]
        ref_sigs = {(s["op"], self.value(s["a"]), self.value(s["b"])) for s in self.steps + self.alt_steps}
        for m in self.misreadings:
            local = [s["result"] for s in m["steps"]]
            for s in m["steps"]:
                sig = (s["op"], self.value(s["a"], local), self.value(s["b"], local))
                if sig in ref_sigs or (s["op"] in "+*" and (sig[0], sig[2], sig[1]) in ref_sigs):
                    raise BadDraw("a misreading step is also a valid step")
            if m["replace"] == len(self.steps) - 1 and local[-1] == target:
                raise BadDraw("a misreading gives the right answer")
        for j in self.alternatives:
            if self.steps[j]["result"] == target:
                raise BadDraw("an alternative equals the answer")

    def _used(self) -> list[bool]:
        used = {ref["q"] for s in self.steps + self.alt_steps for ref in (s["a"], s["b"]) if "q" in ref}
        return [i in used for i in range(len(self.quantities))]

    def structure(self) -> dict:
        return {
            "version": 1,
            "quantities": [{**q, "used": u} for q, u in zip(self.quantities, self._used())],
            "constants": self.constants(),
            "steps": self.steps,
            "target": len(self.steps) - 1,
            "alternatives": self.alternatives,
            "alt_steps": self.alt_steps,
            "misreadings": self.misreadings,
        }

    def solution(self) -> str:
        rows = [(self.value(s["a"]), s["op"], self.value(s["b"]), s["result"]) for s in self.steps]
        return solution_text(rows, self.steps[-1]["result"])

    def answer(self) -> int:
        return self.steps[-1]["result"]

    def structure_json(self) -> str:
        return json.dumps(self.structure(), sort_keys=True, separators=(",", ":"))
