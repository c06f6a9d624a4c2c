"""Shared fixtures. `small_run`: ONE real snakemake run of the small built-in world per test
session, shared by every test that only reads its results (workflow, report, CLI)."""

from __future__ import annotations

import pytest

from tests.workflow_helpers import make_workdir, snakemake


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    wd = make_workdir(tmp_path_factory.mktemp("small_run"))
    snakemake(wd)
    return wd


@pytest.fixture(scope="session")
def report_run(small_run):
    """The report and CLI tests read the same shared run."""
    return small_run


@pytest.fixture(scope="session")
def smollm2_dir():
    """SmolLM2-135M-Instruct as an HF directory, built by docs/real-llm-on-cpu.md's command (once; kept in
    models/, which git ignores)."""
    from tests.realllm_helpers import build_smollm2

    return str(build_smollm2())


@pytest.fixture(scope="session")
def teacher_server(smollm2_dir, tmp_path_factory):
    """One `vllm serve` of SmolLM2 on 127.0.0.1 for the whole session (start-up costs minutes)."""
    from tests.realllm_helpers import VLLM_PYTHON, TeacherServer, require

    require(VLLM_PYTHON.exists(), "the vLLM environment .venv-vllm is missing; make it with envs/setup-vllm.sh")
    server = TeacherServer(tmp_path_factory.mktemp("teacher") / "vllm-serve.log")
    server.start()
    yield server
    server.stop()
