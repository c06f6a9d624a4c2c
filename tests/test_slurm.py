"""profiles/slurm against a real one-node SLURM cluster (munged, slurmctld, slurmd on localhost).

What is checked, on a cluster this module starts and stops (tests/slurm_cluster.py):
- a tiny throwaway workflow goes through sbatch and the plugin's status checks (fast, isolates the
  cluster and profile from the workflow);
- the GPU rules' sbatch command lines carry the GPU request (the node has no GPU, so SLURM itself
  refuses them: the request really reached sbatch);
- the built-in workflow on the small config runs through SLURM: every cluster job is in SLURM's own
  records, one job is cancelled mid-run (scancel) and retried, and the outputs equal a local run's.

Skips, with the reason, where SLURM cannot be had (not root, no apt-get, install failed).
The profile used is profiles/slurm/config.yaml plus only what a throwaway cluster needs
(TEST_SETTINGS): no accounting database, so job status comes from squeue.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest
import yaml

from tests.slurm_cluster import ClusterUnavailable, SlurmCluster, why_unavailable

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parent.parent
PROFILE = REPO / "profiles/slurm/config.yaml"

# Added to profiles/slurm for the test cluster, each for a reason:
TEST_SETTINGS = {
    # no slurmdbd here, so sacct cannot answer; the plugin's default status command would wait forever
    "slurm-status-command": "squeue",
    # first status check after 2 s, not 40 (the cluster's MinJobAge=300 stays above 3x this, or the
    # plugin silently falls back to sacct)
    "slurm-init-seconds-before-status-checks": 2,
    # keep every job's SLURM log, so a failure can be shown and the job ids traced
    "slurm-keep-successful-logs": True,
    # a group job asks for the CPUs of the jobs it can run side by side (an augment chain runs its
    # two strategies in parallel: 2 CPUs); more than the test node has would stay pending for ever
    # (Reason=PartitionConfig)
    "group-components": {"augment": 1, "sft": 2},
}
# The profile's `EDIT:` placeholders, filled in for this cluster (proves they reach sbatch).
TEST_RESOURCES = {"slurm_partition": "debug"}


def _merge(into: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def derive_profile(dest: Path, extra: dict | None = None) -> Path:
    """profiles/slurm/config.yaml + TEST_SETTINGS (+ extra) written as dest/config.yaml."""
    prof = yaml.safe_load(PROFILE.read_text())
    prof.update(TEST_SETTINGS)
    prof["default-resources"] = {**prof.get("default-resources", {}), **TEST_RESOURCES}
    _merge(prof, extra or {})
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(prof, sort_keys=False))
    return dest


def run_snakemake(
    cluster: SlurmCluster,
    workdir: Path,
    *args: str,
    snakefile: Path,
    timeout: float,
    check: bool = True,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """snakemake in its own process group, killed with SIGKILL (with everything it started) past
    `timeout`: a plugin waiting on a status it can never get ignores SIGTERM."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(snakefile), "-d", str(workdir), *args]
    p = subprocess.Popen(
        cmd,
        cwd=workdir,
        env={**cluster.env, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        raise AssertionError(
            f"snakemake killed after {timeout} s: {' '.join(args)}\n{out[-6000:]}\n"
            f"squeue: {cluster.queue()}\n{cluster.logs()[-3000:]}"
        ) from None
    proc = subprocess.CompletedProcess(cmd, p.returncode, out, "")
    if check and p.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({p.returncode}):\n{out[-8000:]}")
    return proc


_SUBMITTED = re.compile(r"Job (\S+) has been submitted with SLURM jobid (\d+) \(log: (\S+?)\)\.?$", re.M)


def submitted(out: str) -> dict[str, str]:
    """SLURM job id -> "rule NAME" or "group GROUP_RULE1_RULE2...", from the plugin's submission
    lines and their log paths (.snakemake/slurm_logs/rule_<name>/... or group_<name>/...)."""
    jobs = {}
    for _, slurm_id, log in _SUBMITTED.findall(out):
        m = re.search(r"slurm_logs/(rule|group)_([^/]+)/", log)
        jobs[slurm_id] = f"{m.group(1)} {m.group(2)}" if m else log
    return jobs


@pytest.fixture(scope="module")
def cluster():
    reason = why_unavailable()
    if reason:
        pytest.skip(f"no SLURM cluster possible here: {reason}")
    c = SlurmCluster()
    try:
        c.start()
    except ClusterUnavailable as e:
        pytest.skip(f"no SLURM cluster possible here: {e}")
    try:
        yield c
    finally:
        c.stop()


TINY = """
rule all:
    input: "b.txt"

rule a:
    output: "a.txt"
    threads: 1
    resources: mem_mb=lambda wc, attempt: 500 * attempt, runtime=5
    shell: "echo $SLURM_JOB_ID > {output}"

rule b:
    input: "a.txt"
    output: "b.txt"
    resources: runtime=5
    shell: "cat {input} > {output}; echo $SLURM_JOB_ID >> {output}"
"""


def test_tiny_workflow_goes_through_sbatch(cluster, tmp_path):
    wd = tmp_path / "tiny"
    wd.mkdir()
    (wd / "Snakefile").write_text(TINY)
    profile = derive_profile(tmp_path / "profile")
    out = run_snakemake(
        cluster, wd, "--profile", str(profile), "--workflow-profile", "none", snakefile=wd / "Snakefile", timeout=180
    ).stdout
    jobs = submitted(out)
    assert sorted(jobs.values()) == ["rule a", "rule b"], out[-3000:]
    ids_in_outputs = (wd / "b.txt").read_text().split()
    assert sorted(ids_in_outputs) == sorted(jobs), "each rule ran inside the SLURM job it was submitted as"
    done = {r["JobId"]: r for r in cluster.job_records()}
    for job_id in jobs:
        assert done[job_id]["JobState"] == "COMPLETED" and done[job_id]["Partition"] == "debug", done.get(job_id)


# ---- the GPU rules' requests ----------------------------------------------------------------------

GPU_CONFIG = {"student": {"engine": "vllm", "tensor_parallel_size": 2}, "training": {"gpus": 2}}
GPU_TARGETS = {  # one job of each GPU rule, each runnable from inputs made up front
    "sample_student": "results/samples/train/0.parquet",
    "train": "results/models/sft",
    "evaluate": "results/eval/lemma/test.parquet",
}
GPU_INPUTS = ["results/problems/train.parquet", "results/problems/test.parquet", "results/sft/sft.jsonl"]
GPU_INPUT_DIRS = ["results/models/base", "results/models/lemma"]


def test_gpu_rules_request_gpus_through_sbatch(cluster, tmp_path):
    """vllm student and 2-GPU training: sbatch gets --gpus (with the profile's gpu_model where set).
    Only the three GPU rules are allowed to run, on placeholder inputs: the jobs are never meant to
    start, as this node has no GPU and SLURM refuses them at submission, which shows that the
    request reached SLURM as a GPU request."""
    from tests.workflow_helpers import make_workdir

    wd = make_workdir(tmp_path / "gpu")
    cfg = yaml.safe_load((wd / "config/config.yaml").read_text())
    for section, values in GPU_CONFIG.items():
        cfg[section] = {**cfg[section], **values}
    (wd / "config/config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    for rel in GPU_INPUTS:
        (wd / rel).parent.mkdir(parents=True, exist_ok=True)
        (wd / rel).write_text("placeholder: never read, the jobs do not start\n")
    for rel in GPU_INPUT_DIRS:
        (wd / rel).mkdir(parents=True, exist_ok=True)
    profile = derive_profile(tmp_path / "profile", {"set-resources": {"train": {"gpu_model": "h100"}}})
    # The config check refuses engine vllm where the vllm package cannot be found in the
    # environment the jobs share (on a cluster with --sdm conda it is not checked). Here a
    # placeholder package satisfies the lookup; nothing imports it, as no job starts.
    stub = tmp_path / "stub" / "vllm"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text('raise ImportError("placeholder for a config check; no vLLM here")\n')
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(stub.parent), os.environ.get("PYTHONPATH")]))}
    out = run_snakemake(
        cluster,
        wd,
        "--profile",
        str(profile),
        "--retries",
        "0",
        "--verbose",
        "--allowed-rules",
        *GPU_TARGETS,
        "--",
        *GPU_TARGETS.values(),
        snakefile=REPO / "Snakefile",
        timeout=300,
        check=False,
        env=env,
    ).stdout
    calls = {}
    for line in re.findall(r"^sbatch call: (sbatch .*)$", out, re.M):
        m = re.search(r"--comment '?rule_(\w+?)(?:_wildcards_\S*?)?'? ", line)
        calls[m.group(1) if m else line] = line
    assert sorted(calls) == sorted(GPU_TARGETS), f"expected one sbatch call per GPU rule:\n{out[-6000:]}"
    assert " --gpus=2 " in calls["sample_student"] + " ", calls["sample_student"]
    assert " --gpus=2 " in calls["evaluate"] + " ", calls["evaluate"]
    assert " --gpus=h100:2 " in calls["train"] + " ", calls["train"]
    for rule, call in calls.items():
        assert re.search(r" --cpus-per-gpu=\d+", call), (rule, call)
        assert " -p debug " in call, (rule, call)
    # SLURM turned down each GPU request (a job without one would have been queued on this node)
    assert out.count("SLURM sbatch failed") == len(GPU_TARGETS), out[-6000:]
    queued = [j for j in cluster.queue() if j["Comment"].startswith(tuple(f"rule_{r}" for r in GPU_TARGETS))]
    assert not queued, f"no GPU job may have been queued on a node without GPUs: {queued}"


