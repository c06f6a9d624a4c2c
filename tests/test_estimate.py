"""`lemma estimate` on the paper example (config/examples/llama3-8b-gpt4o.yaml) with small local
GSM8K- and MATH-layout files standing in for the real ones, and a teacher job's budget.

Before any call it prints the per-stage table (and the server sees no request); after a partial
run (the step judge and one injection type, through the real teacher against a loopback server,
writing the DAG's own files) its *done* part equals the usage tables and the cache's ledger to
the call, and the stages whose inputs now exist are counted from their real requests."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from lemma.engines.cache import RequestCache
from lemma.pipeline.augment import inject_errors
from lemma.pipeline.judges import locate_student_errors
from lemma.pipeline.problems import load_problems
from lemma.tables.io import write_json, write_table
from lemma.tables.records import GRADED, MISTAKES, PROBLEMS, STEP_LABELS
from lemma.teacher.base import TypeSpec
from lemma.teacher.factory import build_teacher
from tests.fake_openai_server import FakeOpenAIServer
from tests.test_llm_teacher import responder

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "loaders"


def paper_config(wd: Path, server_url: str, **teacher) -> Path:
    cfg = yaml.safe_load((ROOT / "config/examples/llama3-8b-gpt4o.yaml").read_text())
    cfg["datasets"] = {
        "gsm8k_train": {"source": "file", "format": "gsm8k", "path": str(DATA / "gsm8k.jsonl"), "style": "gsm8k"},
        "math_train": {"source": "file", "format": "math", "path": str(DATA / "math_tree"), "style": "math"},
    }
    cfg["taxonomy"] = str(ROOT / "config/taxonomy.yaml")
    cfg["teacher"].update(base_url=server_url, **teacher)
    cfg["teacher"].pop("api_key_env")  # the loopback server needs no key
    path = wd / "paper.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def estimate(wd: Path, cfg: Path, *extra: str) -> tuple[str, list[dict]]:
    out = wd / "estimate.json"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "lemma.cli",
            "estimate",
            "--configfile",
            str(cfg),
            "--directory",
            str(wd),
            "--json",
            str(out),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout, json.loads(out.read_text())


def test_the_paper_example_is_estimated_before_any_call(tmp_path):
    with FakeOpenAIServer(responder=responder) as server:
        cfg = paper_config(tmp_path, server.base_url)
        text, rows = estimate(tmp_path, cfg)
        assert not server.hits() and not (tmp_path / "results").exists()
    for stage in (
        "locate: the student's wrong samples",
        "classify",
        "inject: calculation_error",
        "inject: counting_error",
        "fix_continue (first_error)",
        "fresh_restart (first_error)",
        "smooth (first_error)",
        "fix_continue (whole)",
        "smooth (whole)",
        "total",
    ):
        assert stage in text, stage
    assert "tiktoken" in text  # how prompt tokens were counted is said
    jobs = {r["job"] for r in rows}
    # every teacher job of the paper's DAG: 6 types, both cuts (lemma and no_truncate), 7 buckets
    assert len([j for j in jobs if j.startswith("inject_errors/")]) == 6
    assert len([j for j in jobs if j.startswith("correct/")]) == 2 * 2 * 7
    assert len([j for j in jobs if j.startswith("smooth_and_filter/")]) == 2 * 2 * 7
    assert all(r["calls_done"] == 0 and not r["exact"] for r in rows)
    assert all(
        r["calls_todo"] > 0 and r["prompt_todo"] > 0 and r["cost_todo"] > 0
        for r in rows
        if not r["job"].startswith("locate_and_truncate/whole")
    )
    assert all(
        "estimate:" in r["basis"] and "teacher.estimate." in r["basis"]
        for r in rows
        if not r["job"].startswith("locate_and_truncate/whole")
    )


def _wrong(solution: str, k: int) -> str:
    """A wrong attempt: the reference with its last number changed (different per sample)."""
    head, _, _ = solution.rpartition(" ")
    return f"{head} {1000 + k}"


def _partial_run(wd: Path, cfg_path: Path) -> None:
    """locate_errors and inject_errors/calculation_error as the rules run them, into wd/results."""
    cfg = yaml.safe_load(cfg_path.read_text())
    rows = []
    for name, src in cfg["datasets"].items():
        rows += load_problems(name, dict(src, role="train"), None)
    problems = write_table(rows, wd / "results/problems/all.parquet", PROBLEMS)
    for name in cfg["datasets"]:
        write_table(problems.filter(pl.col("dataset") == name), wd / f"results/problems/{name}.parquet", PROBLEMS)
    graded = []
    for i, r in enumerate(problems.iter_rows(named=True)):
        for k in range(4):
            right = (i + k) % 3 == 0
            graded.append(
                {
                    "problem_id": r["id"],
                    "sample_index": k,
                    "finish_reason": "stop",
                    "completion": r["solution"] if right else _wrong(r["solution"], k),
                    "pred_answer": r["answer"] if right else str(1000 + k),
                    "correct": right,
                    "status": "ok",
                }
            )
    graded = write_table(graded, wd / "results/graded/all.parquet", GRADED)
    for name in cfg["datasets"]:
        ids = problems.filter(pl.col("dataset") == name)["id"].to_list()
        write_table(graded.filter(pl.col("problem_id").is_in(ids)), wd / f"results/graded/{name}.parquet", GRADED)
    (wd / "results/problems/all.parquet").unlink()
    (wd / "results/graded/all.parquet").unlink()

    def teacher(job: str):
        return build_teacher(
            cfg["teacher"],
            cache_path=str(wd / "results/cache/teacher.sqlite"),
            usage_path=str(wd / f"results/usage/{job}.csv"),
            seed=cfg["seed"],
            rule=job,
        )

    t = teacher("locate_errors")
    steps, stats = locate_student_errors(problems, graded, t, None)
    t.close()
    write_table(steps, wd / "results/taxonomy/steps.parquet", STEP_LABELS)
    write_json(stats.as_dict(), wd / "results/taxonomy/steps.stats.json")
    spec = TypeSpec.from_dict(
        next(
            t
            for t in yaml.safe_load((ROOT / "config/taxonomy.yaml").read_text())["types"]
            if t["name"] == "calculation_error"
        )
    )
    t = teacher("inject_errors-calculation_error")
    mistakes, stats = inject_errors(problems, graded, t, spec, cfg["augment"]["per_problem"], None)
    t.close()
    write_table(mistakes, wd / "results/mistakes/calculation_error.parquet", MISTAKES)
    write_json(stats.as_dict(), wd / "results/mistakes/calculation_error.stats.json")


def test_after_a_partial_run_done_equals_the_usage_tables_and_the_ledger(tmp_path):
    with FakeOpenAIServer(responder=responder) as server:
        cfg = paper_config(tmp_path, server.base_url)
        _partial_run(tmp_path, cfg)
        calls = len(server.hits("ok"))
        text, rows = estimate(tmp_path, cfg)
        assert len(server.hits()) == calls  # the estimate sends nothing
    usage = [r for p in sorted((tmp_path / "results/usage").glob("*.csv")) for r in csv.DictReader(open(p))]
    cache = RequestCache(tmp_path / "results/cache/teacher.sqlite")
    ledger = cache.ledger()
    done = {k: sum(r[k] for r in rows) for k in ("calls_done", "prompt_done", "completion_done", "cost_done")}
    assert calls > 0
    assert done["calls_done"] == sum(int(u["live_calls"]) for u in usage) == len(ledger) == len(cache) == calls
    assert done["prompt_done"] == sum(int(u["prompt_tokens"]) for u in usage) == sum(r["prompt_tokens"] for r in ledger)
    assert done["completion_done"] == sum(int(u["completion_tokens"]) for u in usage)
    assert done["cost_done"] == pytest.approx(sum(float(u["est_cost_usd"]) for u in usage), abs=1e-5)
    assert done["cost_done"] == pytest.approx(cache.spent_usd())

    by_job = {r["job"]: r for r in rows}
    # the jobs that ran: all done, exact
    for job in ("locate_errors", "inject_errors/calculation_error"):
        assert by_job[job]["exact"] and by_job[job]["calls_todo"] == 0 and by_job[job]["calls_done"] > 0, job
    # their inputs exist now: counted from the real requests, none done yet
    steps = pl.read_parquet(tmp_path / "results/taxonomy/steps.parquet")
    assert by_job["classify_errors"]["exact"]
    assert by_job["classify_errors"]["calls_todo"] == steps.filter(pl.col("dropped").is_null()).height
    assert by_job["inject_errors/missing_step"]["exact"]
    assert by_job["inject_errors/missing_step"]["calls_todo"] == by_job["inject_errors/calculation_error"]["calls_done"]
    mistakes = pl.read_parquet(tmp_path / "results/mistakes/calculation_error.parquet")
    assert by_job["locate_and_truncate/first_error/calculation_error"]["calls_todo"] == mistakes.height
    # the same locate requests at the other cut are not counted twice
    assert by_job["locate_and_truncate/whole/calculation_error"]["calls_todo"] == 0
    assert by_job["locate_and_truncate/whole/calculation_error"]["shared"] == mistakes.height
    # downstream of what ran: estimates from rates the run measured
    assert not by_job["correct/first_error/fix_continue/student"]["exact"]
    assert "measured" in by_job["classify_errors"]["basis"] or by_job["classify_errors"]["exact"]
    assert (
        "measured" in by_job["inject_errors/counting_error"]["basis"] or by_job["inject_errors/counting_error"]["exact"]
    )
    # completion tokens of later calls of a stage: the cache's mean once it has answers
    assert (
        "mean of" in by_job["inject_errors/missing_step"]["basis"]
        and "cached inject answers" in by_job["inject_errors/missing_step"]["basis"]
    )


def test_a_teacher_job_stops_at_the_budget_and_a_rerun_with_more_pays_nothing_twice(tmp_path):
    from lemma.engines.openai_engine import BudgetExceeded

    with FakeOpenAIServer(responder=responder) as server:
        cfg = yaml.safe_load(paper_config(tmp_path, server.base_url, max_concurrency=1).read_text())
        cfg["teacher"]["params"]["max_new_tokens"] = 300
        cfg["teacher"]["budget_usd"] = 0.02  # room for a few worst cases (300 completion tokens at $10/M)
        (tmp_path / "paper.yaml").write_text(yaml.safe_dump(cfg))
        _problems_only = []
        for name, src in cfg["datasets"].items():
            _problems_only += load_problems(name, dict(src, role="train"), None)
        problems = pl.DataFrame(_problems_only).select(list(PROBLEMS)).cast(PROBLEMS)
        graded = pl.DataFrame(
            [
                {
                    "problem_id": pid,
                    "sample_index": 0,
                    "completion": "x",
                    "finish_reason": "stop",
                    "pred_answer": "0",
                    "correct": False,
                    "status": "ok",
                }
                for pid in problems["id"]
            ]
        ).cast(GRADED)
        spec = TypeSpec("calculation_error", "an arithmetic mistake inside a step")
        db = tmp_path / "results/cache/teacher.sqlite"

        def run(budget):
            cfg["teacher"]["budget_usd"] = budget
            t = build_teacher(cfg["teacher"], cache_path=str(db), usage_path=str(tmp_path / "u.csv"), rule="inject")
            try:
                return inject_errors(problems, graded, t, spec, 5, None)
            finally:
                t.close()

        with pytest.raises(BudgetExceeded) as e:
            run(0.02)
        assert "$0.02" in str(e.value) or "budget_usd=$0.02" in str(e.value)
        cache = RequestCache(db)
        first = len(cache.ledger())
        assert 0 < first < 25 and cache.spent_usd() <= 0.02
        assert len(server.hits("ok")) == first
        rows, stats = run(5.0)
        assert stats.n_in == 25 and len(server.hits("ok")) == 25
        assert len({h.content for h in server.hits("ok")}) == 25 and cache.paid_twice() == []


def test_cost_and_limit_keys_are_checked_at_config_load():
    from lemma.config import check_teacher_config
    from lemma.teacher.factory import answer_keys

    base = {"kind": "llm", "engine": "openai", "model": "gpt-4o", "base_url": "http://127.0.0.1:9/v1"}
    assert (
        check_teacher_config(
            {
                **base,
                "budget_usd": 5,
                "prices": {"input_per_mtok": 2.5, "output_per_mtok": 10},
                "mode": "batch",
                "batch": {"retry": "live"},
                "requests_per_minute": 500,
                "token_limit_param": "max_completion_tokens",
            }
        )[0]
        == []
    )
    errors = lambda **kw: " ".join(check_teacher_config({**base, **kw})[0])  # noqa: E731
    assert "needs teacher.prices" in errors(budget_usd=5)
    assert "budget_usd" in errors(budget_usd=-1, prices={"input_per_mtok": 1})
    assert "mode" in errors(mode="sometimes")
    assert "teacher.batch.retry" in errors(batch={"retry": "never"})
    assert "unknown key" in errors(batch={"poll": 3})
    assert "requests_per_minute" in errors(requests_per_minute=0)
    assert "teacher.prices: unknown key(s)" in errors(prices={"input_per_mtok": 1, "cache_per_mtok": 1})
    assert "teacher.estimate.student_error_rate" in errors(estimate={"student_error_rate": 2})
    assert "batch needs engine openai" in " ".join(
        check_teacher_config({"kind": "llm", "engine": "hf", "model": "/nonexistent", "mode": "batch"})[0]
    )
    # what changes no answer stays out of the rules' params: raising the budget reruns nothing
    assert answer_keys({**base, "budget_usd": 5, "mode": "batch", "tokens_per_minute": 9}) == base


def test_prompt_tokens_are_counted_with_a_named_method():
    from lemma.text.tokens import token_counter

    c = token_counter("gpt-4o")
    assert "tiktoken" in c.method  # offline: the bundled cl100k_base, labelled an approximation
    assert c.exact or "approximation" in c.method
    short = c.count(messages=[{"role": "user", "content": "2 + 2 = 4."}])
    long = c.count(messages=[{"role": "user", "content": "2 + 2 = 4. " * 50}])
    assert 5 < short < 20 and long > 10 * short


def test_a_local_teacher_is_counted_with_its_own_tokenizer(tmp_path):
    """engine vllm/hf: the model directory's tokenizer (here one trained locally by `tokenizers`)."""
    from lemma.text.tokens import token_counter
    from lemma.world.tokenizer import train_tokenizer

    tok = train_tokenizer(
        ["Step 1: 4 * 3 = 12", "Step 2: 20 - 12 = 8", "The answer is: 8"] * 20, str(tmp_path / "model")
    )
    c = token_counter(str(tmp_path / "model"), "hf")
    assert c.method == f"tokenizer of {tmp_path / 'model'}" and c.exact
    text = "Step 1: 4 * 3 = 12"
    assert c.count(prompt=text) == len(tok.encode(text, add_special_tokens=False))
