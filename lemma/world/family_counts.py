"""Problem families of parts and counts: fractions (a part of a whole), transfer (things passed
between people), counting (collections combined and split) and perimeter (sides of shapes).
Each is `fn(rng, shift) -> (question, Draw)` (lemma.world.families)."""

from __future__ import annotations

import math
import random

from lemma.world import pieces
from lemma.world.pieces import (
    THINGS,
    Nums,
    Shift,
)
from lemma.world.structure import Draw, const

FRACTION_WORDS = {2: "Half", 3: "One third", 4: "One quarter", 5: "One fifth", 10: "One tenth"}


def fractions(rng: random.Random, shift: Shift) -> tuple[str, Draw]:
    d, N, (p,) = Draw(), Nums(rng, shift.numbers), pieces.people(rng, 1)
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
        return pieces.ask(facts, ask, d, rng, p), d
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
        return pieces.ask(facts, ask, d, rng, p), d
    qn, qr = d.q(base, "the apples"), d.q(r, "the percent red")
    x = d.step("*", qn, qr, "the apples times the percent")
    red = d.step("/", x, const(100, "percent", "100 percent"), "the red apples")
    rest = d.step("-", qn, red, "the apples that are not red")
    d.alternative(red)
    d.misread(
        "confusing_concept_error", rest, [("-", qn, qr, "the apples that are not red")], f"takes {r}% as {r} apples"
    )
    facts = [f"A box holds {base} apples.", f"{r}% of them are red."]
    return pieces.ask(facts, "How many apples are not red?", d, rng, p), d


def transfer(rng: random.Random, shift: Shift) -> tuple[str, Draw]:
    """Two people and a gift: the template the calibration found gives varied mistakes (tracking
    the wrong person, taking the other person's number, the wrong operator)."""
    d, N = Draw(), Nums(rng, shift.numbers)
    a, b, c = pieces.people(rng, 3)
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
    d, N, (p,) = Draw(), Nums(rng, shift.numbers), pieces.people(rng, 1)
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
        return pieces.ask(facts, ask, d, rng, p), d
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
        return pieces.ask(facts, ask, d, rng, p), d
    if kind == "rows":
        a = N.n(2, 20)
        b = a + N.n(3, 20)
        seats = N.n(5, 30)
        raw = d.step("-", d.q(b, "the last row"), d.q(a, "the first row"), "the row difference")
        rows = d.step("+", raw, plus_one, "the reserved rows", kind="count", raw=raw)
        d.step("*", rows, d.q(seats, "seats in a row"), "the reserved seats")
        facts = [f"Rows {a} through {b} of a theater are reserved.", f"Each row has {seats} seats."]
        return pieces.ask(facts, "How many seats are reserved?", d, rng, p), d
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
    return pieces.ask(facts, ask, d, rng, p), d


def perimeter(rng: random.Random, shift: Shift) -> tuple[str, Draw]:
    d, N, (p,) = Draw(), Nums(rng, shift.numbers), pieces.people(rng, 1)
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
    return pieces.ask(facts, ask, d, rng, p), d
