"""Terminal output of the `lemma` commands: colour when the terminal takes it, plain tables, percentages."""

from __future__ import annotations

import os
import sys
import textwrap

# --- terminal output ---------------------------------------------------------------------------


class Style:
    """ANSI colours on a terminal (unless NO_COLOR is set or --color never); plain text otherwise,
    where the labelled sections alone keep the parts apart."""

    CODES = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "bold": "1", "dim": "2"}

    def __init__(self, mode: str = "auto", stream=None):
        stream = stream or sys.stdout
        self.on = mode == "always" or (mode == "auto" and stream.isatty() and not os.environ.get("NO_COLOR"))

    def __call__(self, text: str, *names: str) -> str:
        if not self.on or not names:
            return text
        return "\033[" + ";".join(self.CODES[n] for n in names) + "m" + text + "\033[0m"


def text_table(rows: list[dict], columns: list[tuple[str, str]], fmt: dict | None = None) -> str:
    """A plain aligned table: text columns left, numbers right; None shows as '-'."""
    fmt = fmt or {}

    def cell(r, k):
        v = r.get(k)
        if v is None:
            return "-"
        if k in fmt:
            return fmt[k](v)
        return f"{v:.1f}" if isinstance(v, float) else str(v)

    cells = [[cell(r, k) for k, _ in columns] for r in rows]
    numeric = [all(isinstance(r.get(k), (int, float)) or r.get(k) is None for r in rows) for k, _ in columns]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, (_, h) in enumerate(columns)]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [line([h for _, h in columns]), line(["-" * w for w in widths])]
    out += [line(c) for c in cells]
    return "\n".join(out)


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def wrap_block(text: str, width: int, bar: str) -> str:
    lines = []
    for raw in (text or "").splitlines() or [""]:
        lines += textwrap.wrap(raw, width=max(20, width), replace_whitespace=False, drop_whitespace=True) or [""]
    return "\n".join(bar + ln for ln in lines)
