"""The oracle's view of one world problem: its `structure` JSON as a graph of keyed values, and
plans (ordered step lists) it can evaluate and write out as solution text.

Keys: "q3" a quantity of the question, "c60" a constant, "s1" a reference step, "a0" a step of
another valid route, "m0.1" step 1 of misreading 0, anything else a step a plan made up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from lemma.world.solution import apply_op, solution_text

COMMUTATIVE = frozenset("+*")
# A unit constant and the values a careless converter puts in its place.
UNIT_CONFUSIONS = {60: (100, 24), 100: (10, 1000), 12: (10, 6), 24: (12, 60), 7: (5, 10), 1000: (100, 10)}
UNIT_VALUES = frozenset(UNIT_CONFUSIONS) | frozenset(v for vs in UNIT_CONFUSIONS.values() for v in vs)


class StructureError(ValueError):
    """The structure JSON is missing or does not describe a world problem."""


@dataclass(frozen=True)
class Node:
    key: str
    op: str
    a: str
    b: str
    value: int
    kind: str = "plain"
    name: str = ""
    raw: str | None = None  # count steps: the key a careless counter uses instead


@dataclass(frozen=True)
class Misreading:
    type: str
    replace: str  # the reference node it computes wrongly
    keys: tuple[str, ...]
    note: str
    final: int


@dataclass(frozen=True)
class PlanStep:
    key: str
    op: str
    a: str
    b: str
    override: int | None = None  # a written result that differs from a op b (a slip)


def near_miss(y: int, x: int) -> bool:
    """y looks like a mis-copied x: same length (2+ digits) and either the same digits in
    another order or exactly one digit changed."""
    sy, sx = str(y), str(x)
    if y == x or y <= 0 or len(sx) < 2 or len(sy) != len(sx):
        return False
    return sorted(sy) == sorted(sx) or sum(p != q for p, q in zip(sy, sx)) == 1


def _key(ref: dict, mis: int | None = None) -> str:
    if "q" in ref:
        return f"q{ref['q']}"
    if "c" in ref:
        return f"c{ref['c']}"
    if "s" in ref:
        return f"s{ref['s']}"
    if "a" in ref:
        return f"a{ref['a']}"
    if "m" in ref and mis is not None:
        return f"m{mis}.{ref['m']}"
    raise StructureError(f"unknown reference {ref!r}")


class WorldModel:
    def __init__(self, structure: str | dict | None) -> None:
        if structure is None:
            raise StructureError("no structure")
        try:
            st = json.loads(structure) if isinstance(structure, str) else structure
            self.qvalues = [int(q["value"]) for q in st["quantities"]]
            self.qnames = [str(q.get("name", "")) for q in st["quantities"]]
            self.qused = [bool(q.get("used", True)) for q in st["quantities"]]
            self.constants = {
                int(c["value"]): (c.get("kind", "plain"), c.get("name", "")) for c in st.get("constants", [])
            }
            self.nodes: dict[str, Node] = {}
            self.ref_keys = [self._add(f"s{j}", s) for j, s in enumerate(st["steps"])]
            self.alt_keys = [self._add(f"a{k}", s) for k, s in enumerate(st.get("alt_steps", []))]
            self.misreadings = []
            for n, m in enumerate(st.get("misreadings", [])):
                keys = tuple(self._add(f"m{n}.{i}", s, mis=n) for i, s in enumerate(m["steps"]))
                self.misreadings.append(
                    Misreading(m["type"], f"s{m['replace']}", keys, m.get("note", ""), self.nodes[keys[-1]].value)
                )
            self.target = f"s{int(st['target'])}"
            self.alternatives = [f"s{int(j)}" for j in st.get("alternatives", [])]
            self.target_value = self.nodes[self.target].value
        except StructureError:
            raise
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
            raise StructureError(f"bad structure: {type(e).__name__}: {e}") from None
        self.valid = [self.nodes[k] for k in self.ref_keys + self.alt_keys]
        self.leaf_values = set(self.qvalues) | set(self.constants)
        self.all_values = self.leaf_values | {n.value for n in self.nodes.values()}

    def _add(self, key: str, s: dict, mis: int | None = None) -> str:
        raw = _key(s["raw"]) if s.get("raw") else None
        self.nodes[key] = Node(
            key,
            s["op"],
            _key(s["a"], mis),
            _key(s["b"], mis),
            int(s["result"]),
            s.get("kind", "plain"),
            s.get("name", ""),
            raw,
        )
        return key

    # -- values and names ----------------------------------------------------------------------
    def value(self, key: str) -> int:
        if key.startswith("q"):
            return self.qvalues[int(key[1:])]
        if key.startswith("c"):
            return int(key[1:])
        return self.nodes[key].value

    def name(self, key: str) -> str:
        if key.startswith("q"):
            return self.qnames[int(key[1:])]
        if key.startswith("c"):
            return self.constants.get(int(key[1:]), ("", f"the constant {key[1:]}"))[1]
        return self.nodes[key].name if key in self.nodes else "that value"

    def is_node(self, key: str) -> bool:
        return key in self.nodes

    def const_kind(self, key: str) -> str | None:
        return self.constants.get(int(key[1:]), ("plain",))[0] if key.startswith("c") else None

    def closure(self, key: str) -> set[int]:
        """Values the node is computed from, at any depth (a skipped step leaves one of these)."""
        out: set[int] = set()
        stack = [key]
        while stack:
            n = self.nodes.get(stack.pop())
            if n is None:
                continue
            for k in (n.a, n.b):
                out.add(self.value(k))
                stack.append(k)
        return out

    def operands(self, node: Node) -> tuple[int, int]:
        return self.value(node.a), self.value(node.b)

    def matches(self, node: Node, op: str, a: int, b: int) -> bool:
        va, vb = self.operands(node)
        return node.op == op and ((va, vb) == (a, b) or (op in COMMUTATIVE and (vb, va) == (a, b)))

    def any_sig(self, op: str, a: int, b: int, misreadings: bool = True) -> bool:
        nodes = self.valid + ([self.nodes[k] for m in self.misreadings for k in m.keys] if misreadings else [])
        return any(self.matches(n, op, a, b) for n in nodes)

    def same_pair(self, a: int, b: int) -> bool:
        """Some valid step works on exactly these two numbers (with some operator)."""
        return any(sorted(self.operands(n)) == sorted((a, b)) for n in self.valid)

    # -- plans --------------------------------------------------------------------------------
    def reference_plan(self) -> list[PlanStep]:
        return [PlanStep(k, self.nodes[k].op, self.nodes[k].a, self.nodes[k].b) for k in self.ref_keys]

    def evaluate(self, plan: list[PlanStep]) -> dict[str, int] | None:
        """Values of every plan step, or None when a step is not a positive integer."""
        values: dict[str, int] = {}

        def get(k: str) -> int:
            return values[k] if k in values else self.value(k)

        for st in plan:
            r = apply_op(st.op, get(st.a), get(st.b))
            if r is None or r <= 0:
                return None
            values[st.key] = st.override if st.override is not None else r
        return values

    def render(self, plan: list[PlanStep], answer_key: str, start: int = 1, answer: int | None = None) -> str | None:
        values = self.evaluate(plan)
        if values is None:
            return None
        get = lambda k: values[k] if k in values else self.value(k)  # noqa: E731
        rows = [(get(s.a), s.op, get(s.b), values[s.key]) for s in plan]
        return solution_text(rows, get(answer_key) if answer is None else answer, start)


def substitute(plan: list[PlanStep], old: str, new: str) -> list[PlanStep]:
    return [replace(s, a=new if s.a == old else s.a, b=new if s.b == old else s.b) for s in plan]


def prune(plan: list[PlanStep], answer_key: str) -> list[PlanStep]:
    """Only the steps the answer depends on, in plan order."""
    by_key = {s.key: s for s in plan}
    need, stack = set(), [answer_key]
    while stack:
        k = stack.pop()
        if k in by_key and k not in need:
            need.add(k)
            stack += [by_key[k].a, by_key[k].b]
    return [s for s in plan if s.key in need]


def consumers(plan: list[PlanStep], key: str) -> list[int]:
    return [i for i, s in enumerate(plan) if key in (s.a, s.b)]
