"""Retry data for pre-training the built-in student (opt-in: `pretrain.retry_rate`).

Ye et al., "Physics of Language Models, Part 2.2" (2024), found on synthetic grade-school math that
a small model pre-trained on solutions that sometimes make a mistake, notice it and fix it becomes
more accurate, and makes no more mistakes at inference; the same data given only at fine-tuning
did not help, and masking the wrong tokens was not needed. This module makes such data from the
world's own machinery, so the testbed can check that finding and ask whether LEMMA fine-tuning
works better on a student pre-trained that way:

  a share `rate` of the training problems gets, instead of its reference solution, a retry
  solution: an error injected by the oracle's careless student (one of its supported types, drawn
  with the seed), cut after the first wrong step, a reflection phrase, and the oracle's Fix &
  Continue to the right answer, smoothed into one text like the LEMMA trajectories.

The rest keep their reference solutions; the set keeps its size (retry rows replace, not add).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from lemma.text.reflection import join_trajectory
from lemma.text.steps import truncate_after


def retry_solution(structure: str, rng: random.Random, phrases: Sequence[str]) -> tuple[str, str] | None:
    """(retry text, error type) for one world problem, or None when no error can be injected."""
    from lemma.teacher.oracle import inject as oracle_inject
    from lemma.teacher.oracle import write as oracle_write
    from lemma.teacher.oracle.model import WorldModel

    model = WorldModel(structure)
    kinds = list(oracle_inject.SUPPORTED)
    rng.shuffle(kinds)
    for kind in kinds:
        opts = oracle_inject.options(model, kind)
        if not opts:
            continue
        o = rng.choice(opts)
        prefix = truncate_after(o.solution, o.wrong_step, "world")
        fix = oracle_write.fix_continue(model, prefix, o.wrong_step)
        text = oracle_write.smooth(model, join_trajectory(prefix, rng.choice(list(phrases)), fix))
        return text, kind
    return None


def with_retries(rows: Sequence[dict], rate: float, seed: int, phrases: Sequence[str]) -> tuple[list[dict], dict]:
    """Copies of `rows` where a share `rate` (each row independently, with the seed) has its
    solution replaced by a retry solution. Returns (rows, counts by error type)."""
    if not 0 <= rate <= 1:
        raise ValueError(f"retry_rate must be in [0, 1], got {rate}")
    if rate > 0 and not phrases:
        raise ValueError("retry data needs reflection phrases")
    rng = random.Random(f"retry|{seed}")
    out, counts = [], {}
    for i, row in enumerate(rows):
        row = dict(row)
        if rate > 0 and rng.random() < rate:
            if not row.get("structure"):
                raise ValueError(f"retry data: train row {i} ({row.get('id')}) has no world structure")
            made = retry_solution(row["structure"], rng, phrases)
            if made is not None:
                row["solution"], kind = made
                row["retry_type"] = kind
                counts[kind] = counts.get(kind, 0) + 1
        out.append(row)
    return out, counts
