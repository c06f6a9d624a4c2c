"""Running the real snakemake on a small config in a temporary directory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
# augment.types of tests/data/small_config.yaml
SMALL_CONFIG_TYPES = ["calculation_error", "operator_error", "question_misinterpretation"]
# The method's stages, which a dry run from scratch plans whatever the config's teacher and
# student (a built-in student adds pretrain_student).
METHOD_RULES = (
    "load_problems",
    "sample_student",
    "grade_samples",
    "locate_errors",
    "classify_errors",
    "inject_errors",
    "correct",
    "smooth_and_filter",
    "build_sft",
    "train",
    "evaluate",
    "scores",
)


def make_workdir(tmp: Path, config: Path = REPO / "tests/data/small_config.yaml") -> Path:
    """A run directory holding its own config/ (config.yaml = the small config, taxonomy, schemas)."""
    (tmp / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(config, tmp / "config/config.yaml")
    shutil.copy(REPO / "config/taxonomy.yaml", tmp / "config/taxonomy.yaml")
    return tmp


def snakemake(
    workdir: Path, *args: str, timeout: int = 900, check: bool = True, env: dict | None = None
) -> subprocess.CompletedProcess:
    """`snakemake --cores 2 ARGS` on the workflow in `workdir` (`env` adds to the environment)."""
    cmd = [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--cores", "2", *args]
    full_env = {**os.environ, **env} if env else None
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=full_env)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
        )
    return proc


# a job's header; indented when the job is part of a group job (dry runs show the groups)
_RULE = re.compile(r"^\s*(?:local)?rule (\w+):", re.M)


def planned_jobs(workdir: Path, *args: str) -> list[tuple[str, dict]]:
    """(rule, wildcards) of every job a dry run would run."""
    out = snakemake(workdir, "-n", *args).stdout
    jobs = []
    for block in re.split(r"\n(?=\s*(?:local)?rule \w+:)", out):
        m = _RULE.search(block)
        if not m:
            continue
        wc = re.search(r"^\s+wildcards: (.*)$", block, re.M)
        wildcards = dict(kv.split("=", 1) for kv in wc.group(1).split(", ")) if wc else {}
        jobs.append((m.group(1), wildcards))
    return jobs
