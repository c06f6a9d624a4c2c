"""A teacher that does not answer fails its job instead of silently dropping every row.

Before, with the teacher's server down every teacher rule exited 0 with all rows dropped as
`request_failed:connection`, the variants trained on references only, and a rerun did nothing
because the outputs looked complete. Now a job whose requests failed for reasons a later run can
cure (connection, timeout, 429/5xx after retries) beyond `teacher.max_failed_fraction` fails
without writing its output, naming the stage, the count and the cause; the rerun asks only what
got no answer (answers received stay in the request cache).

Real parts only: the openai engine over real HTTP to tests/fake_openai_server.py on 127.0.0.1; a
dead teacher is a port nobody listens on, later brought to life by starting the server on it.
"""

from __future__ import annotations

import json
import re
import socket
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
import yaml

from lemma.data.loaders import load_dataset_file
from lemma.engines.cache import RequestCache
from lemma.pipeline.common import StageStats, TeacherUnreachable, check_teacher_failures
from lemma.pipeline.judges import locate_student_errors
from lemma.tables.records import GRADED, PROBLEMS
from lemma.teacher.factory import build_teacher
from tests.fake_openai_server import FakeOpenAIServer, teacher_config
from tests.tiny_models import build_tiny_llama
from tests.workflow_helpers import make_workdir, snakemake

KEY_ENV = "LEMMA_DEAD_TEACHER_KEY"
JUDGE_REPLY = "The first step already uses a wrong value.\n**The first wrong step is Step 1.**"

# GSM8K-layout problems written for this test; [pN] markers let the server fail chosen requests
QUESTIONS = [
    ("[p{}] Mia bakes {} trays of 12 cookies and gives away 15. How many cookies does she keep?", 4),
    ("[p{}] A shelf has {} rows of 9 books. Ben takes 7. How many books are left?", 5),
    ("[p{}] Each box holds {} pens. How many pens are in 6 boxes?", 8),
    ("[p{}] Sam walks {} km a day for a week. How far does he walk?", 3),
]


