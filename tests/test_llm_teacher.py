"""The LLM teacher end to end: factory -> LLMTeacher -> openai engine -> cache -> a real HTTP
server on 127.0.0.1 that answers like a teacher model, picking its reply by the prompt (which
prompt file was used, and a marker in the question)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lemma.config import check_teacher_config
from lemma.engines.base import Completion, SamplingParams
from lemma.engines.cache import RequestCache
from lemma.teacher.base import (
    ClassifyRequest,
    CorrectRequest,
    InjectRequest,
    LocateRequest,
    ProblemView,
    SmoothRequest,
    TypeSpec,
)
from lemma.teacher.factory import build_teacher
from lemma.teacher.llm import LLMTeacher, row_seed
from lemma.teacher.prompts import PromptSet
from tests.fake_openai_server import FakeOpenAIServer, teacher_config

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = PromptSet.load()
KEY_ENV = "LEMMA_TEST_TEACHER_KEY"
PHRASE = "Hold on, let me check that step again."

REFERENCE = "4 * 3 = 12 dollars for the pens.\n20 - 12 = 8 dollars back.\nThe answer is: 8"
WRONG = "4 * 3 = 14 dollars for the pens.\n20 - 14 = 6 dollars back.\nThe answer is: 6"
CORRECT_SAMPLE = "Change is 20 minus the cost. The cost is 3 + 3 + 3 + 3 = 12.\n20 - 12 = 8.\nThe answer is: 8"


def problem(marker: str) -> ProblemView:
    return ProblemView(
        id=marker,
        question=f"[{marker}] Tom buys 4 pens at 3 dollars each and pays with a "
        "20 dollar bill. How much change does he get?",
        solution=REFERENCE,
        answer="8",
    )


def stage_of(body: dict) -> str:
    system = next(m["content"] for m in body["messages"] if m["role"] == "system")
    return next(name for name, t in PROMPTS.templates.items() if t.system.strip() == system)


REPLIES = {
    ("judge_step", "good"): "Step 1 computes 4 * 3 as 14, but it is 12.\n**The first wrong step is Step 1.**",
    ("judge_step", "bad"): "Both steps look questionable to me.",
    ("judge_type", "good"): "The product 4 * 3 was computed as 14.\nSo the wrong type is Calculation Error.",
    ("judge_type", "bad"): "the wrong type is rounding_error",
    ("fix_continue", "good"): (
        f"{PHRASE} Step 1 says 4 * 3 = 14, but 4 * 3 = 12. So the pens cost 12 dollars.\n"
        "20 - 12 = 8 dollars back.\nThe answer is: 8"
    ),
    ("fix_continue", "bad"): "Step 1 is wrong, 4 * 3 = 12, and I will stop here.",
    ("fresh_restart", "good"): (
        "That attempt went wrong at step 1, so I will start over. Each pen costs 3 "
        "dollars, so 4 pens cost 3 + 3 + 3 + 3 = 12 dollars.\n20 - 12 = 8.\nThe answer is: 8"
    ),
    ("smooth", "good"): (
        "4 * 3 = 14 dollars for the pens. Hold on, 4 * 3 is 12, not 14, so the pens cost 12 "
        "dollars.\n20 - 12 = 8 dollars back.\nThe answer is: 8"
    ),
    ("smooth", "bad"): ("4 * 3 = 12 dollars for the pens and then he gets his change back, which comes to", "length"),
}


def injection(seed: int) -> str:
    wrong = 14 if seed == 0 else 15  # sample 0 is sent with the configured seed (0), others not
    return (
        f"4 * 3 = {wrong} dollars for the pens.\n20 - {wrong} = {20 - wrong} dollars back.\n"
        f"The answer is: {20 - wrong}\n<explanation>Wrong step: 4 * 3 = {wrong} dollars for the pens.\n"
        f"4 * 3 is 12, so the change is 8.</explanation>"
    )


def responder(body: dict):
    stage = stage_of(body)
    user = body["messages"][-1]["content"]
    if stage == "inject":
        if "[bad]" in user:
            return "4 * 3 = 14.\n20 - 14 = 6.\nThe answer is: 6"  # no explanation
        return injection(body["seed"])
    marker = "bad" if "[bad]" in user else "good"
    return REPLIES[(stage, marker)]


TAXONOMY = [
    TypeSpec("calculation_error", "An arithmetic slip.", ("7 * 8 = 54",), "CA"),
    TypeSpec("operator_error", "The wrong operation.", ("50 + 24 for change",), "OP"),
    TypeSpec("question_misinterpretation", "Answers another question.", (), "QM"),
]


@pytest.fixture
def server():
    with FakeOpenAIServer(responder=responder) as s:
        yield s


@pytest.fixture
def teacher_cfg(server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "dummy-key")
    return teacher_config(
        server.base_url,
        KEY_ENV,
        "teacher-model",
        params={"temperature": 0.7, "top_p": 1.0, "max_new_tokens": 512},
        prices={"input_per_mtok": 2.5, "output_per_mtok": 10.0},
    )


def test_every_method_parses_replies_and_drops_with_reasons(server, teacher_cfg, tmp_path):
    server.add_fault("500", match="[fail]", times=100)
    teacher = build_teacher(
        teacher_cfg, cache_path=str(tmp_path / "cache.sqlite"), usage_path=str(tmp_path / "usage.csv"), rule="test"
    )
    assert isinstance(teacher, LLMTeacher)

    steps = teacher.locate_errors(
        [
            LocateRequest(problem("good"), WRONG),
            LocateRequest(problem("bad"), WRONG),
            LocateRequest(problem("fail"), WRONG),
            LocateRequest(problem("good"), "  "),
        ]
    )
    assert steps[0].first_wrong_step == 1 and steps[0].dropped is None and "14" in steps[0].rationale
    assert [s.dropped for s in steps[1:]] == [
        "locate:no_step_statement",
        "locate:request_failed:http_500",
        "locate:empty_solution",
    ]

    types = teacher.classify_errors(
        [ClassifyRequest(problem("good"), WRONG, 1), ClassifyRequest(problem("bad"), WRONG)], TAXONOMY
    )
    assert types[0].error_type == "calculation_error" and types[0].dropped is None
    assert types[1].error_type is None and types[1].dropped == "classify:unknown_type"
    # the two requests run concurrently: pick the one for the problem that carried a step hint
    judge_prompt = next(h for h in server.hits() if "Decide which kind" in h.text and "[good]" in h.text).text
    assert "calculation_error (CA): An arithmetic slip." in judge_prompt and "step 1" in judge_prompt

    calc = TAXONOMY[0]
    mistakes = teacher.inject_errors(
        [
            InjectRequest(problem("good"), calc, 0),
            InjectRequest(problem("good"), calc, 1),
            InjectRequest(problem("bad"), calc, 0),
        ]
    )
    assert mistakes[0].solution.endswith("The answer is: 6") and mistakes[0].wrong_step == 1
    assert mistakes[1].solution.endswith("The answer is: 5"), "sample 1 is its own request with its own seed"
    assert mistakes[2].solution is None and mistakes[2].dropped == "inject:no_explanation"
    # the injection prompt carries the type's definition and examples
    assert any("7 * 8 = 54" in h.text and "An arithmetic slip." in h.text for h in server.hits())

    prefix = "4 * 3 = 14 dollars for the pens."
    fixes = teacher.fix_continue(
        [
            CorrectRequest(problem("good"), prefix, 1, "calculation_error", PHRASE),
            CorrectRequest(problem("bad"), prefix, 1, "calculation_error", PHRASE),
            CorrectRequest(problem("good"), prefix, 3, "calculation_error", PHRASE),
        ]
    )
    assert fixes[0].text.startswith("Step 1 says 4 * 3 = 14") and fixes[0].text.endswith("The answer is: 8")
    assert [f.dropped for f in fixes] == [None, "fix_continue:no_final_answer", "fix_continue:wrong_step_out_of_range"]

    restarts = teacher.fresh_restart(
        [
            CorrectRequest(problem("good"), prefix, 1, None, PHRASE, correct_sample=CORRECT_SAMPLE),
            CorrectRequest(problem("fail"), prefix, 1, None, PHRASE),
        ]
    )
    assert restarts[0].text.endswith("The answer is: 8") and restarts[0].dropped is None
    assert restarts[1].dropped == "fresh_restart:request_failed:http_500"
    restart_prompt = next(h for h in server.hits() if "[good]" in h.text and CORRECT_SAMPLE.splitlines()[0] in h.text)
    assert restart_prompt is not None

    smoothed = teacher.smooth(
        [SmoothRequest(problem("good"), prefix + "\n" + PHRASE + " ..."), SmoothRequest(problem("bad"), prefix)]
    )
    assert smoothed[0].text.endswith("The answer is: 8") and smoothed[0].dropped is None
    assert smoothed[1].dropped == "smooth:truncated"
    teacher.close()

    # the same calls again: every answer from the cache, nothing sent but the failures
    before = len(server.hits())
    again = build_teacher(teacher_cfg, cache_path=str(tmp_path / "cache.sqlite"), rule="test")
    assert again.locate_errors([LocateRequest(problem("good"), WRONG)])[0].first_wrong_step == 1
    assert again.inject_errors([InjectRequest(problem("good"), calc, 1)])[0].solution.endswith("The answer is: 5")
    assert len(server.hits()) == before
    again.locate_errors([LocateRequest(problem("fail"), WRONG)])
    assert len(server.hits()) == before + 1, "a failed request is asked again"
    again.close()
    assert (tmp_path / "usage.csv").read_text().count("\n") == 1 + 6  # header + one row per batch


def test_config_checks(teacher_cfg, monkeypatch):
    assert check_teacher_config(teacher_cfg) == ([], [])
    errors, _ = check_teacher_config({**teacher_cfg, "api_key": "sk-abcdefghijklmnopqrstuvwxyz0123"})
    assert any("teacher.api_key" in e and "api_key_env" in e for e in errors)
    assert not any("sk-abcdef" in e for e in errors), "an error message must not repeat the key"
    errors, _ = check_teacher_config({**teacher_cfg, "api_key_env": "sk-abcdefghijklmnopqrstuvwxyz0123"})
    assert errors and "looks like the key itself" in errors[0]
    errors, _ = check_teacher_config({**teacher_cfg, "params": {"temperature": 0.7, "token": "sk-abcdefghijklmnopq12"}})
    assert any("teacher.params.token" in e for e in errors)
    monkeypatch.delenv(KEY_ENV)
    errors, warnings = check_teacher_config(teacher_cfg)
    assert errors == [] and KEY_ENV in warnings[0]
    with pytest.raises(RuntimeError, match=KEY_ENV):
        build_teacher(teacher_cfg, cache_path=None)
    errors, _ = check_teacher_config({"kind": "llm", "model": "gpt-4o"})
    assert any("needs a key" in e for e in errors)
    errors, _ = check_teacher_config({**teacher_cfg, "prompts_dir": "/nonexistent/prompts"})
    assert any("prompts_dir" in e for e in errors)
    errors, _ = check_teacher_config({**teacher_cfg, "kind": "gpt"})
    assert errors and "teacher.kind" in errors[0]
    assert check_teacher_config({"kind": "oracle", "engine": "openai", "params": {}, "prices": {}}) == ([], [])
    errors, _ = check_teacher_config({**teacher_cfg, "max_concurrency": 0, "params": {"temprature": 1}})
    assert any("max_concurrency" in e for e in errors) and any("temprature" in e for e in errors)


@pytest.mark.parametrize("name", ["llama3-8b-gpt4o.yaml", "local-vllm-teacher.yaml"])
def test_example_configs_have_a_valid_llm_teacher(name, monkeypatch):
    cfg = yaml.safe_load((ROOT / "config" / "examples" / name).read_text())
    monkeypatch.chdir(ROOT)
    errors, _ = check_teacher_config(cfg["teacher"])
    assert errors == []
    assert cfg["teacher"]["kind"] == "llm" and cfg["student"]["engine"] == "vllm"
    head = (ROOT / "config" / "examples" / name).read_text().splitlines()[:15]
    assert any(f"snakemake --cores all --configfile config/examples/{name}" in line for line in head)


class _ScriptedLocalEngine:
    """A stand-in for a local engine (hf/vllm) that has no cache of its own; it answers every
    prompt with a fixed smoothing reply and records what it was asked."""

    name = "local"
    model = "/models/teacher"

    def __init__(self):
        self.asked = []

    def generate(self, requests, progress=None):
        self.asked += requests
        return [
            [Completion(f"Smooth seed {r.params.seed} #{s}.\nThe answer is: 8", "stop") for s in range(r.params.n)]
            for r in requests
        ]

    def close(self):
        pass


def test_a_local_engine_is_put_behind_the_cache(tmp_path):
    engine = _ScriptedLocalEngine()
    teacher = LLMTeacher(engine, PROMPTS, SamplingParams(), RequestCache(tmp_path / "c.sqlite"))
    reqs = [SmoothRequest(problem("good"), "t", 0), SmoothRequest(problem("good"), "t", 2)]
    first = teacher.smooth(reqs)
    # one request per needed sample (never samples 0..2 for the row of index 2), seeded by its index
    assert [t.text.splitlines()[0] for t in first] == ["Smooth seed 0 #0.", f"Smooth seed {row_seed(0, 2)} #0."]
    assert [r.params.n for r in engine.asked] == [1, 1]
    assert teacher.smooth(reqs) == first and len(engine.asked) == 2
    teacher.close()


def test_call_ledger_one_completion_per_needed_row_and_none_on_rerun(server, teacher_cfg, tmp_path):
    """Count what reaches a real engine (the openai engine, over HTTP on loopback): exactly one
    completion per row that needs one (rows asking for the same prompt and sample share it), and
    nothing at all when the same rows are asked again (the request cache answers)."""
    calc = TAXONOMY[0]
    cache = tmp_path / "cache.sqlite"
    inject = [InjectRequest(problem("good"), calc, k) for k in (0, 2, 5, 5)]  # 3 distinct rows
    smooth = [
        SmoothRequest(problem("good"), "4 * 3 = 14.\nHold on. 4 * 3 = 12, so 8.\nThe answer is: 8", k) for k in (3, 1)
    ]
    prefix = "4 * 3 = 14 dollars for the pens."
    fixes = [CorrectRequest(problem("good"), prefix, 1, None, PHRASE, sample_index=k) for k in (4, 0)]

    teacher = build_teacher(teacher_cfg, cache_path=str(cache), rule="test")
    first = (teacher.inject_errors(inject), teacher.smooth(smooth), teacher.fix_continue(fixes))
    teacher.close()
    assert len(server.hits()) == 3 + 2 + 2, "one completion per distinct needed row, no more"
    # each row's answer is its own sample: sample 0 keeps the configured seed, others differ
    assert first[0][0].solution.endswith("The answer is: 6") and first[0][1].solution.endswith("The answer is: 5")
    ledger = RequestCache(cache)
    assert len(ledger) == 7 and ledger.paid_twice() == []
    ledger.close()

    again = build_teacher(teacher_cfg, cache_path=str(cache), rule="test")
    second = (again.inject_errors(inject), again.smooth(smooth), again.fix_continue(fixes))
    again.close()
    assert len(server.hits()) == 7, "a rerun sends nothing"
    assert second == first
