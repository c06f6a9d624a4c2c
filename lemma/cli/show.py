"""`lemma show`: kept error-correction trajectories, the wrong prefix / reflection phrase / correction
set apart, with their question."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from lemma.cli.options import (
    Missing,
    read_config,
    results_dir,
)
from lemma.cli.terminal import Style, wrap_block
from lemma.report.tables import pick_examples, read_trajectories, with_types
from lemma.text.vocabulary import STUDENT_BUCKET

# --- lemma show --------------------------------------------------------------------------------


def _problem_questions(results: Path, datasets: list[str] | None) -> dict[str, str]:
    files = (
        [results / "problems" / f"{d}.parquet" for d in datasets]
        if datasets
        else sorted((results / "problems").glob("*.parquet"))
    )
    out: dict[str, str] = {}
    for f in files:
        if f.exists():
            df = pl.read_parquet(f, columns=["id", "question"])
            out.update(zip(df["id"], df["question"]))
    return out


def load_kept(results: Path, cut: str) -> pl.DataFrame:
    """Every kept trajectory under results/trajectories/<cut>/, the student's own typed by the judge."""
    base = results / "trajectories" / cut
    paths = sorted(base.glob("*/*.parquet"))
    if not paths:
        raise Missing(
            f"no trajectory tables under {base}/ (expected <strategy>/<bucket>.parquet); "
            "run the workflow first (snakemake --cores N), or pass --results / --cut"
        )
    labels_path = results / "taxonomy" / "labels.parquet"
    labels = pl.read_parquet(labels_path) if labels_path.exists() else None
    return with_types(read_trajectories(paths), labels)


def render_trajectory(r: dict, i: int, n: int, question: str | None, style: Style, smoothed: bool, width: int) -> str:
    origin = "the student's own mistake" if r["bucket"] == STUDENT_BUCKET else "injected by the teacher"
    head = (
        f"[{i}/{n}] {r['problem_id']} · sample {r['sample_index']} · {r['error_type'] or 'unlabelled'} · "
        f"{r['strategy']} · {origin}"
    )
    out = [style("━" * min(width, 100), "dim"), style(head, "bold")]
    if question:
        out += [style("QUESTION", "bold"), wrap_block(question, width - 4, "    ")]
    out += [
        style("✗ WRONG PREFIX (up to its first wrong step)", "bold", "red"),
        wrap_block(r["prefix"], width - 4, style("  │ ", "red")),
        style("↺ REFLECTION", "bold", "yellow"),
        wrap_block(r["phrase"], width - 4, style("  │ ", "yellow")),
        style("✓ CORRECTION", "bold", "green"),
        wrap_block(r["continuation"], width - 4, style("  │ ", "green")),
    ]
    if smoothed and r.get("smoothed"):
        out += [
            style("≈ SMOOTHED (the SFT response)", "bold", "blue"),
            wrap_block(r["smoothed"], width - 4, style("  │ ", "blue")),
        ]
    return "\n".join(out)


def cmd_show(args) -> int:
    results = results_dir(args)
    cfg, _ = read_config(args)
    traj = load_kept(results, args.cut)
    available_types = sorted({t for t in traj["error_type"] if t is not None})
    available_strategies = sorted(set(traj["strategy"]))
    if args.type and args.type not in available_types:
        raise Missing(
            f"no kept trajectory of type {args.type!r} under {results}/trajectories/{args.cut}/; "
            f"types present: {', '.join(available_types) or 'none'}"
        )
    if args.strategy and args.strategy not in available_strategies:
        raise Missing(f"no kept trajectory with strategy {args.strategy!r}; present: {', '.join(available_strategies)}")
    if args.problem:
        traj = traj.filter(pl.col("problem_id") == args.problem)
    if args.source != "all":
        traj = traj.filter((pl.col("bucket") == STUDENT_BUCKET) == (args.source == "student"))
    picked = pick_examples(traj, args.n, error_type=args.type, strategy=args.strategy)
    if picked.height == 0:
        raise Missing(
            "no kept trajectory matches "
            + ", ".join(
                f"{k}={v}"
                for k, v in (
                    ("type", args.type),
                    ("strategy", args.strategy),
                    ("source", args.source),
                    ("problem", args.problem),
                )
                if v and v != "all"
            )
        )
    datasets = list(cfg["datasets"]) if cfg and isinstance(cfg.get("datasets"), dict) else None
    questions = _problem_questions(results, datasets) if not args.no_question else {}
    style = Style(args.color)
    width = min(shutil.get_terminal_size((100, 24)).columns, 120)
    total = traj.filter(
        *[pl.col(c) == v for c, v in (("error_type", args.type), ("strategy", args.strategy)) if v] or [pl.lit(True)]
    ).height
    blocks = [
        render_trajectory(r, i, picked.height, questions.get(r["problem_id"]), style, args.smoothed, width)
        for i, r in enumerate(picked.iter_rows(named=True), 1)
    ]
    print("\n\n".join(blocks))
    print(style(f"\n{picked.height} of {total} matching kept trajectories ({results}/trajectories/{args.cut}/)", "dim"))
    return 0
