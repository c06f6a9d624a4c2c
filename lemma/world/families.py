"""Problem families of the built-in world: each draws numbers, writes a short GSM8K-like question
and builds its computation (see lemma.world.structure).

A family is `fn(rng, shift) -> (question, Draw)`. `shift` says how the draw departs from the
training distribution, along two axes the out-of-distribution split can take, alone or together:
`numbers` (the operands a family draws through `Nums`, past the training range) and `longer` (the
family's longer variants: an extra item, leg or step, and bigger unit counts such as hours, dozens
or weeks, which a conversion multiplies). A family may raise BadDraw; the caller draws again.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from lemma.world.structure import BadDraw, Draw, const

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


def _people(rng: random.Random, k: int) -> list[Person]:
    return rng.sample(PEOPLE, k)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _ask(
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


def shopping(rng: random.Random, shift: Shift) -> tuple[str, Draw]:
    d, N, (p,) = Draw(), Nums(rng, shift.numbers), _people(rng, 1)
    k = rng.choice([2, 2, 3]) if shift.longer else rng.choice([1, 1, 2])
    parts, costs = [], []
    for plural, single in rng.sample(SHOP_ITEMS, k):
        n, price = N.n(2, 9), N.n(2, 15)
        qn, qp = d.q(n, f"{plural} bought"), d.q(price, f"the price of a {single}")
        costs.append(d.step("*", qn, qp, f"the cost of the {plural}"))
        parts.append(f"{n} {plural} at ${price} each")
    total = costs[0]
    for c in costs[1:]:
        total = d.step("+", total, c, "the total cost")
    facts = [f"{p.name} buys {_join(parts)}."]
    if rng.random() < (0.8 if shift.longer else 0.6):
        bill = next(b for b in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if b > d.value(total))
        qb = d.q(bill, "the bill")
        left = qb
        for c in costs[:-1]:  # another valid route: take each cost off the bill in turn
            left = d.alt("-", left, c, "the money left")
        if len(costs) > 1:
            d.alt("-", left, costs[-1], "the change")
        d.step("-", qb, total, "the change")
        d.alternative(total)
        facts.append(f"{p.she.capitalize()} pays with ${bill}.")
        ask = f"How much change does {p.she} get?"
    else:
        ask = f"How much does {p.she} spend in all?"
    return _ask(facts, ask, d, rng, p), d


def rate(rng: random.Random, shift: Shift) -> tuple[str, Draw]:
    d, N, (p,) = Draw(), Nums(rng, shift.numbers), _people(rng, 1)
    kind = rng.choice(["machine", "trip", "earn"])
    if kind == "machine":
        thing = rng.choice(["toys", "bottles", "boxes", "cans"])
        r, h = N.n(2, 12), rng.randint(2, 9 if shift.longer else 4)
        qr, qh = d.q(r, f"{thing} per minute"), d.q(h, "the hours")
        mins = _convert(d, qh, 60, "minutes in an hour", "the minutes")
        when = f"{h} hours"
        if shift.longer or rng.random() < 0.3:
            m = N.n(5, 50)
            if m >= 60:
                raise BadDraw("minutes must be under an hour")
            mins = d.step("+", mins, d.q(m, "the extra minutes"), "the total minutes")
            when = f"{h} hours and {m} minutes"
        d.step("*", mins, qr, f"the {thing} made")
        return _ask(
            [f"A machine makes {r} {thing} every minute."], f"How many {thing} does it make in {when}?", d, rng, p
        ), d
    if kind == "trip":
        v1, t1 = N.n(10, 50), rng.randint(2, 6)
        q1, qt1 = d.q(v1, "the first speed"), d.q(t1, "the first hours")
        d1 = d.step("*", q1, qt1, "the first distance")
        facts = [f"{p.name} drives at {v1} km per hour for {t1} hours"]
        legs = [d1]
        if shift.longer or rng.random() < 0.5:
            v2, t2 = N.n(10, 50), rng.randint(2, 6)
            q2, qt2 = d.q(v2, "the second speed"), d.q(t2, "the second hours")
            legs.append(d.step("*", q2, qt2, "the second distance"))
            facts[0] += f", then at {v2} km per hour for {t2} hours"
        facts[0] += "."
        dist = legs[0] if len(legs) == 1 else d.step("+", legs[0], legs[1], "the distance driven")
        if len(legs) == 1 or (shift.longer and rng.random() < 0.6):
            trip = d.value(dist) + N.n(5, 60)
            qtrip = d.q(trip, "the trip length")
            left = d.alt("-", qtrip, legs[0], "the distance left after the first part") if len(legs) > 1 else None
            if left is not None:
                d.alt("-", left, legs[1], "the distance left")
            d.step("-", qtrip, dist, "the distance left")
            d.alternative(dist)
            facts.insert(0, f"A trip is {trip} km long.")
            ask = "How many km are left?"
        else:
            ask = f"How far does {p.she} drive in all?"
        return _ask(facts, ask, d, rng, p), d
    w, h, days = N.n(5, 20), rng.randint(2, 8), rng.randint(2, 6)
    qw, qh, qd = d.q(w, "pay per hour"), d.q(h, "hours a day"), d.q(days, "the days")
    day = d.step("*", qw, qh, "a day's pay")
    hours = d.alt("*", qh, qd, "the hours worked")  # another valid route: hours first
    d.alt("*", hours, qw, "the pay")
    pay = d.step("*", day, qd, "the pay")
    facts = [f"{p.name} earns ${w} an hour and works {h} hours a day for {days} days."]
    if shift.longer or rng.random() < 0.4:
        spend = N.n(5, 40)
        facts.append(f"{p.she.capitalize()} spends ${spend} of it.")
        d.step("-", pay, d.q(spend, "the money spent"), "the money left")
        d.alternative(pay)
        ask = f"How much money does {p.she} have left?"
    else:
        ask = f"How much does {p.she} earn?"
    return _ask(facts, ask, d, rng, p), d


def sharing(rng: random.Random, shift: Shift) -> tuple[str, Draw]:
    d, N, (p,) = Draw(), Nums(rng, shift.numbers), _people(rng, 1)
    food = rng.choice(FOODS)
    kind = rng.choice(["share", "share_self", "give_each"])
    f = rng.randint(2, 9)
    if kind == "give_each":
        each, left = N.n(2, 12), N.n(2, 20)
        total = f * each + left
        qt, qf, qe = d.q(total, f"the {food}"), d.q(f, "the friends"), d.q(each, "the share of a friend")
        given = d.step("*", qf, qe, f"the {food} given away")
        d.step("-", qt, given, f"the {food} left")
        d.alternative(given)
        facts = [
            f"{p.name} has {total} {food}.",
            f"{p.she.capitalize()} gives {each} {food} to each of {p.her} {f} friends.",
        ]
        return _ask(facts, f"How many {food} are left?", d, rng, p), d
    each, keep = N.n(2, 12), N.n(2, 15)
    people = f + 1 if kind == "share_self" else f
    total = people * each + keep
    qt, qk, qf = d.q(total, f"the {food}"), d.q(keep, f"the {food} kept"), d.q(f, "the friends")
    rest = d.step("-", qt, qk, f"the {food} to share")
    among = f"among {p.her} {f} friends"
    if kind == "share_self":
        qf = d.step("+", qf, const(1, "count", p.name + " as well"), "the people sharing", kind="count", raw=qf)
        among = (
            f"between {p.her}self and {p.her} {f} friends" if p.her == "her" else f"between himself and his {f} friends"
        )
    share = d.step("/", rest, qf, "the share of each")
    d.alternative(rest)
    facts = [
        f"{p.name} bakes {total} {food} and keeps {keep}.",
        f"{p.she.capitalize()} shares the rest equally {among}.",
    ]
    ask = f"How many {food} does each {'person' if kind == 'share_self' else 'friend'} get?"
    if shift.longer:
        extra = N.n(2, 20)
        d.step("+", share, d.q(extra, "the extra bought"), "the final count of each")
        facts.append(f"Then each {'person' if kind == 'share_self' else 'friend'} buys {extra} more.")
        ask = f"How many {food} does each have now?"
    return _ask(facts, ask, d, rng, p), d


def _convert(d: Draw, amount, factor: int, per: str, result: str):
    """A unit-conversion step: `amount` (a quantity or an earlier step) times `factor` `per`
    ("minutes in an hour"), which the oracle knows as a conversion (its unit-conversion errors)."""
    return d.step("*", amount, const(factor, "unit", per), result, kind="convert")


UNIT_TEMPLATES = ["time", "rope", "eggs", "weeks", "rice", "days"]


def units(rng: random.Random, shift: Shift) -> tuple[str, Draw]:
    d, N, (p,) = Draw(), Nums(rng, shift.numbers), _people(rng, 1)
    kind = rng.choice(UNIT_TEMPLATES)
    if kind == "time":
        h, m = rng.randint(2, 12 if shift.longer else 5), rng.randint(5, 55)
        mins = _convert(d, d.q(h, "the hours"), 60, "minutes in an hour", "the minutes")
        total = d.step("+", mins, d.q(m, "the extra minutes"), "the practice time in minutes")
        facts = [f"{p.name} practices piano for {h} hours and {m} minutes."]
        ask = f"How many minutes does {p.she} practice?"
        if shift.longer or rng.random() < 0.25:
            days = rng.randint(2, 7)
            d.step("*", total, d.q(days, "the days"), "the minutes in all")
            facts[0] = facts[0][:-1] + f" every day for {days} days."
            ask = f"How many minutes does {p.she} practice in all?"
        extra = None
    elif kind == "rope":
        meters, cut = rng.randint(2, 9), N.n(5, 90)
        cm = _convert(d, d.q(meters, "the meters"), 100, "centimeters in a meter", "the length in cm")
        left = d.step("-", cm, d.q(cut, "the cut piece"), "the rope left")
        d.alternative(cm)
        facts = [f"A rope is {meters} meters long.", f"{p.name} cuts off {cut} centimeters."]
        ask = "How many centimeters of rope are left?"
        extra = (left, "Then {she} cuts off {x} more centimeters.", "-")
    elif kind == "eggs":
        dozens, used = rng.randint(2, 15 if shift.longer else 6), N.n(3, 20)
        eggs = _convert(d, d.q(dozens, "the dozens"), 12, "eggs in a dozen", "the eggs bought")
        left = d.step("-", eggs, d.q(used, "the eggs used"), "the eggs left")
        d.alternative(eggs)
        facts = [f"{p.name} buys {dozens} dozen eggs and uses {used} of them for baking."]
        ask = "How many eggs are left?"
        extra = (left, "Then a neighbor gives {name} {x} eggs.", "+")
    elif kind == "weeks":
        weeks, mins = rng.randint(2, 12 if shift.longer else 5), N.n(5, 45)
        days = _convert(d, d.q(weeks, "the weeks"), 7, "days in a week", "the days")
        read = d.step("*", days, d.q(mins, "minutes a day"), "the minutes read")
        facts = [f"{p.name} reads for {mins} minutes every day for {weeks} weeks."]
        ask = f"How many minutes does {p.she} read in all?"
        extra = (read, "{She} also reads {x} minutes on a long train ride.", "+")
    elif kind == "rice":
        kg, grams = rng.randint(2, 9 if shift.longer else 5), N.n(50, 900)
        if grams >= 1000:
            raise BadDraw("grams must be under a kilogram")
        g = _convert(d, d.q(kg, "the kilograms"), 1000, "grams in a kilogram", "the rice in grams")
        left = d.step("-", g, d.q(grams, "the rice used"), "the rice left")
        d.alternative(g)
        facts = [f"A bag holds {kg} kilograms of rice.", f"{p.name} cooks {grams} grams of it."]
        ask = "How many grams of rice are left?"
        extra = (left, "The next day {she} cooks {x} grams more.", "-")
    else:  # days
        days, hours = rng.randint(2, 9 if shift.longer else 5), rng.randint(2, 20)
        h = _convert(d, d.q(days, "the days"), 24, "hours in a day", "the hours")
        total = d.step("+", h, d.q(hours, "the extra hours"), "the trip in hours")
        facts = [f"{p.name}'s train trip lasts {days} days and {hours} hours."]
        ask = "How many hours long is the trip?"
        extra = (total, "The train is then {x} hours late.", "+")
    # one question per kind; the longer (test_ood) variant adds the kind's extra step
    return _ask(facts, ask, d, rng, p, extra=extra if shift.longer else None), d


FRACTION_WORDS = {2: "Half", 3: "One third", 4: "One quarter", 5: "One fifth", 10: "One tenth"}


def fractions(rng: random.Random, shift: Shift) -> tuple[str, Draw]:
    d, N, (p,) = Draw(), Nums(rng, shift.numbers), _people(rng, 1)
    kind = rng.choice(["walk", "sale", "percent_of"])
    if kind == "walk":
        k = rng.choice(sorted(FRACTION_WORDS))
        total = k * N.n(2, 10)
        qt = d.q(total, "the students")
        ck = const(k, "fraction", FRACTION_WORDS[k].lower())
        walk = d.step("/", qt, ck, "the students who walk")
        rest = d.step("-", qt, walk, "the students who take the bus")
        d.alternative(walk)
        d.misread(
            "confusing_concept_error",
            rest,
            [("-", qt, ck, "the students left")],
            f"takes '{FRACTION_WORDS[k].lower()}' as {k} students",
        )
        facts = [
            f"A class has {total} students.",
            f"{FRACTION_WORDS[k]} of them walk to school and the rest take the bus.",
        ]
        ask = "How many students take the bus?"
        if shift.longer:
            rain = N.n(2, 10)
            d.step("+", rest, d.q(rain, "the walkers who ride on rainy days"), "the bus riders on a rainy day")
            facts.append(f"On rainy days {rain} of the walkers ride the bus too.")
            ask = "How many students ride the bus on a rainy day?"
        return _ask(facts, ask, d, rng, p), d
    r = rng.choice([10, 20, 25, 50] + ([5, 15, 30, 40, 75] if shift.longer else []))
    unit = 100 // math.gcd(100, r)
    base = unit * rng.randint(max(1, 10 // unit), max(2, (200 if shift.longer else 80) // unit))
    if kind == "sale":
        qp, qr = d.q(base, "the price"), d.q(r, "the percent off")
        x = d.step("*", qp, qr, "the price times the percent")
        off = d.step("/", x, const(100, "percent", "100 percent"), "the discount")
        sale = d.step("-", qp, off, "the sale price")
        d.alternative(off)
        d.misread("confusing_concept_error", sale, [("-", qp, qr, "the sale price")], f"takes {r}% off as ${r} off")
        facts = [f"A jacket costs ${base}.", f"It is on sale for {r}% off."]
        ask = "What is the sale price?"
        if shift.longer:
            ship = N.n(3, 20)
            d.step("+", sale, d.q(ship, "the shipping"), "the price paid")
            facts.append(f"Shipping costs ${ship}.")
            ask = f"How much does {p.name} pay for the jacket with shipping?"
        return _ask(facts, ask, d, rng, p), d
    qn, qr = d.q(base, "the apples"), d.q(r, "the percent red")
    x = d.step("*", qn, qr, "the apples times the percent")
    red = d.step("/", x, const(100, "percent", "100 percent"), "the red apples")
    rest = d.step("-", qn, red, "the apples that are not red")
    d.alternative(red)
    d.misread(
        "confusing_concept_error", rest, [("-", qn, qr, "the apples that are not red")], f"takes {r}% as {r} apples"
    )
    facts = [f"A box holds {base} apples.", f"{r}% of them are red."]
    return _ask(facts, "How many apples are not red?", d, rng, p), d


def transfer(rng: random.Random, shift: Shift) -> tuple[str, Draw]:
    """Two people and a gift: the template the calibration found gives varied mistakes (tracking
    the wrong person, taking the other person's number, the wrong operator)."""
    d, N = Draw(), Nums(rng, shift.numbers)
    a, b, c = _people(rng, 3)
    thing = rng.choice(THINGS)
    kind = rng.choice(["basic", "relation"])
    ask_who = rng.choice(["a", "b", "more"] if kind == "basic" else ["a", "more"])
    bv = N.n(2, 30)
    qb = d.q(bv, f"{b.name}'s {thing}")
    if kind == "basic":
        av = N.n(10, 50)
        a_before = d.q(av, f"{a.name}'s {thing}")
        facts = [f"{a.name} has {av} {thing} and {b.name} has {bv}."]
    else:
        times = rng.random() < 0.5
        m = rng.randint(2, 4) if times else N.n(3, 20)
        qm = d.q(m, "the relation")
        facts = [
            f"{b.name} has {bv} {thing}.",
            f"{a.name} has {m} times as many {thing} as {b.name}."
            if times
            else f"{a.name} has {m} more {thing} than {b.name}.",
        ]
        av = bv * m if times else bv + m
        a_before = d.step("*" if times else "+", qb, qm, f"{a.name}'s {thing}")
        d.misread(
            "confusing_concept_error",
            a_before,
            [("+" if times else "*", qb, qm, f"{a.name}'s {thing}")],
            f"reads '{m} times as many' as '{m} more'" if times else f"reads '{m} more' as '{m} times as many'",
        )
    g = rng.randint(2, max(2, min(av - 1, 80 if shift.longer else 25)))
    qg = d.q(g, "the gift")
    facts.append(f"{a.name} gives {b.name} {g} {thing}.")
    if ask_who == "b":
        b_after = d.step("+", qb, qg, f"{b.name}'s {thing} now")
        d.misread(
            "question_misinterpretation",
            b_after,
            [("-", a_before, qg, f"{a.name}'s {thing} now")],
            f"counts {a.name}'s {thing} instead of {b.name}'s",
        )
        ask = f"How many {thing} does {b.name} have now?"
    elif ask_who == "a":
        a_after = d.step("-", a_before, qg, f"{a.name}'s {thing} now")
        d.misread(
            "question_misinterpretation",
            a_after,
            [("+", qb, qg, f"{b.name}'s {thing} now")],
            f"counts {b.name}'s {thing} instead of {a.name}'s",
        )
        ask = f"How many {thing} does {a.name} have now?"
        if shift.longer:
            z = N.n(3, 20)
            d.step("+", a_after, d.q(z, "the ones bought"), f"{a.name}'s {thing} in the end")
            facts.append(f"Then {a.name} buys {z} more.")
            ask = f"How many {thing} does {a.name} have in the end?"
    else:
        a_after = d.step("-", a_before, qg, f"{a.name}'s {thing} now")
        b_after = d.step("+", qb, qg, f"{b.name}'s {thing} now")
        d.step("-", a_after, b_after, f"how many more {a.name} has")
        d.alternative(a_after)
        ask = f"How many more {thing} does {a.name} have than {b.name} now?"
    if rng.random() < 0.35:
        z = rng.randint(3, 60)
        d.q(z, f"{c.name}'s {thing}", used=False)
        facts.append(f"Their friend {c.name} has {z} {thing}.")
    return " ".join(facts + [ask]), d


def counting(rng: random.Random, shift: Shift) -> tuple[str, Draw]:
    d, N, (p,) = Draw(), Nums(rng, shift.numbers), _people(rng, 1)
    kind = rng.choice(["pages", "fence", "rows", "floors"])
    plus_one = const(1, "count", "both ends count")
    if kind == "pages":
        a = N.n(2, 40)
        b = a + N.n(4, 40)
        qa, qb = d.q(a, "the first page"), d.q(b, "the last page")
        raw = d.step("-", qb, qa, "the page difference")
        cnt = d.step("+", raw, plus_one, "the pages read on Monday", kind="count", raw=raw)
        facts = [f"{p.name} reads pages {a} through {b} of a book on Monday."]
        if shift.longer:
            c = b + N.n(2, 20)
            e = c + N.n(4, 40)
            qc, qe = d.q(c, "the first page on Tuesday"), d.q(e, "the last page on Tuesday")
            raw2 = d.step("-", qe, qc, "the page difference on Tuesday")
            cnt2 = d.step("+", raw2, plus_one, "the pages read on Tuesday", kind="count", raw=raw2)
            d.step("+", cnt, cnt2, "the pages read")
            facts.append(f"On Tuesday {p.she} reads pages {c} through {e}.")
            ask = f"How many pages does {p.she} read in all?"
        elif rng.random() < 0.5:
            t = N.n(5, 40)
            d.step("+", cnt, d.q(t, "the pages read on Tuesday"), "the pages read")
            facts.append(f"On Tuesday {p.she} reads {t} pages.")
            ask = f"How many pages does {p.she} read in all?"
        else:
            ask = f"How many pages does {p.she} read?"
        return _ask(facts, ask, d, rng, p), d
    if kind == "fence":
        gap, n = rng.randint(2, 10), N.n(3, 15)
        length = gap * n
        gaps = d.step("/", d.q(length, "the fence length"), d.q(gap, "the post spacing"), "the gaps between posts")
        posts = d.step("+", gaps, plus_one, "the posts", kind="count", raw=gaps)
        facts = [f"A straight fence is {length} meters long with a post every {gap} meters, including both ends."]
        if shift.longer or rng.random() < 0.6:
            price = N.n(2, 15)
            d.step("*", posts, d.q(price, "the price of a post"), "the cost of the posts")
            facts.append(f"Each post costs ${price}.")
            ask = "How much do the posts cost?"
        else:
            ask = "How many posts are there?"
        return _ask(facts, ask, d, rng, p), d
    if kind == "rows":
        a = N.n(2, 20)
        b = a + N.n(3, 20)
        seats = N.n(5, 30)
        raw = d.step("-", d.q(b, "the last row"), d.q(a, "the first row"), "the row difference")
        rows = d.step("+", raw, plus_one, "the reserved rows", kind="count", raw=raw)
        d.step("*", rows, d.q(seats, "seats in a row"), "the reserved seats")
        facts = [f"Rows {a} through {b} of a theater are reserved.", f"Each row has {seats} seats."]
        return _ask(facts, "How many seats are reserved?", d, rng, p), d
    a = N.n(2, 20)
    b = a + N.n(4, 30)
    raw = d.step("-", d.q(b, "the top floor"), d.q(a, "the bottom floor"), "the floor difference")
    floors = d.step("-", raw, const(1, "count", "neither end counts"), "the floors between", kind="count", raw=raw)
    facts = [f"A lift goes from floor {a} to floor {b} without stopping."]
    if shift.longer or rng.random() < 0.5:
        rooms = N.n(3, 12)
        d.step("*", floors, d.q(rooms, "rooms on a floor"), "the rooms passed")
        facts.append(f"Each floor has {rooms} rooms.")
        ask = "How many rooms are on the floors strictly between them?"
    else:
        ask = "How many floors are strictly between them?"
    return _ask(facts, ask, d, rng, p), d


def perimeter(rng: random.Random, shift: Shift) -> tuple[str, Draw]:
    d, N, (p,) = Draw(), Nums(rng, shift.numbers), _people(rng, 1)
    kind = rng.choice(["fence", "carpet", "square"])
    price = rng.randint(2, 12)
    if kind == "square":
        s = N.n(3, 25)
        qs = d.q(s, "the side")
        per = d.step("*", qs, const(4, "formula", "four sides"), "the perimeter")
        facts = [f"A square garden has sides of {s} meters.", f"Fencing costs ${price} per meter."]
        cost = d.step("*", per, d.q(price, "the price per meter"), "the cost of the fence")
        d.alternative(per)
        d.misread(
            "formula_confusion_error", per, [("*", qs, qs, "the perimeter")], "uses the area instead of the perimeter"
        )
        ask = "How much does it cost to fence the garden?"
    else:
        length = N.n(5, 30)
        width = rng.randint(2, length - 1)
        ql, qw = d.q(length, "the length"), d.q(width, "the width")
        facts = [f"A room is {length} meters long and {width} meters wide."]
        if kind == "carpet":
            area = d.step("*", ql, qw, "the area")
            cost = d.step("*", area, d.q(price, "the price per square meter"), "the cost of the carpet")
            d.alternative(area)
            d.misread(
                "formula_confusion_error",
                area,
                [
                    ("+", ql, qw, "half the perimeter"),
                    ("*", {"m": 0}, const(2, "formula", "two of each side"), "the perimeter"),
                ],
                "uses the perimeter instead of the area",
            )
            facts.append(f"Carpet costs ${price} per square meter.")
            ask = "How much does carpet for the whole floor cost?"
        else:
            two = const(2, "formula", "two of each side")
            half = d.step("+", ql, qw, "half the perimeter")
            per = d.step("*", half, two, "the perimeter")
            l2 = d.alt("*", ql, two, "two lengths")  # another valid route: 2l + 2w
            w2 = d.alt("*", qw, two, "two widths")
            d.alt("+", l2, w2, "the perimeter")
            cost = d.step("*", per, d.q(price, "the price per meter"), "the cost of the trim")
            d.alternative(per)
            d.misread(
                "formula_confusion_error",
                per,
                [("*", ql, qw, "the perimeter")],
                "uses the area instead of the perimeter",
            )
            facts.append(f"Wood trim along all four walls costs ${price} per meter.")
            ask = "How much does the trim cost?"
    if shift.longer:
        extra = N.n(5, 40)
        d.step("+", cost, d.q(extra, "the delivery fee"), "the total cost")
        facts.append(f"Delivery costs ${extra}.")
        ask = f"How much does {p.name} pay in all, with delivery?"
    return _ask(facts, ask, d, rng, p), d


FAMILIES = {
    "shopping": shopping,
    "rate": rate,
    "sharing": sharing,
    "units": units,
    "fractions": fractions,
    "transfer": transfer,
    "counting": counting,
    "perimeter": perimeter,
}
