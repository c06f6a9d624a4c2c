"""Reading raw records from dataset files, each with a location for error messages.

A record is a dict as stored in the file. Its location says where it came from in words a user can
act on: "data/gsm8k/train.jsonl line 17", "svamp.json item 3", "test.parquet row 12",
"MATH/train/algebra/5.json". Readers never interpret fields; formats (lemma.data.formats) do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from lemma.tables.jsonl import iter_jsonl


class DataError(ValueError):
    """A dataset file that cannot be read as its declared format: says where and what was expected."""


Record = tuple[str, dict]  # (location, record)


def read_records(path: str) -> Iterator[Record]:
    """Records of a .jsonl, .json (a list of objects) or .parquet file, or of a directory tree of
        one-object .json files (the MATH release layout), or question/answer line pairs in a .txt file
    (the DeepMind Mathematics release layout)."""
    p = Path(path)
    if p.is_dir():
        yield from _read_json_tree(p)
    elif not p.exists():
        raise DataError(f"{path}: no such file or directory")
    elif p.suffix == ".jsonl":
        yield from _read_jsonl(p)
    elif p.suffix == ".json":
        yield from _read_json_list(p)
    elif p.suffix == ".parquet":
        yield from _read_parquet(p)
    elif p.suffix == ".txt":
        yield from _read_qa_lines(p)
    else:
        raise DataError(
            f"{path}: unknown file type {p.suffix!r}; expected .jsonl, .json, .parquet, .txt "
            "(question and answer lines) or a directory of .json files"
        )


def _read_jsonl(p: Path) -> Iterator[Record]:
    return iter_jsonl(p, DataError)


def _load_json(p: Path, where: str):
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"{where}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None


def _read_json_list(p: Path) -> Iterator[Record]:
    if not p.read_text(encoding="utf-8").strip():
        return
    data = _load_json(p, str(p))
    if isinstance(data, dict):
        data = [data]  # one problem per file, as in the MATH release
    if not isinstance(data, list):
        raise DataError(f"{p}: expected a JSON list of objects, got {type(data).__name__}")
    for number, record in enumerate(data, 1):
        where = f"{p} item {number}"
        if not isinstance(record, dict):
            raise DataError(f"{where}: expected a JSON object, got {type(record).__name__}")
        yield where, record


def _read_qa_lines(p: Path) -> Iterator[Record]:
    """The DeepMind Mathematics release: a question line, then its answer line, repeated; the
    file's name is the module (e.g. arithmetic__add_or_sub.txt)."""
    lines = p.read_text(encoding="utf-8").rstrip("\n").split("\n") if p.stat().st_size else []
    if len(lines) % 2:
        raise DataError(
            f"{p} line {len(lines)}: a question with no answer line; expected question and answer lines in pairs"
        )
    for i in range(0, len(lines), 2):
        yield f"{p} line {i + 1}", {"question": lines[i], "answer": lines[i + 1], "module": p.stem}


def _read_parquet(p: Path) -> Iterator[Record]:
    import polars as pl

    try:
        frame = pl.read_parquet(p)
    except Exception as e:  # polars raises several kinds for a damaged file
        raise DataError(f"{p}: not a readable parquet file ({e})") from None
    for number, record in enumerate(frame.iter_rows(named=True), 1):
        yield f"{p} row {number}", record


def _natural_key(path: Path, root: Path):
    # "algebra/10.json" after "algebra/9.json", as the release numbers them
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path.relative_to(root)))]


def _read_json_tree(root: Path) -> Iterator[Record]:
    for f in sorted(root.rglob("*.json"), key=lambda f: _natural_key(f, root)):
        record = _load_json(f, str(f))
        if not isinstance(record, dict):
            raise DataError(f"{f}: expected one JSON object per file, got {type(record).__name__}")
        # the path inside the tree is the problem's natural id (e.g. "algebra/5")
        yield str(f), {"_tree_id": f.relative_to(root).with_suffix("").as_posix(), **record}
