"""bench/gpu_check.sh --dry: the GPU check's script, its wheel list and its output cannot rot. The
dry run goes through every part on the CPU (tiny sizes), writes the same Markdown layout and JSON
as the GPU run, and every module it imports is on the lent GPU machine, in bench/gpu_wheels.py's
list, or optional there."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import gpu_wheels  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu_check")
    env = {**os.environ, "PYTHON": sys.executable}
    # the command as documented, plus where its output and the imported modules go
    proc = subprocess.run(
        ["bash", "bench/gpu_check.sh", "--dry", "--out", str(out), "--modules-out", str(out / "modules.txt")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out, proc.stdout


def test_dry_run_writes_the_gpu_runs_layout(dry_run):
    out, stdout = dry_run
    md = (out / "gpu_check.md").read_text()
    assert md in stdout and md.startswith("## GPU check\n")
    for header in (
        "| training | tokens/s | MFU (card peak) | MFU (measured matmul) | peak memory |",
        "| generation | generated tokens/s | seconds |",
        "| workflow stage (built-in world) | seconds |",
    ):
        assert header in md
    for stage in ("pretrain_student", "sample_student", "train", "evaluate"):
        assert re.search(rf"^\| {stage} \| [\d.]+ \|$", md, re.M), stage
    assert re.search(r"Ours ÷ bare: \*\*[\d.]+x\*\* \(goal ≥ 0.95x\)", md)
    res = json.loads((out / "gpu_check.json").read_text())
    assert res["dry"] is True and res["workflow"]["checkpoint_written"] is True
    for part in ("training", "generation"):
        assert res[part]["ours"]["tokens_per_s"] > 0 and res[part]["bare"]["tokens_per_s"] > 0
    assert 0 < res["training"]["mfu_matmul"]


def _closure(names) -> set[str]:
    """Distributions `names` need, transitively (in this environment; extras left out)."""
    seen, todo = set(), [n.lower().replace("_", "-") for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            reqs = requires(name) or []
        except PackageNotFoundError:
            continue
        for r in reqs:
            if "extra ==" in r:
                continue
            todo.append(re.split(r"[\s;<>=!~\[(]", r, maxsplit=1)[0].lower().replace("_", "-"))
    return seen


def test_every_module_the_check_imports_travels_or_is_there(dry_run):
    out, _ = dry_run
    modules = (out / "modules.txt").read_text().split()
    dists = packages_distributions()
    there = _closure(gpu_wheels.GPU_MACHINE_HAS) | _closure(gpu_wheels.OPTIONAL)
    shipped = {n.lower().replace("_", "-") for n in gpu_wheels.WHEELS}
    missing = []
    for module in modules:
        if module in ("lemma", "train_throughput", "gpu_check") or module in sys.stdlib_module_names:
            continue
        owners = {d.lower().replace("_", "-") for d in dists.get(module, [])}
        if owners and not owners & (there | shipped):
            missing.append(f"{module} ({', '.join(sorted(owners))})")
    assert not missing, f"imported by the GPU check but neither on the GPU machine nor in WHEELS: {missing}"
    assert "polars" not in modules, "polars does not travel (54 MB): the check must not import it"


def test_the_wheel_list_is_pinned_to_this_environment():
    proc = subprocess.run([sys.executable, "bench/gpu_wheels.py", "--list"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0
    lines = proc.stdout.split()
    assert [line.split("==")[0] for line in lines] == list(gpu_wheels.WHEELS)
    assert all(re.fullmatch(r"[\w.-]+==[\w.]+", line) for line in lines), lines
