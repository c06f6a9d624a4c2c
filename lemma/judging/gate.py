"""The judge gate (judge_bench.gate): the run stops, before any augmentation request is paid, when
the teacher's step judge scores an F1 below `min_f1` on its calibration set."""

from __future__ import annotations


class JudgeTooWeak(RuntimeError):
    """The teacher's judge is below the configured bar (the message says by how much and what to do)."""


def check_gate(summary: dict, gate: dict) -> dict:
    """The gate's verdict for one set's summary (lemma.judging.bench.summarize); raises JudgeTooWeak
    below the bar."""
    f1, bar = float(summary["f1"]), float(gate["min_f1"])
    verdict = {"set": summary["set"], "teacher": summary["teacher"], "f1": f1, "min_f1": bar, "items": summary["items"]}
    if f1 < bar:
        raise JudgeTooWeak(
            f"the teacher's step judge ({summary['teacher']}, prompts {summary['prompts']}) scores F1 "
            f"{100 * f1:.1f} on {summary['items']} items of judge_bench set {summary['set']!r} "
            f"(erroneous {100 * summary['acc_erroneous']:.1f}, correct {100 * summary['acc_correct']:.1f}), "
            f"below judge_bench.gate.min_f1 {100 * bar:.1f}; no augmentation request was sent. "
            "See results/judge/; choose a stronger teacher or another judge prompt (docs/teachers.md), "
            "or lower the bar"
        )
    return verdict
