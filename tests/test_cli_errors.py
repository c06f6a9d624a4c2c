"""Every `lemma` subcommand, given what a user gets wrong (a missing or malformed file, placeholder
paths, a wrong engine, an empty run directory): one line on stderr naming the file or the value,
exit status 2, never a traceback. Run as users run it (the `lemma` command, a subprocess). And the
one convention: --configfile (alias --config) and --directory, as snakemake has them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PAPER = "config/examples/llama3-8b-gpt4o.yaml"


def lemma(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lemma.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bad")
    (d / "malformed.yaml").write_text("teacher: {kind: llm\n")
    (d / "wrong_engine.yaml").write_text(
        (REPO / "config/config.yaml").read_text().replace("kind: oracle", "kind: llm\n  engine: gpt\n  model: m")
    )
    (d / "rows.jsonl").write_text('{"completion": "The answer is 3", "gold": "3"}\nnot json\n')
    (d / "a_file").write_text("")
    return d


CASES = {
    "estimate: no such config": (["estimate", "--configfile", "nope.yaml"], "nope.yaml: file not found"),
    "estimate: placeholder data paths": (["estimate", "--configfile", PAPER], "/path/to/gsm8k/train.jsonl"),
    "estimate: malformed YAML": (["estimate", "--configfile", "{bad}/malformed.yaml"], "malformed.yaml"),
    "estimate: a wrong engine": (["estimate", "--config", "{bad}/wrong_engine.yaml"], "teacher.engine"),
    "estimate: --problems names no dataset": (
        ["estimate", "--problems", "gsm8k=10", "--configfile", PAPER],
        "the config's datasets are",
    ),
    "stats: no results": (["stats", "--directory", "{bad}"], "no results directory"),
    "show: no results": (["show", "--directory", "{bad}"], "trajectories"),
    "stats: malformed config": (
        ["stats", "--configfile", "{bad}/malformed.yaml", "--results", "{bad}"],
        "malformed.yaml",
    ),
    "doctor: malformed config": (["doctor", "--configfile", "{bad}/malformed.yaml"], "malformed.yaml"),
    "doctor: no such config": (["doctor", "--config", "{bad}/nope.yaml"], "nope.yaml"),
    "grade: no such input": (["grade", "--input", "{bad}/none.jsonl", "--output", "{bad}/o.jsonl"], "none.jsonl"),
    "grade: a malformed row": (
        ["grade", "--input", "{bad}/rows.jsonl", "--output", "{bad}/o.jsonl"],
        "rows.jsonl line 2",
    ),
    "build-smollm2: a file in the way": (["build-smollm2", "{bad}/a_file"], "a_file"),
    "build-gemma3: a file in the way": (["build-gemma3", "{bad}/a_file"], "a_file"),
    "judge-bench: no such config": (["judge-bench", "--configfile", "nope.yaml"], "nope.yaml: file not found"),
    "judge-bench: a wrong engine": (["judge-bench", "--configfile", "{bad}/wrong_engine.yaml"], "teacher.engine"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_user_error_is_one_line_and_status_2(case, bad):
    args, needle = CASES[case]
    proc = lemma(*[a.replace("{bad}", str(bad)) for a in args])
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"lemma {args[0]}: "), proc.stderr
    assert needle.replace("{bad}", str(bad)) in lines[0], lines[0]


def test_estimate_from_problem_counts_prices_a_paper_scale_run_with_no_data_on_disk():
    proc = lemma("estimate", "--problems", "15000", "--configfile", PAPER)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "standing in for 15,000 problems" in proc.stdout
    total = [line for line in proc.stdout.splitlines() if line.startswith("total")]
    assert total and float(total[0].split()[-1].replace(",", "")) > 1000, total  # GPT-4o prices: thousands of dollars
    per_set = lemma("estimate", "--problems", "gsm8k_train=7473,math_train=7500", "--configfile", PAPER)
    assert per_set.returncode == 0 and "standing in for 14,973 problems" in per_set.stdout


def test_one_convention_for_config_and_directory(tmp_path):
    for command in ("estimate", "stats", "show", "doctor", "judge-bench"):
        help_text = lemma(command, "--help").stdout
        assert "--configfile FILE, --config FILE" in help_text, (command, help_text)
        if command != "doctor":
            assert "--directory DIR, -d DIR" in help_text, (command, help_text)
