"""Atomic, schema-checked table I/O.

Every output is written to a temporary file beside its target and renamed on success, so a killed
job never leaves a half-written file that looks complete (rename is atomic on POSIX within one
filesystem). Tables are checked against their explicit schema from lemma.tables.records before writing.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import tempfile
from pathlib import Path

import polars as pl


class SchemaError(ValueError):
    pass


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path in the target's folder; rename it onto `path` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # one job owns each output: temp files of an earlier, killed attempt at it are litter
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def frame(rows: list[dict], schema: dict) -> pl.DataFrame:
    """Rows (dicts) as a frame with exactly `schema`'s columns and types."""
    if rows:
        missing = set(schema) - set(rows[0])
        if missing:
            raise SchemaError(f"rows lack columns {sorted(missing)}")
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema, orient="row")


def check_schema(df: pl.DataFrame, schema: dict, what: str) -> pl.DataFrame:
    if list(df.columns) != list(schema):
        raise SchemaError(f"{what}: columns {df.columns}, expected {list(schema)}")
    bad = {c: (str(df.schema[c]), str(t)) for c, t in schema.items() if df.schema[c] != t}
    if bad:
        raise SchemaError(f"{what}: wrong column types (got, expected): {bad}")
    return df


def write_table(df: pl.DataFrame | list[dict], path: str | os.PathLike, schema: dict) -> pl.DataFrame:
    if isinstance(df, list):
        df = frame(df, schema)
    df = check_schema(df.select(list(schema)), schema, str(path))
    with atomic_path(path) as tmp:
        df.write_parquet(tmp)
    return df


def read_table(path: str | os.PathLike, schema: dict | None = None) -> pl.DataFrame:
    df = pl.read_parquet(path)
    if schema is not None:
        check_schema(
            df.select([c for c in schema if c in df.columns]),
            {c: schema[c] for c in schema if c in df.columns},
            str(path),
        )
    return df


def write_json(obj, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def write_text(text: str, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_jsonl(rows, path: str | os.PathLike) -> int:
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
            n += 1
    return n
