"""lemma.pipeline.runner: what every script does first and last, driven with a stand-in for the
`snakemake` object Snakemake gives a script (a namespace with the same attributes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest

from lemma.pipeline import runner
from lemma.pipeline.common import StageStats, TeacherUnreachable
from lemma.tables.io import write_table
from lemma.tables.records import GRADED, PROBLEMS
from lemma.teacher.oracle import OracleTeacher

ROOT = Path(__file__).resolve().parent.parent


def problem(pid: str) -> dict:
    return {
        "id": pid,
        "dataset": "d",
        "question": "q",
        "solution": "s",
        "answer": "1",
        "style": "world",
        "family": "",
        "n_steps": 1,
        "structure": None,
    }


def test_read_all_concatenates_in_path_order_and_selects_the_schema(tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    write_table([problem("a1"), problem("a2")], a, PROBLEMS)
    write_table([problem("b1")], b, PROBLEMS)
    assert runner.read_all([str(b), str(a)], PROBLEMS)["id"].to_list() == ["b1", "a1", "a2"]
    one = runner.read_all(str(a), PROBLEMS)
    assert one.columns == list(PROBLEMS) and one.height == 2
    empty = runner.read_all([], GRADED)
    assert empty.height == 0 and empty.schema == pl.Schema(GRADED)
    smk = SimpleNamespace(input=SimpleNamespace(problems=[str(a), str(b)], graded=[]))
    assert runner.problems(smk)["id"].to_list() == ["a1", "a2", "b1"]
    assert runner.graded(smk).height == 0


class Wildcards(list):
    """Like Snakemake's wildcards: iterating gives the values, items() the (name, value) pairs."""

    def __init__(self, **named):
        super().__init__(named.values())
        self.named = named

    def items(self):
        return self.named.items()


def smk(config_teacher: dict | None, **params_teacher) -> SimpleNamespace:
    return SimpleNamespace(
        rule="inject_errors",
        wildcards=Wildcards(etype="calc"),
        params=SimpleNamespace(teacher={"teacher": {"kind": "oracle", **params_teacher}, "seed": 9}),
        config={"teacher": config_teacher} if config_teacher is not None else {},
    )


def test_teacher_is_built_from_the_rule_params_with_the_seed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    t = runner.teacher(smk({"kind": "oracle"}))
    assert isinstance(t, OracleTeacher) and t.seed == 9
    # the config's operational keys join the rule's answer keys (the config was checked at load;
    # a job does not check it again, and the engine still refuses a value it cannot use)
    with pytest.raises(ValueError, match="mode must be live or batch"):
        runner.teacher(
            smk({"kind": "llm", "mode": "sometimes"}, kind="llm", model="m", base_url="http://127.0.0.1:9/v1")
        )


def test_check_teacher_reads_the_current_config_fraction():
    stats = StageStats("smooth_and_filter", n_in=10, n_out=8)
    stats.drop("smooth:request_failed:timeout", 2)
    runner.check_teacher(stats, smk({"kind": "oracle", "max_failed_fraction": 0.2}))  # 20 %: at the limit
    with pytest.raises(TeacherUnreachable, match="max_failed_fraction=0.1"):
        runner.check_teacher(stats, smk({"kind": "oracle", "max_failed_fraction": 0.1}))
    # a teacher section without the key gets the schema's default (5 %) when the config is loaded;
    # the runner reads the loaded config, so it has no default of its own
    from lemma.config import fill_defaults

    cfg = {"teacher": {"kind": "oracle"}}
    fill_defaults(cfg, "config")
    with pytest.raises(TeacherUnreachable, match="max_failed_fraction=0.05"):
        runner.check_teacher(stats, smk(cfg["teacher"]))


def test_an_evaluate_rule_reads_its_benchmark_settings_and_student(tmp_path):
    """evaluate and evaluate_majority read the same things from their rule: the benchmark's
    settings (wildcard, template, shots, exemplar format, answer length, grading timeout and
    marker setting) and the
    trained model as an engine with evaluation.batch_size and the rule's threads."""
    from lemma.pipeline.evaluate import EvalSpec
    from tests.tiny_models import build_tiny_llama

    model = build_tiny_llama(tmp_path / "student")
    rule = SimpleNamespace(
        params=SimpleNamespace(
            student={"engine": "hf", "model": "builtin", "batch_size": 128, "threads": 1},
            evaluation={"max_new_tokens": 48, "batch_size": 4, "maj_k": 3},
            template="alpaca",
            source={"source": "builtin", "shots": 2, "format": "svamp"},
            grading={"timeout_s": 7.5, "require_marker": True},
        ),
        wildcards=SimpleNamespace(run="lemma", benchmark="svamp_test"),
        input=SimpleNamespace(model=str(model)),
        threads=2,
    )
    assert runner.eval_spec(rule) == EvalSpec(
        "svamp_test", "alpaca", 48, shots=2, source_format="svamp", grade_timeout=7.5, require_marker=True
    )
    rule.params.source = {"source": "builtin"}  # no shots, no format: zero-shot, exemplars by name
    assert runner.eval_spec(rule) == EvalSpec("svamp_test", "alpaca", 48, grade_timeout=7.5, require_marker=True)
    student = runner.evaluated_student(rule)
    assert student.model_path == str(model) and student.batch_size == 4


def test_finish_writes_the_stage_stats(tmp_path, capsys):
    stats = StageStats("locate_errors", n_in=3, n_out=2)
    stats.drop("not_wrong")
    out = tmp_path / "stats" / "locate.json"
    runner.finish(runner.setup_logging(), stats, str(out))
    assert json.loads(out.read_text()) == {"stage": "locate_errors", "in": 3, "out": 2, "dropped": {"not_wrong": 1}}
    runner.finish(runner.setup_logging(), StageStats("x"), None)  # no path: the log line only
    err = capsys.readouterr().err
    assert "locate_errors: 3 in, 2 out, dropped {'not_wrong': 1}" in err and "x: 0 in, 0 out, dropped none" in err


START = """
import sys
from types import SimpleNamespace
from lemma.pipeline import runner
smk = SimpleNamespace(log=[sys.argv[1]], rule="grade_samples", threads=3,
                      wildcards=SimpleNamespace(items=lambda: [("dataset", "train")]))
log = runner.start(smk)
print("a print")
log.info("a log line")
raise RuntimeError("the script failed")
"""


def test_start_sends_everything_to_the_rule_log(tmp_path):
    """start() redirects the process's stdout/stderr, so it runs in a child process of its own."""
    logfile = tmp_path / "logs" / "rule.log"
    logfile.parent.mkdir()
    logfile.write_text("an old run's log\n")
    proc = subprocess.run(
        [sys.executable, "-c", START, str(logfile)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 1 and proc.stdout == "" and proc.stderr == ""
    text = logfile.read_text()
    assert "an old run's log" not in text, "the log starts empty"
    assert "rule grade_samples wildcards={'dataset': 'train'} threads=3" in text
    assert "a print" in text and "a log line" in text
    assert "grade_samples failed" in text and "RuntimeError: the script failed" in text