# ---- the built-in workflow on SLURM, with a fault -------------------------------------------------

LOCAL_RULES = {"load_problems", "taxonomy_stats", "scores"}  # localrule: True, run by Snakemake itself
# A job long enough to be caught mid-run, short enough that its redo costs little; upstream of
# the scores, so a bad retry would show in them. Two train jobs run (sft, lemma); one is cancelled.
CANCEL_RULE = "train"
CANCEL_LOG = "logs/train/{}.log"
# Deterministic outputs (seeded generation, sampling, oracle teacher, training): equal content
# after the SLURM run (with a cancelled and retried job) and a local run.
SAME_TABLES = [
    "results/problems/train.parquet",
    "results/problems/test.parquet",
    "results/problems/test_ood.parquet",
    "results/samples/train/0.parquet",
    "results/samples/train/1.parquet",
    "results/graded/train.parquet",
    "results/taxonomy/labels.parquet",
    *(f"results/mistakes/{t}.parquet" for t in ("calculation_error", "operator_error", "question_misinterpretation")),
]
SAME_FILES = ["results/sft/sft.jsonl", "results/sft/lemma.jsonl", "results/scores.csv"]


class CancelOnce(threading.Thread):
    """scancel the first job of `rule` once it is running and its script has begun writing its log
    (`started`: the rule's log path pattern, {} = the job's wildcards as the plugin's comment has them)."""

    def __init__(self, cluster: SlurmCluster, rule: str, started: str):
        super().__init__(daemon=True)
        self.cluster, self.rule, self.started = cluster, rule, started
        self.cancelled: str | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and self.cancelled is None:
            for job in self.cluster.queue():
                m = re.fullmatch(rf"rule_{self.rule}(?:_wildcards_(?:\w+=)?(\w+))?", job["Comment"])
                log = Path(self.started.format(m.group(1))) if m else None
                if m and job["JobState"] == "RUNNING" and log.exists() and log.stat().st_size > 0:
                    self.cluster.client("scancel", job["JobId"])
                    self.cancelled = job["JobId"]
                    return
            self.stop.wait(0.5)


