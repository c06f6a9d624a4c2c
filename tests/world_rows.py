"""Problems of the built-in world frozen for the tests that hand-write solutions to them.

tests/data/world_rows_seed7.jsonl holds the first 20 train problems of `generate_world(7, ...)` as
the generator drew them before the world's calibration (commit e87262a: operands up to 50). The
unit tests' hand-written right and wrong solutions are about these exact problems, so they read
them from this file rather than from the generator, whose number ranges are a tuning knob; every
row is a complete problem record (structure included) that the oracle teacher reads as it reads
a generated one.
"""

from __future__ import annotations

import json
from pathlib import Path

ROWS_FILE = Path(__file__).parent / "data" / "world_rows_seed7.jsonl"


def world_rows(n: int) -> list[dict]:
    """The first `n` frozen train problems (at most 20)."""
    rows = [json.loads(line) for line in ROWS_FILE.read_text().splitlines()]
    if n > len(rows):
        raise ValueError(f"{ROWS_FILE.name} holds {len(rows)} problems, asked for {n}")
    return rows[:n]
