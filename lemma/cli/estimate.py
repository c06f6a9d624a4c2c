"""`lemma estimate`: calls, tokens and dollars of the teacher stages, done and to come
(the estimate itself is lemma.cost.estimate)."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

from lemma.cli.options import UserError, add_configfile, add_directory


def add_parser(commands) -> None:
    p = commands.add_parser(
        "estimate",
        help="teacher calls, tokens and dollars: done and to come",
        description=("Calls, tokens and dollars of every teacher stage: done (in the request cache) and to come."),
    )
    p.set_defaults(run=run)
    add_configfile(p)
    add_directory(p)
    p.add_argument(
        "--problems",
        metavar="N | NAME=N,...",
        type=problem_counts,
        default=None,
        help="estimate from problem counts, before any data is on disk: N training problems shared evenly "
        "by the config's datasets, or a count per dataset (gsm8k_train=7473,math_train=7500); prompt tokens "
        "are measured on built-in world problems as stand-ins (a lower bound for longer real problems)",
    )
    p.add_argument(
        "--cache", default=None, help="the request cache (default: <directory>/results/cache/teacher.sqlite)"
    )
    p.add_argument("--by-job", action="store_true", help="one row per teacher job instead of per stage and cut")
    p.add_argument("--full-count", action="store_true", help="count the tokens of every request, not a sample")
    p.add_argument("--json", default=None, help="also write the rows (per job) as JSON to this file")
    p.add_argument("--html", default=None, help="also write the table as an HTML page to this file")


def problem_counts(text: str) -> int | dict[str, int]:
    """`--problems`: one count, or NAME=N pairs separated by commas."""
    if re.fullmatch(r"\d+", text.strip()):
        return int(text)
    counts = {}
    for part in text.split(","):
        m = re.fullmatch(r"\s*([\w.-]+)\s*=\s*(\d+)\s*", part)
        if not m:
            raise argparse.ArgumentTypeError(f"expected N or NAME=N,NAME=N; got {text!r}")
        counts[m.group(1)] = int(m.group(2))
    return counts


def run(args: argparse.Namespace) -> int:
    from lemma.config import fill_derived, load_taxonomy, load_yaml, semantic_checks, validate
    from lemma.cost.estimate import Estimator
    from lemma.cost.render import describe, format_table, html_table
    from lemma.cost.rows import grouped

    configfile = os.path.abspath(args.configfile)
    cache = os.path.abspath(args.cache) if args.cache else None
    outputs = {k: os.path.abspath(v) if v else None for k, v in (("json", args.json), ("html", args.html))}
    os.chdir(args.directory)  # dataset paths and results/ are relative to the workflow directory, as in snakemake
    cfg = load_yaml(configfile)
    problems = validate(cfg, "config", configfile)
    if problems:
        raise UserError("invalid configuration: " + "; ".join(map(str, problems)))
    root = Path(".")
    try:
        taxonomy = load_taxonomy(cfg["taxonomy"])
    except OSError as e:
        raise UserError(f"the taxonomy {cfg['taxonomy']!r} (relative to --directory {args.directory!r}): {e}") from None
    fill_derived(cfg, [t.name for t in taxonomy])  # augment.types: the taxonomy's share of the paper's six
    problems = semantic_checks(cfg, configfile, [t.name for t in taxonomy])
    if problems:
        raise UserError("invalid configuration: " + "; ".join(map(str, problems)))
    if isinstance(args.problems, dict) and set(args.problems) != set(cfg["datasets"]):
        raise UserError(
            f"--problems names {', '.join(sorted(args.problems))}; the config's datasets are "
            f"{', '.join(sorted(cfg['datasets']))}"
        )
    try:
        est = Estimator(cfg, taxonomy, root, cache, args.full_count, standin_problems=args.problems)
    except ValueError as e:
        raise UserError(str(e)) from None
    try:
        rows = est.run()
        header = describe(est)
        table = rows if args.by_job else grouped(rows)
        print(format_table(table, header))
        if outputs["json"]:
            Path(outputs["json"]).write_text(json.dumps([r.as_dict() for r in rows], indent=1) + "\n")
        if outputs["html"]:
            Path(outputs["html"]).write_text(html_table(table, header.replace("\n", "; ")))
    finally:
        est.close()
    return 0
