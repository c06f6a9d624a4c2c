"""profiles/slurm against a real SLURM cluster: the session's (tests/conftest.py: munged, slurmctld
and two slurmd on this host, nodes n1 and n2 with 2 CPUs and 2 declared GPUs each).

What is checked:
- a tiny throwaway workflow goes through sbatch and the plugin's status checks (fast, isolates the
  cluster and profile from the workflow);
- the cluster path in one run: GPU jobs that run with their GPUs, a teacher server the workflow
  starts as a SLURM job and stops, and a train job on two nodes (its loss curve equal to one node
  with two processes); nothing left behind;
- the built-in workflow on the small config runs through SLURM: every cluster job is in SLURM's own
  records, one job is cancelled mid-run (scancel) and retried, and the outputs equal a local run's.

Skips, with the reason, where SLURM cannot be had (not root, no apt-get, install failed).
The profile used is profiles/slurm/config.yaml plus only what a throwaway cluster needs
(TEST_SETTINGS): no accounting database, so job status comes from squeue.
"""

from __future__ import annotations

import json
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

from tests.slurm_cluster import SlurmCluster

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


# ---- the GPU rules run, with their GPUs ------------------------------------------------------------

# The test nodes have 2 CPUs each: the rules' CPUs per GPU (4 for sampling, 8 for training) are set
# for this cluster in the profile, as a site would for its own nodes.
GPU_PROFILE = {"set-resources": {r: {"cpus_per_gpu": 1} for r in ("sample_student", "train", "evaluate")}}


def _tiny_student_config(wd: Path, model: Path, training: dict) -> None:
    """The small world with a tiny HF student (engine hf on the default device: one GPU per job)."""
    cfg = yaml.safe_load((wd / "config/config.yaml").read_text())
    cfg["student"] = {"engine": "hf", "model": str(model), "batch_size": 64, "threads": 1}
    cfg["training"] = {**cfg["training"], **training}
    (wd / "config/config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def job_details(cluster: SlurmCluster, job_id: str) -> dict:
    """`scontrol show job` of a job (finished ones for MinJobAge seconds) as a dict."""
    out = cluster.client("scontrol", "show", "job", "-o", job_id).stdout
    return dict(f.split("=", 1) for f in out.split() if "=" in f)


@pytest.fixture(scope="module")
def tiny_student(tmp_path_factory):
    from tests.tiny_models import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("student") / "model")


def wait_for_records(cluster: SlurmCluster, match, timeout: float = 30) -> list[dict]:
    """SLURM's completion records that `match` (a predicate on one record), waiting up to
    `timeout` seconds for the first (a record is written as its job ends); [] if none came."""
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in cluster.job_records() if match(r)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(1)


def wait_for_record(cluster: SlurmCluster, job_id: str, timeout: float = 30) -> dict:
    """SLURM's completion record of one job ({} if it never came)."""
    found = wait_for_records(cluster, lambda r: r.get("JobId") == job_id, timeout)
    return found[-1] if found else {}


CLUSTER_TARGETS = [
    "results/samples/train/0.parquet",  # sample_student: a GPU job
    "results/taxonomy/steps.parquet",  # locate_errors: asks the served teacher
    "results/models/sft",  # train: training.nodes 2, a GPU on each node
    "results/eval/sft/test.parquet",  # evaluate: a GPU job
]


