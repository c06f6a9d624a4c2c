"""The one writer of bench/RESULTS.md: each bench script replaces only its own section."""

from __future__ import annotations

import os
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(text: str, section: str, path: Path = RESULTS) -> None:
    """Replace one section (from its `section` heading line to the next "## " heading) with
    `text`, or append it when the file has no such section; written atomically."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n\n"
    start = old.find(section + "\n")
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        nxt = old.find("\n## ", start + len(section))
        new = old[:start] + text + (old[nxt + 1 :] if nxt >= 0 else "")
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(new.rstrip("\n") + "\n", encoding="utf-8")
    os.replace(tmp, path)
