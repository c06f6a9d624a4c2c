"""A process spawned from a Snakemake `script:` rule (what vLLM does to start its engine core, on
CPUs always and on GPUs once CUDA is initialised) must not re-run the rule's script.

Snakemake runs a copy of the script with a preamble that defines `snakemake` and sets `__file__`
back to the original script; multiprocessing's spawn re-runs `__main__.__file__` in the child, i.e.
the original script without the preamble: `NameError: name 'snakemake' is not defined` (issue 11,
item 2). The vllm engine starts vLLM inside `_main_not_rerun()`. This test runs real Snakemake with
a rule that spawns a process the same way, with and without that guard; the vLLM rule itself is
tested in tests/test_vllm_engine.py (marker vllm).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.workflow  # each test runs real Snakemake

SCRIPT = textwrap.dedent(
    """
    import contextlib
    import multiprocessing as mp
    from pathlib import Path

    from lemma.engines.vllm_engine import _main_not_rerun

    out = Path(snakemake.output[0])  # a child that re-runs this file dies here
    guard = _main_not_rerun() if snakemake.params.guard else contextlib.nullcontext()
    with guard:
        child = mp.get_context("spawn").Process(target=Path.touch, args=(out.with_suffix(".child"),))
        child.start()
    child.join()
    assert child.exitcode == 0, f"spawned child exited {child.exitcode}"
    out.write_text("ok")
    """
)

SNAKEFILE = textwrap.dedent(
    """
    rule spawn:
        output: "out/{guard}.txt"
        params: guard=lambda w: w.guard == "guarded"
        log: "logs/{guard}.log"
        script: "spawn_child.py"
    """
)


def _run(tmp_path, target):
    (tmp_path / "spawn_child.py").write_text(SCRIPT)
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", target],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_spawned_child_does_not_rerun_the_rule_script(tmp_path):
    proc = _run(tmp_path, "out/guarded.txt")
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (tmp_path / "out/guarded.child").exists()  # the child ran its target


def test_without_the_guard_the_child_dies_on_the_missing_snakemake_object(tmp_path):
    proc = _run(tmp_path, "out/unguarded.txt")
    assert proc.returncode != 0
    assert "NameError: name 'snakemake' is not defined" in proc.stderr
