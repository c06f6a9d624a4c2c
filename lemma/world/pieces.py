"""What the built-in world's problem families are drawn from: the shift from the training
distribution (`Shift`: bigger numbers, longer variants), people, items, things and distractor
sentences, number ranges (`Nums`), and the writing of a question from its parts."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from lemma.world.structure import Draw

SHIFT_AXES = ("numbers", "longer")


@dataclass(frozen=True)
class Shift:
    """A split's departure from the training distribution; Shift() is train and test."""

    numbers: bool = False
    longer: bool = False

    @classmethod
    def of(cls, axes: Sequence[str]) -> Shift:
        unknown = set(axes) - set(SHIFT_AXES)
        if unknown:
            raise ValueError(f"unknown shift axes {sorted(unknown)}; known: {list(SHIFT_AXES)}")
        return cls(numbers="numbers" in axes, longer="longer" in axes)


@dataclass(frozen=True)
class Person:
    name: str
    she: str
    her: str


PEOPLE = [
    Person(n, "she", "her") for n in ("Mia", "Ava", "Zoe", "Lily", "Nora", "Ruby", "Ivy", "Emma", "Lena", "Sara")
] + [Person(n, "he", "his") for n in ("Leo", "Sam", "Ben", "Max", "Owen", "Eli", "Jack", "Noah", "Omar", "Tom")]
SHOP_ITEMS = [
    ("notebooks", "notebook"),
    ("pens", "pen"),
    ("apples", "apple"),
    ("books", "book"),
    ("cups", "cup"),
    ("toy cars", "toy car"),
    ("candles", "candle"),
    ("plates", "plate"),
]
THINGS = ["stickers", "marbles", "cards", "shells", "stamps", "coins", "beads"]
FOODS = ["cookies", "cupcakes", "muffins", "apples", "candies"]
DISTRACTORS = [
    "{p} is {d} years old.",
    "The shop is {d} minutes from home.",
    "There are {d} people in the line.",
    "{p} has {d} pencils in a bag.",
    "Last week {p} read {d} pages.",
]


# Number ranges, calibrated so the default tiny student solves about half of its training problems
# (docs/world-study.md, "Calibration"): its errors are arithmetic, so the in-distribution operands
# stay small; shifted operands run from the upper half of a family's range to twice it.
IN_DIST_MAX = 25
OOD_SCALE = 2
OOD_MAX = 100


class Nums:
    """Number ranges: in-distribution as a family gives them, capped at IN_DIST_MAX; shifted
    (`shifted`: the split's numbers axis) from half the family's upper bound to OOD_SCALE times it
    (at most OOD_MAX)."""

    def __init__(self, rng: random.Random, shifted: bool) -> None:
        self.rng, self.shifted = rng, shifted

    def n(self, lo: int, hi: int) -> int:
        if self.shifted:
            lo, hi = max(lo, hi // 2), min(OOD_MAX, max(hi * OOD_SCALE, lo + 1))
        else:
            hi = min(hi, max(lo, IN_DIST_MAX))
        return self.rng.randint(lo, max(lo, hi))


def people(rng: random.Random, k: int) -> list[Person]:
    return rng.sample(PEOPLE, k)


def join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def ask(
    facts: list[str], ask: str, d: Draw, rng: random.Random, p: Person, chance: float = 0.3, extra: tuple | None = None
) -> str:
    """The question text; sometimes with a distractor sentence whose number the solution never uses.
    `extra` = (ref, sentence, op): one more step `ref op x` told by `sentence` before the question."""
    if extra is not None:
        ref, sentence, op = extra
        x = Nums(rng, True).n(3, 20)
        d.step(op, ref, d.q(x, "the extra amount"), "the final amount")
        facts = facts + [sentence.format(she=p.she, She=p.she.capitalize(), name=p.name, x=x)]
    if rng.random() < chance:
        value = rng.randint(3, 60)
        d.q(value, "a distractor", used=False)
        # a distractor must not be about what the question counts ("read in all" and pages read last week)
        options = [
            t for t in DISTRACTORS if not any(w in ask for w in t.rstrip(".").split() if len(w) > 4 and w.isalpha())
        ]
        facts = facts + [rng.choice(options or DISTRACTORS).format(p=p.name, d=value)]
    return " ".join(facts + [ask])
