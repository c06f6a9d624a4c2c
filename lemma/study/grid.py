"""The world study: one workflow run per cell of protocol x pre-training, tables put together.

    python -m lemma.study run --config config/examples/world-study.yaml --out runs/world-study \
        --protocols steps epochs --retry 0 0.5 [--cores 2] [--seeds 1 2 3] [-- extra snakemake args]
    python -m lemma.study collect --out runs/world-study > study.md

A cell is a run directory `{out}/{protocol}-retry{rate}/` holding its own config/ (the study config
with training.protocol and pretrain.retry_rate set, and the taxonomy), so each cell is an ordinary,
resumable snakemake run; nothing is shared between cells but the code. `collect` reads each
finished cell's results/scores.csv, results/compare/paired.csv and results/mechanism/reflections.csv
and prints them as markdown, naming the cell (protocol and retry rate) above each table. A cell
that has not finished is listed as such, never filled in.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import yaml

REPO = Path(__file__).resolve().parent.parent


def cell_name(protocol: str, retry: float) -> str:
    return f"{protocol}-retry{retry:g}"


def make_cell(
    out: Path, base_config: dict, taxonomy: Path, protocol: str, retry: float, seeds: list[int] | None
) -> Path:
    # A deep copy in the config's own key order: Snakemake compares a rule's params with their key
    # order, so a reordered section would rerun every job that takes it (and defeat seed_from).
    cfg = yaml.safe_load(yaml.safe_dump(base_config, sort_keys=False))
    cfg.setdefault("training", {})["protocol"] = protocol
    pretrain = cfg.setdefault("pretrain", {})
    if pretrain.get("retry_rate", 0) != retry:  # an added key moves the filled-in defaults after it
        pretrain["retry_rate"] = retry
    if seeds:
        cfg["seeds"] = seeds
    wd = out / cell_name(protocol, retry)
    (wd / "config").mkdir(parents=True, exist_ok=True)
    (wd / "config/config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    shutil.copy(taxonomy, wd / "config/taxonomy.yaml")
    return wd


# What a cell copies from a finished sibling with the same pre-training: outputs with their
# Snakemake records (.snakemake/metadata), so only the stages the protocol changes rerun.
SEEDED = ("results", "logs", "benchmarks", ".snakemake/metadata")
# The tables `collect` reads. They are downstream of training, so a seeded cell rebuilds them and
# seed_from leaves them out: copied, they would show the sibling's figures as this cell's until it
# finishes.
SCORES, PAIRED, MECHANISM = "results/scores.csv", "results/compare/paired.csv", "results/mechanism/reflections.csv"


def seed_from(done: Path, wd: Path) -> None:
    """Copy a finished cell's outputs and records into a new cell whose config differs only in
    training.protocol. Snakemake then sees every stage up to the SFT sets as done (same inputs,
    params and code) and reruns training and what follows: the cells share one pre-trained
    student, one set of samples and one teacher pass, as they would if run from scratch (the
    stages are deterministic), at a fraction of the CPU time."""
    for name in SEEDED:
        src = done / name
        if src.exists():
            shutil.copytree(src, wd / name, symlinks=True, dirs_exist_ok=True)
    for name in (SCORES, PAIRED, MECHANISM):
        (wd / name).unlink(missing_ok=True)
    print(f"== cell {wd.name}: seeded from {done.name} (same pre-training; training reruns)", flush=True)


def run(args) -> int:
    base = yaml.safe_load(Path(args.config).read_text())
    taxonomy = Path(base.get("taxonomy", "config/taxonomy.yaml"))
    out = Path(args.out)
    failed = []
    for retry in args.retry:
        upstream = None  # a finished cell with this pre-training: its upstream stages are reused
        for protocol in args.protocols:
            wd = make_cell(out, base, taxonomy, protocol, retry, args.seeds)
            if upstream is not None and not (wd / "results").exists():
                seed_from(upstream, wd)
            cmd = [
                sys.executable,
                "-m",
                "snakemake",
                "-s",
                str(REPO / "Snakefile"),
                "-d",
                str(wd),
                "--cores",
                str(args.cores),
                *args.snakemake_args,
            ]
            print(f"== cell {wd.name}: {' '.join(cmd)}", flush=True)
            if subprocess.run(cmd, cwd=wd).returncode != 0:
                failed.append(wd.name)
            elif upstream is None:
                upstream = wd
    if failed:
        print(f"cells that failed: {failed}", file=sys.stderr)
    return 1 if failed else 0


def _fmt_pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def collect(out: Path) -> str:
    """Markdown: per finished cell, accuracy (mean ± sd over seeds), the paired differences
    against sft, and the reflection outcomes pooled over seeds."""
    parts = []
    for wd in sorted(p for p in out.iterdir() if (p / "config/config.yaml").exists()):
        cfg = yaml.safe_load((wd / "config/config.yaml").read_text())
        scores, paired, mech = wd / SCORES, wd / PAIRED, wd / MECHANISM
        parts.append(f"### Cell {wd.name}")
        if not (scores.exists() and paired.exists() and mech.exists()):
            parts.append("Not finished: no tables.\n")
            continue
        from lemma.pipeline.training import describe_protocol

        student = wd / "results/models/base/student_pretrain.json"
        note = f"Protocol: {describe_protocol(cfg['training'])}; pre-training retry rate {cfg['pretrain'].get('retry_rate', 0):g}"
        if student.exists():
            import json

            s = json.loads(student.read_text())
            note += (
                f"; the student solves {100 * s['train_accuracy']:.1f}% of {s['eval_problems']} train problems greedily"
            )
        parts.append(note + ".\n")
        sc = pl.read_csv(scores)
        benches = list(dict.fromkeys(sc["benchmark"]))
        lines = ["| variant | seeds | " + " | ".join(benches) + " |", "|---|---|" + "---|" * len(benches)]
        for v in dict.fromkeys(sc["variant"]):
            rows = {r["benchmark"]: r for r in sc.filter(pl.col("variant") == v).iter_rows(named=True)}
            cells = [f"{_fmt_pct(rows[b]['accuracy'])} ± {_fmt_pct(rows[b].get('sd'))}" for b in benches]
            lines.append(f"| {v} | {next(iter(rows.values()))['seeds']} | " + " | ".join(cells) + " |")
        parts.append("\n".join(lines) + "\n\nAccuracy in %, mean ± standard deviation over seeds.\n")
        pa = pl.read_csv(paired, schema_overrides={"mcnemar_p": pl.Float64})
        lines = ["| benchmark | comparison | difference, points (95% paired-bootstrap CI) |", "|---|---|---|"]
        for r in pa.iter_rows(named=True):
            lines.append(
                f"| {r['benchmark']} | {r['variant']} − {r['baseline']} | {100 * r['difference']:+.1f} "
                f"({100 * r['ci_low']:+.1f} to {100 * r['ci_high']:+.1f}) |"
            )
        parts.append("\n".join(lines) + "\n")
        me = (
            pl.read_csv(mech)
            .group_by("variant", maintain_order=True)
            .agg(pl.col("n", "reflects", "self_correction", "wrong_to_wrong", "harmful", "false_alarm").sum())
        )
        lines = [
            "| variant | answers | reflect | wrong→right | wrong→wrong | right→wrong | false alarm |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in me.iter_rows(named=True):
            lines.append(
                f"| {r['variant']} | {r['n']} | {r['reflects']} | {r['self_correction']} | "
                f"{r['wrong_to_wrong']} | {r['harmful']} | {r['false_alarm']} |"
            )
        parts.append("\n".join(lines) + "\n\nReflections pooled over seeds and benchmarks (oracle step check).\n")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lemma.study", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="make and run the cells")
    r.add_argument("--config", default="config/examples/world-study.yaml")
    r.add_argument("--out", default="runs/world-study")
    r.add_argument("--protocols", nargs="+", default=["steps", "epochs"], choices=["steps", "epochs", "tokens"])
    r.add_argument("--retry", nargs="+", type=float, default=[0.0, 0.5])
    r.add_argument("--seeds", nargs="+", type=int, default=None, help="override the config's seeds")
    r.add_argument("--cores", type=int, default=2)
    r.add_argument("snakemake_args", nargs="*", help="after --: passed to snakemake")
    c = sub.add_parser("collect", help="print the finished cells' tables as markdown")
    c.add_argument("--out", default="runs/world-study")
    args = ap.parse_args(argv)
    if args.cmd == "run":
        return run(args)
    print(collect(Path(args.out)), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
