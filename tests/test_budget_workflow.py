"""teacher.budget_usd through the real snakemake: the teacher rules (LLM teacher against a
loopback server) stop at the budget with a message in the rule's log, raising the budget reruns
no finished job, and the rerun finishes with no request paid twice."""

from __future__ import annotations

import pytest
import yaml

from lemma.engines.cache import RequestCache
from tests.chaos_helpers import chaos_reference, copy_run  # noqa: F401 - chaos_reference is a fixture
from tests.fake_openai_server import FakeOpenAIServer
from tests.test_chaos import TARGETS, teacher_reply, use_llm_teacher
from tests.workflow_helpers import planned_jobs, snakemake

pytestmark = pytest.mark.workflow
KEY_ENV = "LEMMA_CHAOS_TEACHER_KEY"


def set_teacher(wd, **keys) -> None:
    path = wd / "config/config.yaml"
    cfg = yaml.safe_load(path.read_text())
    cfg["teacher"].update(keys)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))


def test_the_budget_stops_the_teacher_rules_and_a_higher_one_finishes_paying_nothing_twice(
    chaos_reference, tmp_path, monkeypatch
):
    monkeypatch.setenv(KEY_ENV, "test-key-not-secret")
    with FakeOpenAIServer(responder=teacher_reply) as server:
        wd = copy_run(chaos_reference.workdir, tmp_path / "budget")
        use_llm_teacher(wd, server)
        set_teacher(wd, prices={"input_per_mtok": 2.5, "output_per_mtok": 10.0}, budget_usd=100.0)
        snakemake(wd, "results/taxonomy/steps.parquet")  # the step judge finishes within the budget
        cache = RequestCache(wd / "results/cache/teacher.sqlite")
        located = len(cache.ledger())
        assert located > 0

        # a budget that leaves room for only a few more calls
        budget = round(cache.spent_usd() + 0.004, 6)
        set_teacher(wd, budget_usd=budget)
        planned = [rule for rule, _ in planned_jobs(wd, *TARGETS)]
        assert "locate_errors" not in planned, f"changing the budget reruns a finished job: {planned}"
        r = snakemake(wd, *TARGETS, check=False)
        assert r.returncode != 0, "the run should stop at the budget"
        logs = [p for p in (wd / "logs").rglob("*.log") if "teacher budget reached" in p.read_text()]
        assert logs, r.stdout[-3000:] + r.stderr[-3000:]
        message = logs[0].read_text()
        assert f"teacher.budget_usd=${budget:g}" in message and "raise teacher.budget_usd" in message
        assert located < len(cache.ledger()) and cache.spent_usd() <= budget

        set_teacher(wd, budget_usd=100.0)
        planned = [rule for rule, _ in planned_jobs(wd, "--rerun-incomplete", *TARGETS)]
        assert "locate_errors" not in planned, planned
        snakemake(wd, "--rerun-incomplete", *TARGETS)
        ok = [h.content for h in server.hits("ok")]
    assert len(ok) == len(set(ok)), f"{len(ok) - len(set(ok))} request(s) paid twice"
    assert cache.paid_twice() == [] and len(cache.ledger()) == len(ok)
