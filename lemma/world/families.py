"""Problem families of the built-in world: each draws numbers, writes a short GSM8K-like question
and builds its computation (see lemma.world.structure).

A family is `fn(rng, shift) -> (question, Draw)`. `shift` says how the draw departs from the
training distribution, along two axes the out-of-distribution split can take, alone or together:
`numbers` (the operands a family draws through `Nums`, past the training range) and `longer` (the
family's longer variants: an extra item, leg or step, and bigger unit counts such as hours, dozens
or weeks, which a conversion multiplies). A family may raise BadDraw; the caller draws again.
"""

from __future__ import annotations

from lemma.world.family_counts import counting, fractions, perimeter, transfer
from lemma.world.family_rates import rate, sharing, shopping, units
from lemma.world.pieces import SHIFT_AXES, Shift

__all__ = ["FAMILIES", "SHIFT_AXES", "Shift"]

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
