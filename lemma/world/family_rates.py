"""Problem families of quantities and rates: shopping (items times prices), rate (speed or pay over
time), sharing (a total split among people) and units (conversions: hours, dozens, weeks, ...).
Each is `fn(rng, shift) -> (question, Draw)` (lemma.world.families)."""

from __future__ import annotations

import random

from lemma.world import pieces
from lemma.world.pieces import (
    FOODS,
    SHOP_ITEMS,
    Nums,
    Shift,
)
from lemma.world.structure import BadDraw, Draw, const


def shopping(rng: random.Random, shift: Shift) -> tuple[str, Draw]:
    d, N, (p,) = Draw(), Nums(rng, shift.numbers), pieces.people(rng, 1)
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
    facts = [f"{p.name} buys {pieces.join(parts)}."]
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
    return pieces.ask(facts, ask, d, rng, p), d


def rate(rng: random.Random, shift: Shift) -> tuple[str, Draw]:
    d, N, (p,) = Draw(), Nums(rng, shift.numbers), pieces.people(rng, 1)
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
        return pieces.ask(
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
        return pieces.ask(facts, ask, d, rng, p), d
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
    return pieces.ask(facts, ask, d, rng, p), d


def sharing(rng: random.Random, shift: Shift) -> tuple[str, Draw]:
    d, N, (p,) = Draw(), Nums(rng, shift.numbers), pieces.people(rng, 1)
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
        return pieces.ask(facts, f"How many {food} are left?", d, rng, p), d
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
    return pieces.ask(facts, ask, d, rng, p), d


def _convert(d: Draw, amount, factor: int, per: str, result: str):
    """A unit-conversion step: `amount` (a quantity or an earlier step) times `factor` `per`
    ("minutes in an hour"), which the oracle knows as a conversion (its unit-conversion errors)."""
    return d.step("*", amount, const(factor, "unit", per), result, kind="convert")


UNIT_TEMPLATES = ["time", "rope", "eggs", "weeks", "rice", "days"]


def units(rng: random.Random, shift: Shift) -> tuple[str, Draw]:
    d, N, (p,) = Draw(), Nums(rng, shift.numbers), pieces.people(rng, 1)
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
    return pieces.ask(facts, ask, d, rng, p, extra=extra if shift.longer else None), d
