"""Splitting solutions into steps, numbering them, and truncating after a step.

The paper splits GSM8K-style text on ". " and MATH-style text on ".\\n"; the built-in world writes
one step per line. A trailing "The answer is: X" line is a step of its own in every style, so a
solution that computes everything right but answers the wrong quantity has a wrong last step.
"""

from __future__ import annotations

import re

STYLES = ("world", "gsm8k", "math")

_SPLITTERS = {
    "world": re.compile(r"\n+"),
    "gsm8k": re.compile(r"(?<=\.)\s+|\n+"),
    "math": re.compile(r"(?<=\.)\n+|\n\n+"),
}


def split_steps(text: str, style: str = "world") -> list[str]:
    """The steps of a solution, stripped, empty ones dropped; joining them with
    `join_steps(steps, style)` gives back an equivalent text."""
    if style not in _SPLITTERS:
        raise ValueError(f"unknown step style {style!r}; expected one of {STYLES}")
    return [s.strip() for s in _SPLITTERS[style].split(text.strip()) if s.strip()]


def join_steps(steps: list[str], style: str = "world") -> str:
    sep = "\n" if style in ("world", "math") else " "
    return sep.join(s.strip() for s in steps)


def truncate_after(text: str, step: int, style: str = "world") -> str:
    """The solution cut right after its `step`-th step (1-based). Raises ValueError when the
    solution has fewer steps, so a judge's out-of-range step never becomes silent data."""
    steps = split_steps(text, style)
    if not 1 <= step <= len(steps):
        raise ValueError(f"step {step} out of range: the solution has {len(steps)} steps")
    return join_steps(steps[:step], style)


def number_steps(text: str, style: str = "world") -> str:
    """'Step 1: ...' lines, for judges that must answer with a step number."""
    return "\n".join(f"Step {i}: {s}" for i, s in enumerate(split_steps(text, style), 1))
