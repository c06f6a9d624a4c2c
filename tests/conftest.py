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
def cluster():
    """ONE throwaway SLURM for the session (tests/slurm_cluster.py): two nodes on this host, n1 and
    n2, each with 2 CPUs and 2 GPUs (declared, not present). Skips where SLURM cannot be had."""
    from tests.slurm_cluster import ClusterUnavailable, SlurmCluster, why_unavailable

    reason = why_unavailable()
    if reason:
        pytest.skip(f"no SLURM cluster possible here: {reason}")
    c = SlurmCluster(cpus=2, nodes=2, gpus_per_node=2)
    try:
        c.start()
    except ClusterUnavailable as e:
        pytest.skip(f"no SLURM cluster possible here: {e}")
    try:
        yield c
    finally:
        c.stop()


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