def write_gsm8k(path: Path, first: int, n: int) -> None:
    rows = []
    for i in range(first, first + n):
        template, k = QUESTIONS[i % len(QUESTIONS)]
        q = template.format(i, k + i)
        rows.append({"question": q, "answer": f"We work it out step by step.\n#### {k + i}"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def free_port() -> int:
    """A port nobody listens on (bound and released at once): a teacher that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def judge(body: dict) -> str:
    return JUDGE_REPLY


def teacher_cfg(port: int) -> dict:
    return teacher_config(
        f"http://127.0.0.1:{port}/v1",
        KEY_ENV,
        request_timeout_s=10,
        max_retries=1,
        params={"temperature": 0.7, "max_new_tokens": 64},
    )


# ------------------------------------------------------------------ the threshold itself
def stats_with(**dropped) -> StageStats:
    s = StageStats("correct", n_in=20)
    for reason, n in dropped.items():
        s.drop(reason.replace("__", ":"), n)
    s.n_out = s.n_in - sum(s.dropped.values())
    return s


def test_threshold_counts_only_failures_a_rerun_can_cure():
    # 2 of 20 connection failures is above 5%: fail, naming stage, count and cause
    with pytest.raises(TeacherUnreachable, match=r"correct: 2 of 20 teacher requests got no answer \(connection: 2\)"):
        check_teacher_failures(stats_with(fix_continue__request_failed__connection=2), 0.05)
    # 1 of 20 is not above 5%: a drop like any other
    check_teacher_failures(stats_with(fix_continue__request_failed__timeout=1), 0.05)
    # the causes are summed and each named
    with pytest.raises(TeacherUnreachable, match=r"3 of 20 .*http_503: 2, http_429: 1"):
        check_teacher_failures(
            stats_with(fix_continue__request_failed__http_503=2, fix_continue__request_failed__http_429=1), 0.1
        )
    # a 400 is about the request (a prompt too long for the model), and parse drops are answers
    check_teacher_failures(stats_with(fix_continue__request_failed__http_400=10, fix_continue__no_final_answer=8), 0.0)
    # max_failed_fraction 1.0: never fail (the old behaviour, by choice)
    check_teacher_failures(stats_with(fix_continue__request_failed__connection=20), 1.0)


# ------------------------------------------------------------------ one stage, in this process
def stage_inputs(tmp_path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    write_gsm8k(tmp_path / "train.jsonl", 0, 8)
    problems = pl.DataFrame(load_dataset_file(str(tmp_path / "train.jsonl"), "gsm8k", "train"), schema=PROBLEMS)
    graded = pl.DataFrame(
        [
            {
                "problem_id": pid,
                "sample_index": 0,
                "completion": f"First I add {i} and 2.\nSo I get {i + 3}.\n#### {i + 3}",
                "finish_reason": "stop",
                "pred_answer": str(i + 3),
                "correct": False,
                "status": "ok",
            }
            for i, pid in enumerate(problems["id"])
        ],
        schema=GRADED,
    )
    return problems, graded


def run_stage(port: int, cache: Path, problems, graded):
    teacher = build_teacher(teacher_cfg(port), cache_path=str(cache), rule="locate_errors")
    try:
        rows, stats = locate_student_errors(problems, graded, teacher, None)
    finally:
        teacher.close()
    return rows, stats


def test_a_stage_fails_on_a_dead_teacher_and_its_rerun_pays_nothing_twice(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "dummy-key")
    problems, graded = stage_inputs(tmp_path)
    cache = tmp_path / "cache.sqlite"
    port = free_port()

    rows, stats = run_stage(port, cache, problems, graded)  # nobody listens
    assert stats.dropped == Counter({"locate:request_failed:connection": 8})
    with pytest.raises(
        TeacherUnreachable, match=r"locate_errors: 8 of 8 teacher requests got no answer \(connection: 8\)"
    ):
        check_teacher_failures(stats, 0.05)

    with FakeOpenAIServer(responder=judge, port=port) as server:
        # up, but three problems' requests get 500s through every retry: still too many
        for marker in ("[p1]", "[p4]", "[p6]"):
            server.add_fault("500", match=marker, times=2)
        rows, stats = run_stage(port, cache, problems, graded)
        with pytest.raises(TeacherUnreachable, match=r"3 of 8 teacher requests got no answer \(http_500: 3\)"):
            check_teacher_failures(stats, 0.05)
        answered = {h.content for h in server.hits("ok")}
        assert len(answered) == 5

        rows, stats = run_stage(port, cache, problems, graded)  # healthy now
        check_teacher_failures(stats, 0.05)
        assert stats.n_out == 8 and not stats.dropped and all(r["first_wrong_step"] == 1 for r in rows)
        ok = [h.content for h in server.hits("ok")]
    # the rerun asked only the three that had no answer; nothing was answered twice
    assert len(ok) == len(set(ok)) == 8 and answered < set(ok)
    store = RequestCache(cache)
    try:
        assert len(store) == 8 and store.paid_twice() == []
    finally:
        store.close()


# ------------------------------------------------------------------ the workflow
@pytest.mark.workflow
def test_the_workflow_fails_on_a_dead_teacher_and_the_rerun_completes(tmp_path, monkeypatch):
    """Real snakemake: a tiny student samples GSM8K-layout problems, the locate_errors rule asks an
    LLM teacher on a dead port. ~1-2 min on 2 cores."""
    monkeypatch.setenv(KEY_ENV, "dummy-key")  # inherited by snakemake and its jobs
    data = tmp_path / "data"
    data.mkdir()
    write_gsm8k(data / "train.jsonl", 0, 4)
    write_gsm8k(data / "test.jsonl", 10, 2)
    model = build_tiny_llama(tmp_path / "student")
    port = free_port()
    cfg = {
        "seed": 1,
        "prompt_template": "alpaca",
        "datasets": {"train": {"source": "file", "format": "gsm8k", "path": str(data / "train.jsonl")}},
        "benchmarks": {"test": {"source": "file", "format": "gsm8k", "path": str(data / "test.jsonl")}},
        "student": {"engine": "hf", "model": str(model), "batch_size": 16, "threads": 1},
        "sampling": {"n": 2, "temperature": 1.0, "max_new_tokens": 16, "shards": 1, "seed": 0},
        "teacher": teacher_cfg(port),
        "reflection_phrases": ["Wait, something is off here."],
        "variants": {"sft": {"trajectories": False}},
    }
    cfg_path = tmp_path / "config.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    wd = make_workdir(tmp_path / "run", cfg_path)
    target = "results/taxonomy/steps.parquet"

    dead = snakemake(wd, target, check=False)
    assert dead.returncode != 0, "the teacher rule succeeded with its teacher down"
    assert (wd / "results/graded/train.parquet").exists() and not (wd / target).exists()
    log = (wd / "logs/locate_errors.log").read_text()
    # every request failed (a sample the student left empty is dropped without one)
    m = re.search(r"locate_errors: (\d+) of (\d+) teacher requests got no answer \(connection: \1\)", log)
    assert m, log[-3000:]
    n = int(m.group(1))  # requests, one per distinct wrong sample with text
    assert n >= 4
    assert not (wd / "results/taxonomy/steps.stats.json").exists()

    with FakeOpenAIServer(responder=judge, port=port) as server:
        server.add_fault("500", match="[p2]", times=100)  # one problem's requests never answered
        again = snakemake(wd, target, check=False)
        assert again.returncode != 0 and not (wd / target).exists()
        assert "http_500" in (wd / "logs/locate_errors.log").read_text()
        answered = {h.content for h in server.hits("ok")}
        assert 0 < len(answered) < n

        server.faults.clear()
        snakemake(wd, target)
        ok = [h.content for h in server.hits("ok")]
    steps = pl.read_parquet(wd / target)
    assert steps["dropped"].null_count() == n and steps.height == int(m.group(2))
    assert len(ok) == len(set(ok)) == n and answered < set(ok), "a request was answered twice"
    store = RequestCache(wd / "results/cache/teacher.sqlite")
    try:
        assert len(store) == n and store.paid_twice() == []
    finally:
        store.close()
    # the rerun of a complete workflow asks nothing
    assert "Nothing to be done" in snakemake(wd, target).stdout + snakemake(wd, target).stderr
