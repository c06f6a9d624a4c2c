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
