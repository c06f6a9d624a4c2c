"""The commands of docs/real-llm-on-cpu.md ("A real LLM on a CPU"), run as written: build SmolLM2's
model directory, start the teacher (`vllm serve` from the vLLM environment), run the workflow.

Tests run these lines verbatim (from the repository root), so that page cannot drift from what
CI runs. Where the vLLM environment or the model's wheel is missing they skip and say why; CI sets
LEMMA_REQUIRE_REAL_LLM=1, which turns those skips into failures.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs/real-llm-on-cpu.md"
SECTION = "# A real LLM on a CPU"
SMOLLM2_DIR = REPO / "models/smollm2-135m-instruct"
VLLM_PYTHON = REPO / ".venv-vllm/bin/python"
SERVER_START_TIMEOUT_S = 900  # ~2.5 min on an idle 2-core machine, several times that under load


def documented_commands() -> list[str]:
    """The command lines of the first bash block after the page's heading (comments dropped)."""
    lines = DOC.read_text().splitlines()
    block = lines[lines.index(SECTION) :]
    block = block[block.index("```bash") + 1 :]
    return [line for line in block[: block.index("```")] if line.strip() and not line.startswith("#")]


def build_command() -> str:
    return documented_commands()[0]


def serve_command() -> str:
    return documented_commands()[1]


def workflow_command() -> list[str]:
    return shlex.split(documented_commands()[2])


def require(condition: bool, reason: str) -> None:
    """Skip (or, in CI, fail) when a real-LLM prerequisite is missing."""
    if condition:
        return
    if os.environ.get("LEMMA_REQUIRE_REAL_LLM") == "1":
        pytest.fail(f"LEMMA_REQUIRE_REAL_LLM=1 but {reason}")
    pytest.skip(reason)


def build_smollm2() -> Path:
    """Run the documented build line unless the directory is already built (it is idempotent anyway)."""
    from lemma.models.smollm2 import is_built

    if not is_built(SMOLLM2_DIR):
        require((REPO / ".venv/bin/lemma").exists(), "the main environment .venv is missing (README command 2)")
        proc = subprocess.run(["bash", "-c", build_command()], cwd=REPO, capture_output=True, text=True, timeout=1200)
        assert proc.returncode == 0, f"{build_command()} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert is_built(SMOLLM2_DIR)
    return SMOLLM2_DIR


def served_url() -> str:
    """http://host:port/v1 from the serve line (the launcher binds 127.0.0.1 unless told)."""
    args = shlex.split(serve_command())
    port = args[args.index("--port") + 1]
    return f"http://127.0.0.1:{port}/v1"


def _models(url: str) -> list[str] | None:
    import json

    try:
        with urllib.request.urlopen(f"{url}/models", timeout=5) as r:
            return [m["id"] for m in json.loads(r.read())["data"]]
    except OSError:
        return None


class TeacherServer:
    """The documented serve line as a process group, stopped at teardown."""

    def __init__(self, log_path: Path):
        self.url = served_url()
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        served = _models(self.url)
        if served is not None:  # someone's server already answers on that port: use it if it is ours
            assert "models/smollm2-135m-instruct" in served, f"{self.url} serves {served}, not SmolLM2"
            return
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["bash", "-c", serve_command()], cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.time() + SERVER_START_TIMEOUT_S
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the teacher server exited ({self.proc.returncode}):\n{self.log_tail()}")
            if _models(self.url) is not None:
                return
            time.sleep(3)
        self.stop()
        raise AssertionError(f"the teacher server did not answer within {SERVER_START_TIMEOUT_S} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-n:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)  # the launcher and the engine processes it spawned
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
