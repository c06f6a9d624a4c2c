"""Where jobs run, as a dry run shows it: the GPUs every model-loading rule asks for, multi-node
training's request, the workflow's own groups whatever profile is used (a site's generic
`--profile slurm` included), retries only off the local machine, and the SLURM plugin's floor.
(tests/test_slurm.py runs these jobs through a real SLURM.)"""

from __future__ import annotations

import os
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from tests.workflow_helpers import REPO, make_workdir, snakemake

pytestmark = pytest.mark.workflow

TEACHER_RULES = {
    "locate_errors",
    "classify_errors",
    "inject_errors",
    "locate_and_truncate",
    "correct",
    "smooth_and_filter",
}


def _configure(wd: Path, **sections) -> None:
    cfg = yaml.safe_load((wd / "config/config.yaml").read_text())
    for name, values in sections.items():
        cfg[name] = values if name == "teacher" else {**cfg.get(name, {}), **values}
    (wd / "config/config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def planned_resources(wd: Path, *args: str, env: dict | None = None) -> tuple[dict[str, list[dict]], str]:
    """rule -> the resources of each of its jobs in a dry run, and the dry run's output."""
    proc = snakemake(wd, "-n", *args, env=env)
    jobs: dict[str, list[dict]] = {}
    # a job: "rule NAME:" (indented inside a group job) up to the next job's date line
    for block in re.split(r"\n(?=\s*\[[^\]]*\]\s*\n\s*(?:local)?rule \w+:)", proc.stdout):
        m = re.search(r"^\s*(?:local)?rule (\w+):", block, re.M)
        res = re.search(r"^\s+resources: (.*)$", block, re.M)
        if m and res:
            jobs.setdefault(m.group(1), []).append(dict(kv.split("=", 1) for kv in res.group(1).split(", ")))
    return jobs, proc.stdout


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tests.tiny_models import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture()
def vllm_importable(tmp_path):
    """The config check wants engine vllm importable where the jobs run; a placeholder package
    satisfies the lookup of a dry run (nothing imports it)."""
    stub = tmp_path / "stub" / "vllm"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text('raise ImportError("placeholder for a config check")\n')
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(stub.parent), os.environ.get("PYTHONPATH")]))}


def test_a_local_teacher_model_asks_for_its_gpus_and_is_not_grouped(tmp_path, tiny_model, vllm_importable):
    """Defect 1: with engine vllm the teacher rules load the model in the job; they asked for no GPU
    and were packed 8 chains to a group job."""
    wd = make_workdir(tmp_path / "vllm")
    teacher = {"kind": "llm", "engine": "vllm", "model": str(tiny_model), "tensor_parallel_size": 4}
    _configure(wd, teacher=teacher)
    jobs, out = planned_resources(wd, env=vllm_importable)
    assert TEACHER_RULES <= set(jobs), sorted(jobs)
    for rule in TEACHER_RULES:
        for res in jobs[rule]:
            assert res.get("gpu") == "4" and res.get("cpus_per_gpu") == "4", (rule, res)
    # one job each: no group job holds a teacher rule (grading and the SFT sets stay grouped)
    assert not re.search(r"Group job (augment|judge)", out), out[-3000:]
    assert re.search(r"Group job sft", out)


def test_hf_teacher_asks_for_one_gpu_unless_on_cpu(tmp_path, tiny_model):
    wd = make_workdir(tmp_path / "hf")
    _configure(wd, teacher={"kind": "llm", "engine": "hf", "model": str(tiny_model)})
    jobs, _ = planned_resources(wd)
    assert {res["gpu"] for rule in TEACHER_RULES for res in jobs[rule]} == {"1"}
    _configure(wd, teacher={"kind": "llm", "engine": "hf", "model": str(tiny_model), "device": "cpu"})
    jobs, _ = planned_resources(wd)
    assert {res["gpu"] for rule in TEACHER_RULES for res in jobs[rule]} == {"0"}


