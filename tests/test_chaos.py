"""Crash safety: kill -9 the workflow at random moments, rerun the same command, end with the
results of an uninterrupted run, and never pay a teacher twice.

1. The built-in world (tests/data/chaos_config.yaml, oracle teacher): the whole snakemake process
   group is SIGKILLed at seeded random moments spread over the uninterrupted run's measured wall
   time, each time followed by `--unlock` (a hard kill leaves Snakemake's lock behind) and a rerun
   with --rerun-incomplete; the final results/ must equal the uninterrupted run's, file by file.
2. The teacher rules with an LLM teacher against a real HTTP server on 127.0.0.1
   (tests/fake_openai_server.py): killed twice while requests are in flight, then rerun; no
   request whose answer was stored is ever sent again, the request cache holds one paid answer per
   key, and the tables equal those of an uninterrupted run with its own server and cache.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from pathlib import Path

import polars as pl
import pytest
import yaml

from lemma.engines.cache import RequestCache
from lemma.teacher.prompts import PromptSet
from tests.chaos_helpers import (  # noqa: F401 - chaos_reference is a fixture
    CHAOS_CONFIG,
    Run,
    chaos_reference,
    compare_results,
    copy_run,
    running_rules,
    snapshot,
    temp_litter,
    torn_files,
)
from tests.fake_openai_server import FakeOpenAIServer, teacher_config
from tests.workflow_helpers import make_workdir, snakemake

pytestmark = pytest.mark.workflow

SEED = 6  # issue 6
KILLS = 6
# Files whose only differences between two runs are wall-clock fields (see chaos_helpers).
TIMING_FILES = ("curves.csv", "training_complete.json", "student_pretrain.json", ".png")


def kill_moments(total: float, n: int, rng: random.Random) -> list[float]:
    """n moments (seconds of run time) spread over (5%, 85%) of `total`: one uniform draw in each
    of n equal strata, so no two kills crowd together and every part of the run gets one."""
    lo, hi = 0.05, 0.85
    width = (hi - lo) / n
    return [total * (lo + width * (i + rng.random())) for i in range(n)]


def test_killed_and_rerun_workflow_ends_like_an_uninterrupted_one(chaos_reference, tmp_path):
    ref = chaos_reference
    wd = make_workdir(tmp_path / "chaos", CHAOS_CONFIG)
    moments = kill_moments(ref.seconds, KILLS, random.Random(SEED))
    kills: list[str] = []
    ran = 0.0  # run time of the interrupted attempts so far (the pauses between them excluded)
    for i, moment in enumerate(moments):
        run = Run.start(wd, "--rerun-incomplete", log_name=f"attempt{i}.out")
        # Kill at the scheduled moment, but only once this attempt has finished a job: a job
        # that cannot resume (the tiny config's pre-training is shorter than its checkpoint
        # interval) and outlasts the gap between two kills would otherwise be killed forever.
        while run.proc.poll() is None:
            elapsed = time.monotonic() - run.started
            if ran + elapsed >= moment and "Finished jobid" in run.output():
                break
            time.sleep(0.05)
        if run.proc.poll() is not None:  # the run got done before this kill
            assert run.proc.returncode == 0, f"attempt {i} failed:\n{run.output()[-6000:]}"
            break
        interrupted = running_rules(run.output())
        run.kill9()
        ran += time.monotonic() - run.started
        kills.append(f"{ran:.0f}s: {', '.join(interrupted) or '(no job running)'}")
        torn = torn_files(wd)
        assert not torn, f"kill {i} left files that look complete but are not: {torn}"
        if i == 0:
            # A hard kill leaves Snakemake's lock: the same command refuses to start, touches
            # nothing and says how to go on.
            before = snapshot(wd)
            refused = snakemake(wd, "--rerun-incomplete", check=False)
            assert refused.returncode != 0 and "--unlock" in refused.stdout + refused.stderr
            assert snapshot(wd) == before
        snakemake(wd, "--unlock")

    report = "\n  ".join(kills)
    assert len(kills) >= 5, f"only {len(kills)} kills landed before the run was done:\n  {report}"
    if len(kills) == KILLS:
        final = Run.start(wd, "--rerun-incomplete", log_name="final.out")
        assert final.wait(timeout=1200) == 0, f"the rerun after {KILLS} kills failed:\n{final.output()[-6000:]}"
    assert sum("no job running" not in k for k in kills) >= KILLS // 2, f"most kills hit no job:\n  {report}"

    # Same results as the uninterrupted run: byte-identical, or equal as data (frames, tensors,
    # JSON), or (only for the training summaries and curves) equal apart from wall-clock fields.
    diff = compare_results(ref.workdir, wd)
    bad = {
        rel: v
        for rel, v in diff.items()
        if v[0] in ("missing", "differs") or (v[0] == "timing" and not rel.endswith(TIMING_FILES))
    }
    assert not bad, f"results differ from the uninterrupted run after kills at\n  {report}\n{bad}"
    assert diff["results/scores.csv"][0] == "bytes"
    weights = [rel for rel in diff if rel.endswith(".safetensors")]
    assert len(weights) == 3 and all(diff[rel][0] in ("bytes", "content") for rel in weights)
    assert not list((wd / "results/checkpoints").rglob("*.safetensors")), "checkpoints left after training"
    litter = temp_litter(wd)
    print(
        f"\nkills (run time of the interrupted sequence: {ran:.0f}s of a {ref.seconds:.0f}s run):\n  {report}"
        f"\nbyte-identical: {sum(v[0] == 'bytes' for v in diff.values())} of {len(diff)} files; "
        f"temp files left by killed writes: {litter}"
    )


# ------------------------------------------------------------------ LLM teacher, killed mid-batch
PROMPTS = PromptSet.load()
SYSTEM_TO_STAGE = {t.system.strip(): name for name, t in PROMPTS.templates.items()}
TARGETS = ("results/taxonomy/labels.parquet", "results/mistakes/calculation_error.parquet")


def teacher_reply(body: dict) -> str:
    """A deterministic teacher: both judges answer in their expected format; the injection reply
    is one the parser refuses, so those items are dropped with a reason (the same in every run)."""
    system = next(m["content"] for m in body["messages"] if m["role"] == "system").strip()
    stage = SYSTEM_TO_STAGE[system]
    if stage == "judge_step":
        return "The first step already uses a wrong value.\n**The first wrong step is Step 1.**"
    if stage == "judge_type":
        return "A product inside the step is computed wrongly.\nSo the wrong type is Calculation Error."
    return "I would rather not write a wrong solution."


KEY_ENV = "LEMMA_CHAOS_TEACHER_KEY"
SECRET = "sk-chaos-7f3c9a1e5b2d4c6e8f0a1b2c3d4e5f60"


def key_leaks(wd: Path) -> list[str]:
    """Files of a run (results, logs, .snakemake metadata, ...) that hold the API key's value."""
    return [str(p.relative_to(wd)) for p in wd.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]


