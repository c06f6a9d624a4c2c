"""`lemma stats`: the error taxonomy, the data funnel (with `--reasons`, why rows were dropped), the
SFT sets and the scores, as terminal tables."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lemma.cli.options import (
    Missing,
    read_config,
    results_dir,
)
from lemma.cli.terminal import pct, text_table
from lemma.report.funnel import STAGES, drop_reasons, funnel
from lemma.report.tables import read_sft_stats, sft_overview

# --- lemma stats -------------------------------------------------------------------------------


def _bar(share: float, width: int = 30) -> str:
    n = round(share * width * 2)  # half blocks
    return "█" * (n // 2) + ("▌" if n % 2 else "")


def taxonomy_section(results: Path) -> str | None:
    path = results / "taxonomy" / "stats.parquet"
    if not path.exists():
        return None
    df = pl.read_parquet(path).sort("count", descending=True)
    total = int(df["count"].sum())
    rows = [{**r, "bar": _bar(r["share"])} for r in df.iter_rows(named=True)]
    table = text_table(
        rows, [("error_type", "error type"), ("count", "count"), ("share", "share"), ("bar", "")], {"share": pct}
    )
    return f"Error taxonomy: {total} classified wrong samples ({path})\n{table}"


def funnel_section(results: Path, cfg: dict | None) -> str | None:
    buckets = strategies = None
    if cfg:
        aug = (cfg.get("augment") or {}).get("types")
        buckets = ["student", *aug] if aug else None
        strategies = (cfg.get("correct") or {}).get("strategies")
    table = funnel(results, buckets=buckets, strategies=strategies)
    if table.height == 0 or all(table[s].is_null().all() for s in STAGES):
        return None
    cols = [("bucket", "bucket"), ("cut", "cut"), ("strategy", "strategy"), *[(s, s) for s in STAGES]]
    return (
        "Data funnel: rows surviving each stage (student = the student's own mistakes; '-' = not applicable or "
        f"not built yet)\n{text_table(table.to_dicts(), cols)}"
    )


def reasons_section(results: Path) -> str | None:
    df = drop_reasons(results)
    if df.height == 0:
        return None
    return "Drop reasons (from the stage stats files)\n" + text_table(
        df.to_dicts(), [("file", "file"), ("stage", "stage"), ("reason", "reason"), ("count", "count")]
    )


def sft_section(results: Path) -> str | None:
    paths = {p.name.removesuffix(".stats.json"): p for p in sorted((results / "sft").glob("*.stats.json"))}
    if not paths:
        return None
    ov = sft_overview(read_sft_stats(paths))
    return "SFT sets\n" + text_table(
        ov.to_dicts(),
        [
            ("variant", "variant"),
            ("rows", "rows"),
            ("reference_rows", "reference"),
            ("trajectory_rows", "trajectories"),
            ("trajectory_share", "traj. share"),
            ("avg_tokens", "avg length"),
            ("token_unit", "unit"),
        ],
        {"trajectory_share": pct},
    )


def scores_section(results: Path) -> str | None:
    path = results / "scores.csv"
    if not path.exists():
        return None
    df = pl.read_csv(path)
    rows = [{**r, "ci": f"{100 * r['ci_low']:.1f}–{100 * r['ci_high']:.1f}"} for r in df.iter_rows(named=True)]
    return f"Scores ({path})\n" + text_table(
        rows,
        [
            ("variant", "variant"),
            ("benchmark", "benchmark"),
            ("n", "n"),
            ("correct", "correct"),
            ("accuracy", "accuracy"),
            ("ci", "95% CI"),
        ],
        {"accuracy": pct},
    )


def judge_section(results: Path) -> str | None:
    """The judge benchmark's table (results/judge/summary.csv), when it has run."""
    path = results / "judge" / "summary.csv"
    if not path.exists():
        return None
    rows = pl.read_csv(path).to_dicts()
    return f"Judge benchmark ({path}; ProcessBench's F1: o1-mini 87.9, QwQ-32B-Preview 71.5)\n" + text_table(
        rows,
        [
            ("set", "set"),
            ("teacher", "teacher"),
            ("items", "items"),
            ("acc_erroneous", "acc. erroneous"),
            ("acc_correct", "acc. correct"),
            ("f1", "F1"),
            ("said_correct", "said correct"),
            ("calls", "calls"),
            ("cost_usd", "USD"),
        ],
        {"acc_erroneous": pct, "acc_correct": pct, "f1": pct, "said_correct": pct},
    )


def cmd_stats(args) -> int:
    results = results_dir(args)
    if not results.is_dir():
        raise Missing(f"no results directory {results}/; run the workflow first, or pass --directory")
    cfg, _ = read_config(args)
    sections = [
        taxonomy_section(results),
        funnel_section(results, cfg),
        sft_section(results),
        scores_section(results),
        judge_section(results),
    ]
    if args.reasons:
        sections.append(reasons_section(results))
    sections = [s for s in sections if s]
    if not sections:
        raise Missing(
            f"nothing to show yet under {results}/ (no taxonomy, stage stats, SFT sets, scores or judge benchmark)"
        )
    print("\n\n".join(sections))
    return 0
