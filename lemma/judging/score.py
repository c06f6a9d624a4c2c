"""ProcessBench's metrics of a judge's verdicts: accuracy on erroneous solutions (the exact earliest
wrong step), accuracy on correct ones (said "no error"), and F1, their harmonic mean; beside them
what a LEMMA user needs to know of the misses: how often the judge was one step off, how often it
called a wrong solution correct, and how often its reply could not be read.

A prediction is the earliest wrong step (0-based), -1 for "no error", or None when the reply gave
no verdict (unparsed: wrong on either kind of solution)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class JudgeScore:
    items: int
    erroneous: int
    correct: int
    acc_erroneous: float  # exact earliest step, on erroneous solutions
    acc_correct: float  # "no error", on correct solutions
    f1: float  # harmonic mean of the two (ProcessBench)
    off_by_one: float  # on erroneous solutions: a step next to the right one
    said_correct: float  # on erroneous solutions: "no error"
    unparsed: float  # on all: no verdict could be read

    def as_dict(self) -> dict:
        return asdict(self)


def _share(n: int, d: int) -> float:
    return n / d if d else 0.0


def score(labels: list[int], predictions: list[int | None]) -> JudgeScore:
    if len(labels) != len(predictions):
        raise ValueError(f"{len(labels)} labels but {len(predictions)} predictions")
    pairs = list(zip(labels, predictions))
    wrong = [(y, p) for y, p in pairs if y >= 0]
    right = [(y, p) for y, p in pairs if y < 0]
    acc_err = _share(sum(p == y for y, p in wrong), len(wrong))
    acc_ok = _share(sum(p == -1 for _, p in right), len(right))
    return JudgeScore(
        items=len(pairs),
        erroneous=len(wrong),
        correct=len(right),
        acc_erroneous=acc_err,
        acc_correct=acc_ok,
        f1=2 * acc_err * acc_ok / (acc_err + acc_ok) if acc_err + acc_ok else 0.0,
        off_by_one=_share(sum(p is not None and p >= 0 and abs(p - y) == 1 for y, p in wrong), len(wrong)),
        said_correct=_share(sum(p == -1 for _, p in wrong), len(wrong)),
        unparsed=_share(sum(p is None for _, p in pairs), len(pairs)),
    )