def use_llm_teacher(wd: Path, server: FakeOpenAIServer) -> None:
    cfg_path = wd / "config/config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["teacher"] = teacher_config(
        server.base_url,
        KEY_ENV,
        request_timeout_s=20,
        max_retries=2,
        params={"temperature": 0.7, "max_new_tokens": 256},
    )
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))


def stored_texts(wd: Path) -> set[str]:
    """The last user message of every answer in the run's request cache."""
    path = wd / "results/cache/teacher.sqlite"
    if not path.exists():
        return set()
    with sqlite3.connect(path) as db:
        return {json.loads(r)["messages"][-1]["content"] for (r,) in db.execute("SELECT request FROM responses")}


def test_killed_teacher_rules_never_pay_twice(chaos_reference, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)  # inherited by snakemake and its jobs
    # The uninterrupted run: its own server and its own (empty) cache.
    with FakeOpenAIServer(responder=teacher_reply, delay=0.15) as server:
        clean = copy_run(chaos_reference.workdir, tmp_path / "clean")
        use_llm_teacher(clean, server)
        snakemake(clean, *TARGETS)
        n_requests = len(server.hits("ok"))
    assert n_requests > 60, f"too few teacher requests ({n_requests}) for a kill test"

    with FakeOpenAIServer(responder=teacher_reply, delay=0.15) as server:
        wd = copy_run(chaos_reference.workdir, tmp_path / "killed")
        use_llm_teacher(wd, server)
        stored_at_kill: list[set[str]] = []
        answered_at_kill: list[int] = []
        for threshold in (n_requests // 5, n_requests * 3 // 5):
            run = Run.start(wd, "--rerun-incomplete", *TARGETS, log_name=f"killed{len(stored_at_kill)}.out")
            deadline = time.monotonic() + 300
            while len(server.hits("ok")) < threshold:
                assert run.proc.poll() is None, f"finished before {threshold} answers:\n{run.output()[-3000:]}"
                assert time.monotonic() < deadline, "no progress"
                time.sleep(0.005)
            run.kill9()
            answered_at_kill.append(len(server.log))
            stored_at_kill.append(stored_texts(wd))
            snakemake(wd, "--unlock")
        snakemake(wd, "--rerun-incomplete", *TARGETS)
        log = server.hits()

    # No request with a stored answer is sent again after a kill.
    for k, (stored, at) in enumerate(zip(stored_at_kill, answered_at_kill)):
        assert stored, f"kill {k}: nothing was stored before it"
        again = stored & {h.text for h in log[at:]}
        assert not again, f"kill {k}: {len(again)} request(s) with a stored answer were sent again"
    # Only answers in flight at a kill (sent by the server, never stored) are paid twice: at most
    # max_concurrency per running teacher job (two at once on 2 cores) per kill.
    ok = [h.content for h in log if h.outcome == "ok"]
    twice = len(ok) - len(set(ok))
    assert twice <= len(stored_at_kill) * 2 * 4, f"{twice} requests were answered twice"
    assert len(set(ok)) == n_requests, "the killed run asked other requests than the uninterrupted one"
    cache = RequestCache(wd / "results/cache/teacher.sqlite")
    try:
        assert len(cache) == n_requests and cache.paid_twice() == []
        assert set(cache.live_counts().values()) == {1}
    finally:
        cache.close()
    for rel in (
        "results/taxonomy/steps.parquet",
        "results/taxonomy/labels.parquet",
        "results/mistakes/calculation_error.parquet",
    ):
        a, b = pl.read_parquet(clean / rel), pl.read_parquet(wd / rel)
        assert a.equals(b), f"{rel}: the killed run's table differs from the uninterrupted one"
    assert pl.read_parquet(wd / "results/taxonomy/labels.parquet")["error_type"].drop_nulls().len() > 0
    assert f"Bearer {SECRET}" in server.auth_headers, "the key never reached the server"
    assert not key_leaks(wd), f"the API key's value is written in {key_leaks(wd)}"
    print(f"\nLLM teacher: {n_requests} requests, {twice} answered twice (in flight at a kill)")


# ------------------------------------------------- training killed between its last step and the end
def test_training_killed_after_its_last_checkpoint_resumes_to_the_same_model(tmp_path):
    """The state a kill leaves between the Trainer's checkpoint at the last step and the end of
    train() (moving the model into place, the curves plot, removing the checkpoints): the
    checkpoints are there, the output directory is not (Snakemake deletes an incomplete one)."""
    import shutil

    import torch
    from safetensors.torch import load_file

    from lemma.text.prompting import format_prompt
    from lemma.training.finetune import train
    from lemma.world.problems import generate_world
    from lemma.world.student import build_student
    from lemma.world.tokenizer import train_tokenizer

    rows = generate_world(7, 100, 10, 10)["train"]
    tok = train_tokenizer((r["question"] + "\n" + r["solution"] for r in rows), tmp_path / "tok", vocab_size=384)
    examples = [{"prompt": format_prompt(r["question"], "world"), "response": r["solution"]} for r in rows]
    # the pre-training recipe's shape: cosine to a floor, so a step more moves the weights
    params = {
        "max_steps": 6,
        "save_steps": 3,
        "per_device_batch": 16,
        "global_batch": 16,
        "lr": 1e-3,
        "min_lr_ratio": 0.1,
        "warmup_ratio": 0.0,
        "cutoff_len": 256,
        "threads": 1,
        "seed": 0,
        "logging_steps": 1,
        "checkpoint_dir": str(tmp_path / "ckpt"),
    }
    out = tmp_path / "model"

    def student():
        return build_student(tok, hidden=32, layers=1, heads=2, seed=0)

    first = train(student(), tok, examples, out, {**params, "keep_checkpoints": True})
    reference = load_file(str(out / "model.safetensors"))
    assert first["steps"] == 6 and (tmp_path / "ckpt").is_dir()
    shutil.rmtree(out)  # what Snakemake does to the killed job's directory output

    rerun = train(student(), tok, examples, out, params)
    weights = load_file(str(out / "model.safetensors"))
    assert rerun["steps"] == 6, f"the rerun trained {rerun['steps']} steps (resumed from {rerun['resumed_from']})"
    assert all(torch.equal(reference[k], weights[k]) for k in reference)
