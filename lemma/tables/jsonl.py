"""Reading JSONL files row by row, naming the file and line of a bad row. Kept apart from
lemma.tables.io (tables, polars) so that training, which reads SFT sets, needs no polars: the GPU check
(bench/gpu_check.py) runs where polars is not installed."""

from __future__ import annotations

import json
import os


def iter_jsonl(path: str | os.PathLike, error: type[Exception] = ValueError):
    """(where, object) for each non-blank line of a JSONL file; `where` is "FILE line N", for
    messages that name the row. A line that is not a JSON object raises `error` naming it."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue  # blank lines (a trailing newline, a separator) carry no record
            where = f"{path} line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise error(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(record, dict):
                raise error(f"{where}: expected a JSON object, got {type(record).__name__}")
            yield where, record
