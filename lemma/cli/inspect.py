"""`lemma show`, `lemma stats`, `lemma doctor`: the workflow's results and set-up, for people.

  lemma show --type calculation_error --strategy fix_continue -n 5
      kept trajectories, the wrong prefix / reflection phrase / correction set apart
  lemma stats [--reasons]
      the error taxonomy, the data funnel, the SFT sets and the scores, as terminal tables
  lemma doctor
      Python, torch, CUDA, vLLM, SLURM commands, the config and the teacher's API key variable

Common options: --directory DIR (the workflow directory, default: here; --results DIR names the
results directory itself), --configfile FILE (default: DIR/config/config.yaml when present). Exit
status: 0 when fine, 1 when a doctor check failed, 2 when something asked for is missing or a
file is malformed. Each command lives in its own module (show.py, stats.py, doctor.py); this one
holds their shared options and the dispatch.
"""

from __future__ import annotations

import argparse

from lemma.cli import doctor, show, stats
from lemma.cli.options import DEFAULT_CONFIG, add_configfile, add_directory
from lemma.text.vocabulary import CUTS, FIRST_ERROR, STRATEGIES

# --- entry point -------------------------------------------------------------------------------


def positive_int(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def add_parsers(commands) -> None:
    """`show`, `stats` and `doctor`, with the options they share."""
    common = argparse.ArgumentParser(add_help=False)
    add_directory(common)
    common.add_argument(
        "--results", default=None, metavar="DIR", help="the results directory itself (default: DIR/results)"
    )
    add_configfile(common, default=None, help=f"the workflow config (default: DIR/{DEFAULT_CONFIG} when present)")
    common.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    common.set_defaults(run=run)
    s = commands.add_parser(
        "show",
        parents=[common],
        help="print kept error-correction trajectories",
        description="Kept trajectories, the wrong prefix / reflection phrase / correction set apart.",
    )
    s.add_argument("--type", help="error type (the injected type, or the judge's label for the student's own)")
    s.add_argument("--strategy", choices=list(STRATEGIES))
    s.add_argument(
        "--source",
        choices=["all", "student", "injected"],
        default="all",
        help="the student's own mistakes, injected ones, or both",
    )
    s.add_argument("--problem", help="only this problem id")
    s.add_argument("-n", type=positive_int, default=5, help="how many (default 5)")
    s.add_argument(
        "--cut",
        default=FIRST_ERROR,
        choices=list(CUTS),
        help="trajectories from truncated (first_error) or whole wrong attempts",
    )
    s.add_argument("--smoothed", action="store_true", help="also print the smoothed trajectory (the SFT response)")
    s.add_argument("--no-question", action="store_true", help="do not print the question")
    st = commands.add_parser(
        "stats",
        parents=[common],
        help="taxonomy, data funnel, SFT sets and scores",
        description="The error taxonomy, the data funnel, the SFT sets and the scores, as terminal tables.",
    )
    st.add_argument("--reasons", action="store_true", help="also list every stage's drop reasons")
    commands.add_parser(
        "doctor",
        parents=[common],
        help="check the environment and the config",
        description="Python, torch, CUDA, vLLM, SLURM commands, the config and the teacher's API key variable.",
    )


def run(args: argparse.Namespace) -> int:
    try:
        return {"show": show.cmd_show, "stats": stats.cmd_stats, "doctor": doctor.cmd_doctor}[args.command](args)
    except BrokenPipeError:  # `lemma show | head`
        return 0
