"""The commands of docs/real-llm-on-cpu.md ("A real LLM on a CPU"), run as written: build SmolLM2's
model directory, make the vLLM environment, run the workflow (which starts and stops its teacher
server itself: teacher.serve).

Tests run these lines verbatim (from the repository root), so that page cannot drift from what
CI runs. Where the vLLM environment or the model's wheel is missing they skip and say why; CI sets
LEMMA_REQUIRE_REAL_LLM=1, which turns those skips into failures.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs/real-llm-on-cpu.md"
SECTION = "# A real LLM on a CPU"
SMOLLM2_DIR = REPO / "models/smollm2-135m-instruct"
VLLM_PYTHON = REPO / ".venv-vllm/bin/python"


def documented_commands() -> list[str]:
    """The command lines of the first bash block after the page's heading (comments dropped)."""
    lines = DOC.read_text().splitlines()
    block = lines[lines.index(SECTION) :]
    block = block[block.index("```bash") + 1 :]
    return [line for line in block[: block.index("```")] if line.strip() and not line.startswith("#")]


def build_command() -> str:
    return documented_commands()[0]


def setup_command() -> str:
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
