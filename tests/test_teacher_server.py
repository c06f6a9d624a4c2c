"""teacher.serve: the workflow starts one teacher server for the run, its teacher jobs reach it
through the URL it publishes, and it is stopped when the last teacher job is done, when the run
ends, and (the heartbeat) when the workflow is killed with SIGKILL. A rerun starts a fresh server
and pays nothing twice (the request cache).

The server here is a real HTTP server in its own process (tests/fake_openai_server.py, given as
teacher.serve.command, the way SGLang or any other server would be); tests/test_real_llm.py runs
the same section with CPU vLLM and SmolLM2, tests/test_slurm.py as a SLURM job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from lemma.teacher.checks import teacher_problems
from lemma.teacher.factory import answer_keys
from tests.workflow_helpers import REPO, SNAKEMAKE, make_workdir, snakemake

FAKE_SERVER = str(REPO / "tests/fake_openai_server.py")
TARGET = "results/taxonomy/steps.parquet"  # grading and the step judge: teacher calls, no training


def serve_section(log: Path, delay: float = 0.0, heartbeat_timeout_s: float = 10) -> dict:
    command = [sys.executable, FAKE_SERVER, "--port", "{port}", "--log", str(log), "--delay", str(delay)]
    return {"command": command, "heartbeat_timeout_s": heartbeat_timeout_s, "startup_timeout_s": 60}


def configure(wd: Path, student: Path, serve: dict) -> None:
    cfg = yaml.safe_load((wd / "config/config.yaml").read_text())
    cfg["student"] = {"engine": "hf", "model": str(student), "batch_size": 64, "threads": 1}
    cfg["sampling"] = {**cfg["sampling"], "max_problems": 8, "max_new_tokens": 16}
    cfg["classify"] = {"max_items": 6}
    cfg["teacher"] = {
        "kind": "llm",
        "engine": "openai",
        "model": "fake-teacher",
        "max_concurrency": 2,
        "request_timeout_s": 30,
        "max_retries": 0,
        "serve": serve,
    }
    (wd / "config/config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def server_pids(marker: str) -> list[int]:
    """PIDs of processes whose command line holds `marker` (a test's own log path)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmd and int(d.name) != os.getpid():
                pids.append(int(d.name))
    return pids


def wait_gone(marker: str, timeout: float) -> float:
    t0 = time.monotonic()
    while server_pids(marker):
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"server processes still alive after {timeout} s: {server_pids(marker)}")
        time.sleep(0.5)
    return time.monotonic() - t0


def answered(log: Path) -> list[str]:
    return [line.split()[1] for line in log.read_text().splitlines() if line.startswith("ok ")] if log.exists() else []


@pytest.fixture(scope="module")
def tiny_student(tmp_path_factory):
    from tests.tiny_models import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("student") / "model")


def test_serve_section_rules():
    serve = {"command": ["x"]}
    errors, _ = teacher_problems({"kind": "llm", "engine": "vllm", "model": "m", "serve": serve})
    assert any(key == "teacher.serve" and "engine: openai" in msg for key, msg in errors), errors
    errors, _ = teacher_problems(
        {"kind": "llm", "engine": "openai", "model": "m", "base_url": "http://h/v1", "serve": serve}
    )
    assert any(key == "teacher.base_url" for key, _ in errors), errors
    assert teacher_problems({"kind": "llm", "engine": "openai", "model": "m", "serve": serve}) == ([], [])
    # where and how the model is served is not what it answers: editing serve reruns nothing
    assert "serve" not in answer_keys({"kind": "llm", "model": "m", "serve": serve})


@pytest.mark.workflow
def test_one_server_for_the_run_stopped_when_the_teacher_jobs_are_done(tmp_path, tiny_student):
    wd = make_workdir(tmp_path / "run")
    requests = tmp_path / "requests.log"
    configure(wd, tiny_student, serve_section(requests))
    snakemake(wd, TARGET, timeout=600)
    assert (wd / TARGET).exists()
    assert len(answered(requests)) >= 1, "the step judge's requests reached the served teacher"
    log = (wd / "logs/teacher_server.log").read_text()
    assert log.count("starting the teacher server") == 1, log
    assert "answers at http://127.0.0.1:" in log and "stopping the teacher server" in log, log
    wait_gone(str(requests), 30)
    assert not (wd / ".lemma/teacher_server/url.json").exists()

    # nothing left to do: no server is started
    snakemake(wd, TARGET, timeout=300)
    assert (wd / "logs/teacher_server.log").read_text().count("starting the teacher server") == 1


@pytest.mark.workflow
def test_a_killed_workflow_leaves_no_server_and_a_rerun_pays_nothing_twice(tmp_path, tiny_student):
    wd = make_workdir(tmp_path / "kill")
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    configure(wd, tiny_student, serve_section(first, delay=2.0, heartbeat_timeout_s=8))
    cmd = [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(wd), "--cores", "2", TARGET]
    p = subprocess.Popen(cmd, cwd=wd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        t0 = time.monotonic()
        while len(answered(first)) < 2:  # the judge is mid-way through its requests
            assert p.poll() is None, "snakemake ended before it was killed"
            assert time.monotonic() - t0 < 300, "the served teacher never answered"
            time.sleep(0.3)
    finally:
        os.killpg(p.pid, signal.SIGKILL)  # no handler of the workflow runs
        p.wait()
    assert server_pids(str(first)), "the server outlives the SIGKILL at first"
    waited = wait_gone(str(first), 8 + 30)  # heartbeat_timeout_s, plus its checks and the server's exit
    print(f"the orphaned server stopped {waited:.0f} s after the workflow was killed")

    # the rerun starts a fresh server and sends only what was not answered yet (an answer the
    # server sent as the client died was never received: asking it again pays for it once)
    from lemma.engines.cache import RequestCache

    cache_file = wd / "results/cache/teacher.sqlite"
    received = len(RequestCache(cache_file))
    assert received >= 1
    configure(wd, tiny_student, serve_section(second))
    snakemake(wd, "--unlock")  # what Snakemake asks for after a kill
    snakemake(wd, TARGET, timeout=600)
    cache = RequestCache(cache_file)
    assert answered(second), "the rerun's own server answered the rest"
    assert len(answered(second)) == len(cache) - received, "the rerun asked again for an answer it had"
    assert cache.paid_twice() == []
    log = (wd / "logs/teacher_server.log").read_text()
    assert log.count("starting the teacher server") == 2, log
    wait_gone(str(second), 30)


@pytest.mark.workflow
def test_a_server_that_dies_fails_the_teacher_jobs_with_its_log_named(tmp_path, tiny_student):
    wd = make_workdir(tmp_path / "dies")
    serve = serve_section(tmp_path / "r.log")
    serve["command"] = [sys.executable, "-c", "import sys; sys.exit(3)"]
    configure(wd, tiny_student, serve)
    proc = snakemake(wd, TARGET, timeout=300, check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr + "".join(f.read_text() for f in (wd / "logs").rglob("locate_errors*.log"))
    assert "the teacher server exited with status 3" in out and "logs/teacher_server.log" in out, out[-3000:]
    assert json.loads((wd / ".lemma/teacher_server/spec.json").read_text())["command"][0] == sys.executable
