"""What every `lemma` command shares: Snakemake's words for the config and the workflow directory,
and one way to report what the user can fix (one line on stderr, exit status 2, no traceback)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from lemma.config import ConfigError
from lemma.data.readers import DataError
from lemma.engines.base import EngineUnavailable

DEFAULT_CONFIG = "config/config.yaml"


class UserError(Exception):
    """Something the user can fix (a missing file, a bad value); the message says what and where."""


# Errors a user can fix, reported without a traceback; anything else is a bug and keeps one.
EXPECTED = (
    UserError,
    ConfigError,
    DataError,
    EngineUnavailable,
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
)


def add_configfile(p: argparse.ArgumentParser, default: str | None = DEFAULT_CONFIG, help: str | None = None) -> None:
    """--configfile FILE (as for snakemake); --config FILE is the same option."""
    p.add_argument(
        "--configfile",
        "--config",
        dest="configfile",
        metavar="FILE",
        default=default,
        help=help or f"the workflow config (default: {DEFAULT_CONFIG})",
    )


def add_directory(p: argparse.ArgumentParser) -> None:
    """--directory DIR (as for snakemake): the workflow directory, whose results/ the command reads."""
    p.add_argument(
        "--directory", "-d", metavar="DIR", default=".", help="the workflow directory holding results/ (default: here)"
    )


def in_directory(args: argparse.Namespace, path: str | None) -> str | None:
    """`path` as the workflow sees it: relative paths are relative to --directory."""
    if path is None or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(args.directory, path))


def one_line(e: BaseException) -> str:
    """An error's message on one line (a config check lists its problems one per line)."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return "; ".join(lines) if lines else type(e).__name__


class Missing(UserError):
    """Something the command needs is not in the results (yet); the message says what and where."""


def read_config(args) -> tuple[dict | None, str | None]:
    """The raw YAML of --configfile (or the default when present); None if there is none."""
    from lemma.config import load_yaml

    path = args.configfile
    if path is None:
        path = in_directory(args, DEFAULT_CONFIG)
        if not Path(path).exists():
            return None, None
    return load_yaml(path), path


def results_dir(args) -> Path:
    """--results DIR where given (the older option), else --directory's results/."""
    return Path(args.results) if args.results else Path(args.directory) / "results"