def test_the_cluster_path_gpu_jobs_a_served_teacher_and_training_on_two_nodes(cluster, tmp_path, tiny_student):
    """One run through the test SLURM, as a user's cluster run goes: sampling and evaluation are GPU
    jobs that run (on the CPU inside the job: the test GPUs are only counted) with their GPU in
    SLURM's records; the teacher is served by a server the workflow starts as a SLURM job of its own
    (with its GPU) and stops; training.nodes 2 makes one train job on n1 and n2, a GPU on each, one
    accelerate launch per node, whose loss curve equals 1 node x 2 processes on the same data and
    seed. Afterwards no job is left in SLURM and no server process on the machine. The served
    teacher is tests/fake_openai_server.py given as teacher.serve.command (CPU vLLM in a job of this
    2-CPU test node would take minutes; tests/test_real_llm.py serves with it)."""
    from lemma.config import fill_defaults
    from lemma.pipeline.training import run_training
    from tests.test_teacher_server import answered, configure, serve_section, server_pids
    from tests.workflow_helpers import make_workdir

    wd = make_workdir(tmp_path / "cluster")
    requests = tmp_path / "requests.log"
    configure(wd, tiny_student, serve_section(requests))  # the tiny HF student and the served teacher
    training = {"gpus": 1, "nodes": 2, "max_steps": 6, "logging_steps": 1, "global_batch": 8, "per_device_batch": 4}
    _tiny_student_config(wd, tiny_student, training)
    extra = {"set-resources": {**GPU_PROFILE["set-resources"], "serve_teacher": {"cpus_per_gpu": 1, "runtime": 30}}}
    profile = derive_profile(tmp_path / "profile", extra)
    out = run_snakemake(
        cluster, wd, "--profile", str(profile), "--verbose", *CLUSTER_TARGETS, snakefile=REPO / "Snakefile", timeout=900
    ).stdout
    for rel in CLUSTER_TARGETS:
        assert (wd / rel).exists(), rel
    assert pl.read_parquet(wd / "results/eval/sft/test.parquet").height == 60

    # the GPU jobs: completed, each with its GPU
    by_rule = {name.split()[1]: job_id for job_id, name in submitted(out).items() if name.startswith("rule ")}
    assert {"sample_student", "train", "evaluate"} <= set(by_rule), by_rule
    for rule in ("sample_student", "evaluate"):
        assert wait_for_record(cluster, by_rule[rule]).get("JobState") == "COMPLETED", rule
        assert job_details(cluster, by_rule[rule]).get("TresPerJob") == "gres:gpu:1", rule

    # training on two nodes: one job on n1 and n2, a GPU on each node, 2 processes in all
    record = wait_for_record(cluster, by_rule["train"])
    assert record.get("JobState") == "COMPLETED" and record["NodeList"] == "n[1-2]", record
    details = job_details(cluster, by_rule["train"])
    assert details["NumNodes"] == "2" and details.get("TresPerNode") == "gres:gpu:1", details
    assert json.loads((wd / "results/models/sft/training_complete.json").read_text())["world_size"] == 2
    cfg = yaml.safe_load((wd / "config/config.yaml").read_text())
    fill_defaults(cfg, "config")  # the train rule's settings, defaults filled in
    one_node = {**cfg["training"], "nodes": 1, "gpus": 2}
    run_training(str(tiny_student), str(wd / "results/sft/sft.jsonl"), str(tmp_path / "one"), one_node, threads=1)
    assert curve(tmp_path / "one") == curve(wd / "results/models/sft")

    # the served teacher: one server job, with its GPU, answered the step judge, ended by itself
    assert answered(requests), "the teacher jobs reached the served teacher"
    log = (wd / "logs/teacher_server.log").read_text()
    assert log.count("starting the teacher server") == 1 and "answers at http://127.0.0.1:" in log, log
    servers = wait_for_records(cluster, lambda r: "lemma-teacher-server" in (r.get("Name"), r.get("JobName")))
    assert len(servers) == 1 and servers[0]["JobState"] == "COMPLETED", servers
    assert job_details(cluster, servers[0]["JobId"]).get("TresPerJob") == "gres:gpu:1"

    # nothing left behind
    deadline = time.monotonic() + 60
    while [j for j in cluster.queue() if j["JobState"] in ("PENDING", "RUNNING", "COMPLETING")]:
        assert time.monotonic() < deadline, cluster.queue()
        time.sleep(1)
    assert not server_pids(str(requests)), "the server process outlived its job"


def curve(model_dir: Path) -> list[tuple[int, float]]:
    rows = (model_dir / "curves.csv").read_text().splitlines()[1:]
    return [(int(r.split(",")[0]), round(float(r.split(",")[2]), 5)) for r in rows]


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
