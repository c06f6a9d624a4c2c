"""`lemma judge-bench`: the configured teacher's step judge scored on labelled first-wrong-step sets
(the config's `judge_bench.sets`, or those named with --set), the same code the `judge_bench` rule
runs (lemma.judging). Writes results/judge/ and prints the table."""

from __future__ import annotations

import argparse
import os

from lemma.cli.options import UserError, add_configfile, add_directory


def add_parser(commands) -> None:
    p = commands.add_parser(
        "judge-bench",
        help="score the teacher's first-wrong-step verdicts on labelled sets",
        description="The teacher's step judge on labelled sets: accuracy on erroneous and correct solutions, "
        "F1 (ProcessBench's metrics), off-by-one and said-correct rates, calls, tokens and dollars.",
    )
    p.set_defaults(run=run)
    add_configfile(p)
    add_directory(p)
    p.add_argument("--set", action="append", dest="sets", metavar="NAME", help="only this set of judge_bench.sets")


def run(args: argparse.Namespace) -> int:
    from lemma.config import fill_defaults, load_yaml, validate
    from lemma.judging.run import run_set, write_table
    from lemma.judging.sets import SetError

    configfile = os.path.abspath(args.configfile)
    os.chdir(args.directory)  # results/ and relative paths as in snakemake
    cfg = load_yaml(configfile)
    problems = validate(cfg, "config", configfile)
    if problems:
        raise UserError("invalid configuration: " + "; ".join(map(str, problems)))
    fill_defaults(cfg, "config")
    sets = cfg["judge_bench"]["sets"]
    names = args.sets or list(sets)
    unknown = [n for n in names if n not in sets]
    if unknown:
        raise UserError(
            f"no set {', '.join(unknown)} in judge_bench.sets of {args.configfile} (there: {', '.join(sets)})"
        )
    owner = _serve(cfg["teacher"])
    try:
        summaries = [run_set(n, sets[n], cfg["teacher"], cfg["seed"]) for n in names]
    except SetError as e:
        raise UserError(str(e)) from None
    finally:
        if owner is not None:
            owner.stop()
    print(write_table(summaries))
    return 0


def _serve(teacher: dict):
    """With teacher.serve, the command starts the server on this machine for its own calls and
    stops it after them (as the workflow does for its teacher jobs)."""
    if teacher.get("kind") != "llm" or not teacher.get("serve"):
        return None
    from lemma.serving.owner import TeacherServerOwner

    owner = TeacherServerOwner(teacher["serve"], teacher["model"], outputs=[], where="local")
    owner.start()
    return owner
