"""Pieces every stage shares: problem lookup, drop accounting, logging set-up."""

from __future__ import annotations

import logging
import sys
from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from lemma.teacher.base import ProblemView


@dataclass
class StageStats:
    stage: str
    n_in: int = 0
    n_out: int = 0
    dropped: Counter = field(default_factory=Counter)

    def drop(self, reason: str, n: int = 1) -> None:
        self.dropped[reason] += n

    def as_dict(self) -> dict:
        return {"stage": self.stage, "in": self.n_in, "out": self.n_out, "dropped": dict(sorted(self.dropped.items()))}


def problem_views(problems: pl.DataFrame) -> dict[str, ProblemView]:
    return {
        r["id"]: ProblemView(
            id=r["id"], question=r["question"], solution=r["solution"], answer=r["answer"],
            structure=r["structure"], style=r["style"],
        )
        for r in problems.iter_rows(named=True)
    }


def setup_logging(level: int = logging.INFO) -> logging.Logger:
    """Log lines to stderr, which a rule's script points at its log file (runner.start)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        handlers=[logging.StreamHandler(sys.stderr)], force=True)
    return logging.getLogger("lemma")
