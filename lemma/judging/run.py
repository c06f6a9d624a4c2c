"""One set of the judge benchmark, end to end, as the `judge_bench` rule and `lemma judge-bench` run
it: read the set (`judge_bench.sets.NAME` of the config), ask the configured teacher, write one
row per item (results/judge/NAME.parquet) and the set's summary (results/judge/NAME.summary.json);
`write_table` gathers the summaries into results/judge/summary.csv and summary.md."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import replace
from pathlib import Path

import polars as pl

from lemma.judging.bench import SUMMARY_COLUMNS, judge_set, markdown, summarize, teacher_name, usage_rows, usage_totals
from lemma.judging.sets import JudgeItem, SetError, champ_set, locate_set, processbench_set, world_set

SOURCES = ("world", "champ", "processbench", "locate")
ROWS = {
    "set": pl.Utf8,
    "id": pl.Utf8,
    "source": pl.Utf8,
    "n_steps": pl.Int32,
    "label": pl.Int32,
    "prediction": pl.Int32,  # null: no verdict could be read
    "verdict": pl.Utf8,
    "rationale": pl.Utf8,
}


def load_set(name: str, spec: dict, results: str = "results") -> list[JudgeItem]:
    """The items of one configured set; `n` keeps a seeded sample of that many (all when unset)."""
    source, n, seed = spec["source"], spec.get("n"), int(spec.get("seed", 7))
    if source == "world":
        items = world_set(n or 200, seed)
    elif source == "champ":
        items = champ_set(spec.get("path"))
    elif source == "processbench":
        if not spec.get("path"):
            raise SetError(f"judge_bench.sets.{name}: source processbench needs a path (a JSONL file)")
        items = processbench_set(spec["path"], name)
    elif source == "locate":
        items = locate_set(spec.get("path") or results, name)
    else:
        raise SetError(f"judge_bench.sets.{name}.source: expected one of {SOURCES}, got {source!r}")
    if n and len(items) > n:
        items = random.Random(seed).sample(items, n)
    return [replace(i, set=name) for i in items]


def run_set(
    name: str, spec: dict, teacher_cfg: dict, seed: int, out_dir: str = "results/judge", cache_path: str | None = None
) -> dict:
    from lemma.pipeline.runner import TEACHER_CACHE
    from lemma.teacher.factory import build_teacher

    if teacher_cfg.get("kind") != "llm" and spec["source"] != "world":
        raise SetError(
            f"judge_bench.sets.{name}: the oracle judges only the built-in world's solutions; "
            "set teacher.kind: llm to benchmark an LLM teacher on this set"
        )
    items = load_set(name, spec, str(Path(out_dir).parent))
    usage = f"{Path(out_dir).parent}/usage/judge_bench-{name}.csv"
    teacher = build_teacher(
        teacher_cfg, cache_path=cache_path or TEACHER_CACHE, usage_path=usage, seed=seed, rule="judge_bench"
    )
    before = usage_rows(usage)  # this run's usage: the rows it appends
    rows, left_out = judge_set(teacher, items)
    prompts = teacher_cfg.get("prompts_dir") or ("packaged" if teacher_cfg.get("kind") == "llm" else "-")
    summary = summarize(rows, name, teacher_name(teacher_cfg), prompts, left_out, usage_totals(usage, before))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows, schema=ROWS).write_parquet(out / f"{name}.parquet")
    (out / f"{name}.summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def write_table(summaries: list[dict], out_dir: str = "results/judge", html: str | None = None) -> str:
    """summary.csv and summary.md (and, for the report, an HTML page) of every set's summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "summary.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=SUMMARY_COLUMNS, extrasaction="ignore")
        w.writeheader()
        w.writerows(summaries)
    text = markdown(summaries)
    (out / "summary.md").write_text(text)
    if html:
        Path(html).write_text(html_page(summaries))
    return text


def html_page(summaries: list[dict]) -> str:
    """The summary as a small HTML page (the report's entry)."""
    from html import escape

    cols = ["set", "teacher", "prompts", "items", "acc_erroneous", "acc_correct", "f1", "off_by_one", "said_correct"]
    cols += ["unparsed", "calls", "cost_usd"]
    pct = {"acc_erroneous", "acc_correct", "f1", "off_by_one", "said_correct", "unparsed"}

    def cell(c, v):
        return f"{100 * v:.1f}" if c in pct else escape(str(v))

    head = "".join(f"<th>{c}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{cell(c, s[c])}</td>" for c in cols) + "</tr>" for s in summaries)
    return (
        "<!doctype html><meta charset='utf-8'><title>Judge benchmark</title>"
        "<style>td,th{padding:2px 8px;text-align:right}th{background:#eee}</style>"
        f"<h3>Judge benchmark</h3><table><tr>{head}</tr>{body}</table>"
        "<p>Percentages. ProcessBench F1: o1-mini 87.9, QwQ-32B-Preview 71.5.</p>"
    )
