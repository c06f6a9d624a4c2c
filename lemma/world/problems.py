"""The built-in world's problem generator: seeded, disjoint train/test/test_ood splits of short
multi-step word problems with `Step k: a op b = c` reference solutions.

train and test: 1-4 steps (mostly 1-3), operands mostly 2-25. test_ood departs from them along the
axes `ood` names (lemma.world.families.Shift): `numbers` (the default) keeps the training shapes and
step counts and draws operands from the upper half of a family's range to twice it (at most 100);
`longer` draws the families' longer variants, 3-5 steps. A tiny student that solves a quarter of
test reaches a few percent of the numbers shift and almost none of the longer variants
(docs/world-study.md), so the default shift is the one that can show a difference between
fine-tunes. Every row has the keys of `lemma.tables.records.PROBLEMS`; `structure` is the JSON the oracle
teacher reads.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from lemma.text.vocabulary import WORLD_SPLITS
from lemma.world.families import FAMILIES, Shift
from lemma.world.solution import solution_text  # the one writer of solution text, re-exported
from lemma.world.structure import BadDraw

__all__ = ["DEFAULT_OOD", "SPLITS", "draw_problem", "generate_world", "solution_text"]

SPLITS = WORLD_SPLITS
DEFAULT_OOD = ("numbers",)  # test_ood's shift axes (config world.ood)
# in-distribution step counts: 4-step problems are kept only part of the time so most have 1-3
_KEEP_FOUR = 0.35
_MAX_TRIES_PER_ROW = 200
# the two-people template is where a tiny student's varied mistakes come from (see
# docs on the student calibration), so it is drawn twice as often as the others
FAMILY_WEIGHTS = {"transfer": 2.0}


def _accept(n_steps: int, shift: Shift, rng: random.Random) -> bool:
    if shift.longer:
        return 3 <= n_steps <= 5
    if n_steps == 4:
        return rng.random() < _KEEP_FOUR
    return 1 <= n_steps <= 3


def draw_problem(rng: random.Random, shift: Shift, family: str | None = None) -> dict:
    """One problem (without id/dataset) from a random family, or from `family`, shifted by `shift`."""
    names = sorted(FAMILIES)
    for _ in range(_MAX_TRIES_PER_ROW):
        fam = family or rng.choice(names)
        try:
            question, draw = FAMILIES[fam](rng, shift)
            draw.check()
        except BadDraw:
            continue
        if not _accept(len(draw.steps), shift, rng):
            continue
        return {
            "question": question,
            "solution": draw.solution(),
            "answer": str(draw.answer()),
            "style": "world",
            "family": fam,
            "n_steps": len(draw.steps),
            "structure": draw.structure_json(),
        }
    raise RuntimeError(f"could not draw a valid problem of family {family!r} in {_MAX_TRIES_PER_ROW} tries")


def _split(name: str, n: int, seed: int, shift: Shift, seen: set[str]) -> list[dict]:
    rng = random.Random(f"lemma-world|{seed}|{name}")
    rows: list[dict] = []
    names = sorted(FAMILIES)
    tries = 0
    while len(rows) < n:
        tries += 1
        if tries > n * 50 + 1000:
            raise RuntimeError(f"split {name}: only {len(rows)} distinct problems of {n} after {tries} draws")
        # every family first (so each occurs in every split), then families at their weights; the
        # family is fixed before drawing so families whose draws fail more often are not rarer
        family = (
            names[len(rows)]
            if len(rows) < len(names)
            else rng.choices(names, [FAMILY_WEIGHTS.get(f, 1.0) for f in names])[0]
        )
        row = draw_problem(rng, shift, family)
        if row["question"] in seen:
            continue
        seen.add(row["question"])
        rows.append({"id": f"{name}-{len(rows):05d}", "dataset": name, **row})
    return rows


def generate_world(
    seed: int, n_train: int, n_test: int, n_test_ood: int, ood: Sequence[str] = DEFAULT_OOD
) -> dict[str, list[dict]]:
    """Rows for "train", "test" and "test_ood" (shifted along the axes `ood` names); deterministic in
    `seed` and `ood`; no question text repeats within or across splits. test_ood is drawn last, so
    train and test do not depend on `ood`."""
    shift = Shift.of(ood)
    if shift == Shift():
        raise ValueError("world.ood must name at least one shift axis (numbers, longer)")
    for label, n in (("n_train", n_train), ("n_test", n_test), ("n_test_ood", n_test_ood)):
        if n < 0:
            raise ValueError(f"{label} must be >= 0, got {n}")
    seen: set[str] = set()
    return {
        "train": _split("train", n_train, seed, Shift(), seen),
        "test": _split("test", n_test, seed, Shift(), seen),
        "test_ood": _split("test_ood", n_test_ood, seed, shift, seen),
    }
