"""A non-editable `pip install .` runs the workflow from a checkout that has no lemma/ source.

The schemas and the teacher's default prompts are package data (lemma/schemas, lemma/prompts); a
module that read them from the checkout (`config/schemas`, `config/prompts`) would pass every other
test, which import lemma from the checkout. Here lemma is installed as a wheel into a fresh venv
and the workflow files (Snakefile, rules/, scripts/, config/) are copied to a directory without
lemma/, so only the installed copy can be imported.
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from tests.workflow_helpers import METHOD_RULES, REPO

WORKFLOW_FILES = ("Snakefile", "rules", "scripts", "config")
PACKAGE_FILES = ("pyproject.toml", "README.md", "lemma")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.egg-info")


def _copy(names, dst: Path) -> None:
    dst.mkdir(parents=True)
    for name in names:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dst / name, ignore=_IGNORE)
        else:
            shutil.copy(src, dst / name)


def _run(cmd, cwd: Path, env: dict, timeout: int = 600) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    )
    return proc.stdout


def _job_stats(dry_run_output: str) -> dict[str, int]:
    table = dry_run_output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


@pytest.mark.workflow
def test_installed_package_plans_the_default_dag_without_the_checkout(tmp_path):
    # No internet: the venv gets its dependencies from this environment's site-packages as a plain
    # path (a .pth line), not through this environment's own .pth files, so the editable install of
    # the checkout (a finder hook in those files) never reaches it.
    venv = tmp_path / "venv"
    # --without-pip: pip and setuptools come from the dependencies too (ensurepip's old setuptools
    # cannot build a wheel from this pyproject.toml)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    venv_site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (venv_site / "zz_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}

    source = tmp_path / "source"  # pip builds in the source tree: a copy keeps build/ out of the checkout
    _copy(PACKAGE_FILES, source)
    _run([python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "."], source, env)

    workdir = tmp_path / "workflow"
    _copy(WORKFLOW_FILES, workdir)
    assert not (workdir / "lemma").exists()
    where = _run([python, "-c", "import lemma; print(lemma.__file__)"], workdir, env).strip()
    assert Path(where).is_relative_to(venv_site), f"lemma imported from {where}, not the venv's {venv_site}"

    installed = _job_stats(_run([python, "-m", "snakemake", "-n", "--cores", "1"], workdir, env))
    # the same directory planned with the checkout's lemma: the installed package plans the same DAG
    from_checkout = _job_stats(
        _run([sys.executable, "-m", "snakemake", "-n", "--cores", "1"], workdir, {**env, "PYTHONPATH": str(REPO)})
    )
    assert installed == from_checkout
    for rule in (*METHOD_RULES, "pretrain_student", "all"):  # the default config's student is built in
        assert installed.get(rule, 0) >= 1, f"rule {rule} not planned: {installed}"