def test_api_and_oracle_teachers_ask_for_no_gpu_and_are_grouped(tmp_path):
    wd = make_workdir(tmp_path / "api")
    jobs, out = planned_resources(wd)  # the small config: the oracle
    for rule in TEACHER_RULES:
        assert {r["gpu"] for r in jobs[rule]} == {"0"} and not any("cpus_per_gpu" in r for r in jobs[rule]), rule
    assert re.search(r"Group job augment", out) and re.search(r"Group job judge", out)
    _configure(
        wd,
        teacher={"kind": "llm", "engine": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1"},
    )
    jobs, _ = planned_resources(wd)
    assert {r["gpu"] for rule in TEACHER_RULES for r in jobs[rule]} == {"0"}


def test_student_rules_ask_for_the_student_engine_gpus(tmp_path, tiny_model, vllm_importable):
    wd = make_workdir(tmp_path / "student")
    jobs, _ = planned_resources(wd)  # the built-in tiny student: no GPU
    assert {r["gpu"] for rule in ("sample_student", "evaluate") for r in jobs[rule]} == {"0"}
    _configure(wd, student={"engine": "vllm", "model": str(tiny_model), "tensor_parallel_size": 2})
    jobs, _ = planned_resources(wd, env=vllm_importable)
    assert {r["gpu"] for rule in ("sample_student", "evaluate") for r in jobs[rule]} == {"2"}
    _configure(wd, student={"engine": "hf", "model": str(tiny_model), "tensor_parallel_size": 1})
    jobs, _ = planned_resources(wd)
    assert {r["gpu"] for rule in ("sample_student", "evaluate") for r in jobs[rule]} == {"1"}


def test_training_on_several_nodes_asks_for_nodes_and_gpus_per_node(tmp_path):
    """Defect 3: training stopped at one node."""
    wd = make_workdir(tmp_path / "nodes")
    _configure(wd, training={"gpus": 4, "nodes": 3})
    jobs, _ = planned_resources(wd)
    for res in jobs["train"]:
        assert (res["nodes"], res["tasks"], res["mpi"], res["gres"]) == ("3", "3", "srun", "gpu:4"), res
        assert "gpu" not in res, "--gpus would count GPUs per job, not per node"
    _configure(wd, training={"gpus": 2, "nodes": 1})
    jobs, _ = planned_resources(wd)
    assert all(r["gpu"] == "2" and r["cpus_per_gpu"] == "8" and "nodes" not in r for r in jobs["train"])


GENERIC_PROFILE = "executor: slurm\njobs: 100\nlatency-wait: 30\n"


def test_a_sites_generic_slurm_profile_keeps_the_workflows_cluster_settings(tmp_path):
    """Defect 5: `snakemake --profile slurm` finds a site's or user's generic profile of that name
    (here in $XDG_CONFIG_HOME/snakemake/slurm); the groups used to live in profiles/slurm only."""
    xdg = tmp_path / "xdg"
    (xdg / "snakemake/slurm").mkdir(parents=True)
    (xdg / "snakemake/slurm/config.yaml").write_text(GENERIC_PROFILE)
    wd = make_workdir(tmp_path / "generic")
    generic = snakemake(wd, "-n", "--profile", "slurm", env={"XDG_CONFIG_HOME": str(xdg)}).stdout
    ours = snakemake(wd, "-n", "--profile", str(REPO / "profiles/slurm")).stdout
    groups = sorted(re.findall(r"Group job (\w+)", ours))
    assert {"augment", "judge", "sft"} <= set(groups), ours[-3000:]
    assert sorted(re.findall(r"Group job (\w+)", generic)) == groups
    bare = snakemake(wd, "-n", "--executor", "slurm", "--jobs", "50").stdout  # no profile at all
    assert sorted(re.findall(r"Group job (\w+)", bare)) == groups


def test_retries_apply_on_a_cluster_only(tmp_path):
    """A failing local job fails at once; off the local machine the workflow retries it twice unless
    --retries says otherwise (tests/test_slurm.py sees a cancelled train job retried through SLURM)."""
    wd = make_workdir(tmp_path / "retries")
    (wd / "results/problems").mkdir(parents=True)
    (wd / "results/models/base").mkdir(parents=True)
    (wd / "results/problems/train.parquet").write_text("not a parquet file")
    proc = snakemake(wd, "results/samples/train/0.parquet", "--allowed-rules", "sample_student", check=False)
    assert proc.returncode != 0
    log = proc.stdout + proc.stderr
    assert "attempt 2" not in log.lower() and "Trying to restart" not in log, log[-3000:]


def test_slurm_plugin_floor_is_the_major_the_profile_is_written_for():
    """Defect 6: the plugin was floored at >=1.0 while the profile uses 2.x options (--gpus with
    gpu_model, slurm-keep-successful-logs, slurm-init-seconds-before-status-checks)."""
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["slurm"]
    (req,) = [d for d in deps if d.startswith("snakemake-executor-plugin-slurm")]
    assert ">=2.0" in req and "<3" in req, req
    assert version("snakemake-executor-plugin-slurm").split(".")[0] == "2"
    from snakemake_executor_plugin_slurm import ExecutorSettings

    fields = {f.replace("_", "-") for f in ExecutorSettings.__dataclass_fields__}
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    used = {k.removeprefix("slurm-") for k in profile if k.startswith("slurm-")}
    assert used <= fields, used - fields
