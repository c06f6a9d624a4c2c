"""Helpers of the crash-safety tests (test_chaos.py, test_bad_input.py).

* `Run`: snakemake started in its own session, so `kill9()` can SIGKILL the whole process group
  (snakemake and the rule scripts it started), the way a node failure or an OOM kill ends a job.
* `incomplete_outputs`: the outputs Snakemake itself marked incomplete (read from .snakemake/).
* `torn_files`: files at their final name that cannot be read back (what atomic writes prevent).
* `compare_results`: two results/ trees file by file, by the strongest equality each kind allows
  (bytes; else parquet frames, safetensors tensors, JSON values), with the fields known to carry
  wall-clock times set apart.
* `chaos_reference`: one uninterrupted run of tests/data/chaos_config.yaml per test session, shared
  by the chaos test and the bad-input tests.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from tests.workflow_helpers import REPO, SNAKEMAKE, make_workdir

CHAOS_CONFIG = REPO / "tests/data/chaos_config.yaml"

# Fields that hold wall-clock measurements (and so differ between any two runs), per file name,
# and the training *logs* of a resumed run: the Trainer averages a logged loss over the steps run
# since the last log or the resume, so the first window after a resume (and the summary losses)
# differ although the weights are identical. Weights, tables and scores are compared strictly.
VOLATILE_JSON_KEYS = {
    "training_complete.json": {"seconds", "resumed_from", "train_loss", "final_loss"},
    "student_pretrain.json": {"seconds", "eval_seconds", "resumed_from", "train_loss", "final_loss"},
}
VOLATILE_CSV_COLUMNS = {"curves.csv": {"tokens_per_s", "loss", "grad_norm"}}
# plots drawn from the training logs above
LOSS_PLOTS = ("curves.png", "all_variants.png")
# Pickled TrainingArguments: a copy of the settings, not a result; never compared.
IGNORED_NAMES = {".snakemake_timestamp", "training_args.bin"}


# ---------------------------------------------------------------------------------- processes
@dataclass
class Run:
    """One snakemake process in its own session (process group id == its pid)."""

    proc: subprocess.Popen
    log: Path
    started: float

    @classmethod
    def start(cls, workdir: Path, *args: str, log_name: str = "snakemake.out") -> Run:
        log = workdir / log_name
        cmd = [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--cores", "2", *args]
        with open(log, "w") as out:
            proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return cls(proc, log, time.monotonic())

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError(f"snakemake still running after {timeout:.0f} s:\n{self.output()[-4000:]}") from None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill9(self) -> None:
        """SIGKILL to the whole group, then wait until no process of it is left."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        deadline = time.monotonic() + 30
        while group_members(self.proc.pid):
            assert time.monotonic() < deadline, f"processes of group {self.proc.pid} survived SIGKILL"
            time.sleep(0.05)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes whose process group is `pgid`."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            pids.append(int(d.name))
    return pids


def running_rules(output: str) -> list[str]:
    """Rules a snakemake log shows as started and not yet finished (what a kill interrupted)."""
    started = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", output):
        m = re.match(r"(?:local)?rule (\w+):", block)
        job = re.search(r"^\s+jobid: (\d+)$", block, re.M)
        if m and job:
            started[job.group(1)] = m.group(1)
    finished = set(re.findall(r"Finished jobid: (\d+)", output))
    return sorted(rule for jobid, rule in started.items() if jobid not in finished)


# ------------------------------------------------------------------------------- file states
def incomplete_outputs(workdir: Path) -> set[str]:
    """Output paths Snakemake recorded as incomplete (a job started and did not finish).
    Its record names are the urlsafe base64 of the path, cut into '@'-prefixed chunks."""
    root = workdir / ".snakemake" / "incomplete"
    found = set()
    if not root.is_dir():
        return found
    for path in root.rglob("*"):
        if path.is_file() and path.name != "migration_underway":
            encoded = "".join(p.lstrip("@") for p in path.relative_to(root).parts)
            found.add(base64.urlsafe_b64decode(encoded).decode())
    return found


def temp_litter(workdir: Path) -> list[str]:
    """Temporary files of lemma.tables.io.atomic_path (".<name>.<random>.tmp") a killed job left behind."""
    return sorted(str(p.relative_to(workdir)) for p in (workdir / "results").rglob(".*.tmp"))


def result_files(workdir: Path) -> dict[str, Path]:
    """Every file under results/ by relative path, without temp litter and Snakemake's own markers."""
    out = {}
    for p in sorted((workdir / "results").rglob("*")):
        if p.is_file() and p.name not in IGNORED_NAMES and not (p.name.startswith(".") and p.name.endswith(".tmp")):
            out[str(p.relative_to(workdir))] = p
    return out