def test_workflow_on_slurm_equals_local_run_despite_a_cancelled_job(cluster, tmp_path, small_run):
    from tests.workflow_helpers import make_workdir

    # the local run to compare with is the session's shared run of the same small config
    local = small_run

    wd = make_workdir(tmp_path / "slurm")
    profile = derive_profile(tmp_path / "profile")
    canceller = CancelOnce(cluster, CANCEL_RULE, str(wd / CANCEL_LOG))
    canceller.start()
    t0 = time.monotonic()
    try:
        out = run_snakemake(cluster, wd, "--profile", str(profile), snakefile=REPO / "Snakefile", timeout=900).stdout
    finally:
        canceller.stop.set()
    print(f"SLURM run {time.monotonic() - t0:.0f} s")

    # every cluster job went through sbatch and SLURM recorded how it ended
    jobs = submitted(out)
    records = {r["JobId"]: r for r in cluster.job_records()}
    assert canceller.cancelled, f"no {CANCEL_RULE} job was seen running to cancel:\n{out[-4000:]}"
    assert jobs.get(canceller.cancelled) == f"rule {CANCEL_RULE}"
    assert records[canceller.cancelled]["JobState"] == "CANCELLED", records.get(canceller.cancelled)
    for job_id, name in jobs.items():
        if job_id != canceller.cancelled:
            assert records.get(job_id, {}).get("JobState") == "COMPLETED", (job_id, name, records.get(job_id))
            assert records[job_id]["WorkDir"] == str(wd) and records[job_id]["Partition"] == "debug"
    names = list(jobs.values())
    rules = {n.split()[1] for n in names if n.startswith("rule ")}
    groups = {n.split()[1] for n in names if n.startswith("group ")}
    assert names.count(f"rule {CANCEL_RULE}") == 3, f"2 train jobs + 1 retry expected: {names}"
    assert {"sample_student", "train", "evaluate"} <= rules, names
    assert not LOCAL_RULES & rules, f"local rules went to SLURM: {names}"
    # the profile's groups: tiny CPU jobs travel together, not one sbatch job each
    for group in ("augment", "judge", "sft"):
        assert any(g.startswith(f"{group}_") for g in groups), (group, names)
    assert not {"inject_errors", "correct", "smooth_and_filter", "build_sft", "grade_samples"} & rules, names

    # nothing lost: the deterministic outputs are those of a local run
    for rel in SAME_TABLES:
        a, b = pl.read_parquet(local / rel), pl.read_parquet(wd / rel)
        assert a.equals(b), f"{rel} differs between the local and the SLURM run"
    for rel in SAME_FILES:
        assert (local / rel).read_bytes() == (wd / rel).read_bytes(), (
            f"{rel} differs between the local and the SLURM run"
        )