def snapshot(workdir: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and mtime (ns) of every file under results/, temp files and markers included."""
    return {
        str(p.relative_to(workdir)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted((workdir / "results").rglob("*"))
        if p.is_file()
    }


def _read_back(path: Path) -> None:
    """Raise if `path` is not a whole file of its kind."""
    suffix = path.suffix
    if suffix == ".parquet":
        pl.read_parquet(path)
    elif suffix == ".json":
        json.loads(path.read_text())
    elif suffix == ".jsonl":
        for line in path.read_text().splitlines():
            json.loads(line)
    elif suffix == ".csv":
        pl.read_csv(path)
    elif suffix == ".safetensors":
        from safetensors.torch import load_file

        load_file(str(path))
    elif suffix == ".png":
        data = path.read_bytes()
        if not (data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82")):
            raise ValueError("not a whole PNG")
    elif suffix in (".html", ".md"):
        if not path.read_text().strip():
            raise ValueError("empty")


def torn_files(workdir: Path) -> list[str]:
    """Files under results/ at their final name that do not read back whole, outside the outputs
    Snakemake marked incomplete (a rerun with --rerun-incomplete deletes those first)."""
    incomplete = incomplete_outputs(workdir)
    torn = []
    for rel, path in result_files(workdir).items():
        if any(rel == o or rel.startswith(o.rstrip("/") + "/") for o in incomplete):
            continue
        if rel.startswith("results/checkpoints/") or rel.startswith("results/cache/"):
            continue  # progress kept on purpose (checkpoints: complete-or-ignored; the cache: SQLite)
        try:
            _read_back(path)
        except Exception as e:  # noqa: BLE001 - any failure to read back is the finding
            torn.append(f"{rel}: {type(e).__name__}: {str(e)[:120]}")
    return torn


# -------------------------------------------------------------------------------- comparison
def _json_diff(a, b, volatile: set[str]) -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(k for k in set(a) | set(b) if k not in volatile and a.get(k) != b.get(k))
        return f"keys {keys} differ" if keys else None
    return None if a == b else "values differ"


def _first_line_diff(a: str, b: str) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1} differs"
    return f"{len(la)} vs {len(lb)} lines"


def compare_file(a: Path, b: Path) -> tuple[str, str]:
    """(kind, detail): kind is "bytes" (byte-identical), "content" (equal as data: frame, tensors
    or JSON values), "timing" (equal apart from wall-clock fields) or "differs"."""
    da, db = a.read_bytes(), b.read_bytes()
    if da == db:
        return "bytes", ""
    name, suffix = a.name, a.suffix
    if suffix == ".parquet":
        fa, fb = pl.read_parquet(a), pl.read_parquet(b)
        if fa.equals(fb):
            return "content", "same frame, other bytes"
        if fa.shape != fb.shape or fa.columns != fb.columns:
            return "differs", f"shape {fa.shape} vs {fb.shape}"
        cols = [c for c in fa.columns if not fa[c].equals(fb[c])]
        return "differs", f"columns {cols}"
    if suffix == ".safetensors":
        import torch
        from safetensors.torch import load_file

        ta, tb = load_file(str(a)), load_file(str(b))
        if ta.keys() != tb.keys():
            return "differs", "other tensor names"
        worst = max(
            float((ta[k].double() - tb[k].double()).abs().max()) if ta[k].shape == tb[k].shape else float("inf")
            for k in ta
        )
        if all(torch.equal(ta[k], tb[k]) for k in ta):
            return "content", "same tensors, other bytes"
        return "differs", f"max abs weight difference {worst:.3g}"
    if suffix == ".json":
        ja, jb = json.loads(da), json.loads(db)
        if ja == jb:
            return "content", "same JSON value"
        volatile = VOLATILE_JSON_KEYS.get(name, set())
        diff = _json_diff(ja, jb, volatile)
        return ("timing", f"only {sorted(volatile)} differ") if diff is None else ("differs", diff)
    if suffix == ".csv" and name in VOLATILE_CSV_COLUMNS:
        drop = VOLATILE_CSV_COLUMNS[name]
        ca, cb = pl.read_csv(a), pl.read_csv(b)
        keep = [c for c in ca.columns if c not in drop]
        if ca.columns == cb.columns and ca.select(keep).equals(cb.select(keep)):
            return "timing", f"only {sorted(drop)} differ"
        return "differs", _first_line_diff(da.decode(), db.decode())
    if name in LOSS_PLOTS or (suffix == ".png" and a.parent.name == "curves"):
        return "timing", "a plot of the training logs"
    if suffix in (".csv", ".jsonl", ".md", ".html", ".txt"):
        return "differs", _first_line_diff(da.decode(errors="replace"), db.decode(errors="replace"))
    return "differs", f"{len(da)} vs {len(db)} bytes"


def compare_results(a: Path, b: Path) -> dict[str, tuple[str, str]]:
    """Every results/ file of two run directories: relative path -> (kind, detail); a file in only
    one tree is ("missing", which side lacks it)."""
    fa, fb = result_files(a), result_files(b)
    out = {}
    for rel in sorted(set(fa) | set(fb)):
        if rel not in fa or rel not in fb:
            out[rel] = ("missing", f"only in {'second' if rel in fb else 'first'} run")
        else:
            out[rel] = compare_file(fa[rel], fb[rel])
    return out


# --------------------------------------------------------------------------------- fixture
@dataclass
class Reference:
    workdir: Path
    seconds: float  # wall time of the uninterrupted run


@pytest.fixture(scope="session")
def chaos_reference(tmp_path_factory) -> Reference:
    """The tiny world run once per session, uninterrupted: the chaos test's reference and
    wall-time yardstick, and the bad-input tests' finished run (they work on copies). Both test
    modules import this fixture; the run is found on disk by the second one."""
    wd = tmp_path_factory.getbasetemp() / "chaos_reference"
    done = wd / "reference.json"
    if done.exists():
        return Reference(wd, json.loads(done.read_text())["seconds"])
    if wd.exists():
        shutil.rmtree(wd)
    make_workdir(wd, CHAOS_CONFIG)
    run = Run.start(wd)
    rc = run.wait(timeout=1200)
    seconds = time.monotonic() - run.started
    assert rc == 0, f"reference run failed ({rc}):\n{run.output()[-6000:]}"
    done.write_text(json.dumps({"seconds": seconds}) + "\n")
    return Reference(wd, seconds)


def copy_run(src: Path, dest: Path) -> Path:
    """A copy of a run directory with mtimes kept (copy2), so Snakemake sees it as up to date."""
    shutil.copytree(src, dest, symlinks=True, copy_function=shutil.copy2)
    return dest
