"""The workflow's side of a teacher server it owns (teacher.serve): one server per run, started
when the run has teacher jobs to do, reached by them through the URL it publishes, stopped when
the last of them is done or the run ends (lemma.serving.supervise is the server side).

The Snakefile calls `TeacherServerOwner.start()` from `onstart` and `stop()` from `onsuccess` /
`onerror`. Between the two, a thread of the Snakemake process touches the heartbeat and asks for a
stop as soon as every teacher job's outputs exist. Where the server runs:
- `local`: a process of this machine (`snakemake --cores N`; the GPUs or CPUs of this machine);
- `slurm`: a SLURM job of its own (`--executor slurm` / `--profile ...`), asking for
  tensor_parallel_size GPUs with the cluster settings a profile gives the pseudo-rule
  `serve_teacher` (`set-resources: serve_teacher: {slurm_partition: gpu, ...}`) and the default
  partition and account. Stopping also `scancel`s it.
Killed with SIGKILL, the owner leaves no handler behind: the server stops itself when the
heartbeat is older than teacher.serve.heartbeat_timeout_s.

Teacher jobs call `served_url(...)`, which waits for the URL (start-up is not charged to a job's
own requests: each job waits for the one server) and checks that the server answers.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from lemma.serving.supervise import answers, write_atomic

log = logging.getLogger("lemma.serving")

STATE_DIR = ".lemma/teacher_server"  # relative to the workflow's working directory (shared)
LOG_FILE = "logs/teacher_server.log"
HEARTBEAT_S = 5.0


class ServeError(RuntimeError):
    """The teacher server could not be started or reached (the message says why)."""


def vllm_command(serve: dict, python: str) -> list[str]:
    """`vllm serve` of the teacher model through lemma.serving.vllm_serve (plain `vllm serve` where the
    GPU package is installed; the CPU build's work-arounds otherwise). {host} {port} {model} are
    filled in by the supervisor."""
    cmd = [python, "-m", "lemma.serving.vllm_serve", "{model}", "--host", "{host}", "--port", "{port}"]
    if serve.get("tensor_parallel_size", 1) > 1:
        cmd += ["--tensor-parallel-size", str(serve["tensor_parallel_size"])]
    return cmd + [str(a) for a in serve.get("args") or []]


def server_command(serve: dict) -> list[str]:
    """teacher.serve.command (any OpenAI-compatible server, with {host} {port} {model}), else vLLM."""
    if serve.get("command"):
        return [str(a) for a in serve["command"]]
    return vllm_command(serve, serve.get("python") or sys.executable)


def sbatch_command(serve: dict, resources: dict, state: Path, log_file: Path) -> list[str]:
    """The server's own SLURM job: its GPUs (tensor_parallel_size, with gpu_model where the profile
    gives one), CPUs per GPU, memory, time limit, partition and account."""
    gpus = int(serve.get("tensor_parallel_size", 1))
    model = resources.get("gpu_model")
    cmd = [
        "sbatch",
        "--parsable",
        "--job-name=lemma-teacher-server",
        f"--output={log_file}",
        f"--time={int(resources.get('runtime', 24 * 60))}",
        f"--mem={int(resources.get('mem_mb', 32000))}",
        "--ntasks=1",
    ]
    if resources.get("gpu", gpus):
        cmd += [f"--gpus={model}:{gpus}" if model else f"--gpus={gpus}"]
        cmd += [f"--cpus-per-gpu={int(resources.get('cpus_per_gpu', 4))}"]
    else:  # a CPU server (a test cluster, or a CPU-only site)
        cmd += [f"--cpus-per-task={int(resources.get('cpus_per_task', 1))}"]
    for key, flag in (("slurm_partition", "--partition"), ("slurm_account", "--account"), ("qos", "--qos")):
        if resources.get(key):
            cmd.append(f"{flag}={resources[key]}")
    if resources.get("slurm_extra"):
        cmd += shlex.split(str(resources["slurm_extra"]))
    supervise = shlex.join([sys.executable, "-m", "lemma.serving.supervise", str(state)])
    return cmd + [f"--wrap=exec {supervise}"]


class TeacherServerOwner:
    def __init__(
        self,
        serve: dict,
        model: str,
        outputs: list[str],
        where: str = "local",
        resources: dict | None = None,
        workdir: str | os.PathLike = ".",
    ):
        self.serve, self.model, self.outputs, self.where = serve, model, outputs, where
        self.resources = resources or {}
        self.workdir = Path(workdir).resolve()
        self.state = self.workdir / STATE_DIR
        self.log_file = self.workdir / LOG_FILE
        self.run = uuid.uuid4().hex
        self.proc: subprocess.Popen | None = None
        self.job: str | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        for name in ("stop", "url.json", "failed"):  # a previous run's leftovers
            (self.state / name).unlink(missing_ok=True)
        (self.state / "heartbeat").touch()
        spec = {
            "run": self.run,
            "model": self.model,
            "command": server_command(self.serve),
            "port": self.serve.get("port"),
            "heartbeat_timeout_s": self.serve.get("heartbeat_timeout_s", 120),
            # this machine's GPUs for the server; in a SLURM job SLURM sets them
            "env": {"CUDA_VISIBLE_DEVICES": self.serve["devices"]}
            if self.serve.get("devices") and self.where == "local"
            else {},
            "startup_timeout_s": self.serve.get("startup_timeout_s", 1800),
        }
        write_atomic(self.state / "spec.json", json.dumps(spec, indent=1))
        if self.where == "slurm":
            cmd = sbatch_command(self.serve, self.resources, self.state, self.log_file)
            p = subprocess.run(cmd, capture_output=True, text=True, cwd=self.workdir)
            if p.returncode != 0:
                raise ServeError(f"sbatch of the teacher server failed: {p.stderr.strip()}\n  {shlex.join(cmd)}")
            self.job = p.stdout.strip().split(";")[0]
            log.info("teacher server: SLURM job %s (log %s)", self.job, self.log_file)
        else:
            with open(self.log_file, "ab") as out:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "lemma.serving.supervise", str(self.state)],
                    cwd=self.workdir,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # not killed with the workflow's process group: it stops itself
                )
            log.info("teacher server: process %s (log %s)", self.proc.pid, self.log_file)
        self._thread = threading.Thread(target=self._watch, name="teacher-server-heartbeat", daemon=True)
        self._thread.start()

    def _teacher_jobs_done(self) -> bool:
        """Every teacher job's outputs exist (never, for an owner that lists none: a command that
        stops the server itself when it is done)."""
        return bool(self.outputs) and all((self.workdir / f).exists() for f in self.outputs)

    def _watch(self) -> None:
        while not self._done.wait(HEARTBEAT_S):
            (self.state / "heartbeat").touch()
            if self._teacher_jobs_done():
                log.info("teacher server: the last teacher job is done; stopping the server")
                self.stop(wait=False)
                return

    def stop(self, wait: bool = True) -> None:
        """Ask the server to stop (idempotent); with `wait`, until it has (bounded)."""
        self._done.set()
        if not self.state.exists():
            return
        (self.state / "stop").touch()
        if self.job and wait:
            # the supervisor sees `stop` within a second and ends its job; scancel is the backstop
            deadline = time.time() + 30
            while time.time() < deadline and _job_alive(self.job):
                time.sleep(1)
            subprocess.run(["scancel", self.job], capture_output=True)
        if wait and self.proc is not None:
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _job_alive(job: str) -> bool:
    p = subprocess.run(["squeue", "-h", "-j", job, "-t", "PD,R,CG,S"], capture_output=True, text=True)
    return p.returncode == 0 and bool(p.stdout.strip())


def served_url(state_dir: str | os.PathLike = STATE_DIR, timeout_s: float | None = None) -> str:
    """The URL of the run's teacher server, once it answers; waits while it starts."""
    state = Path(state_dir)
    deadline = None
    while True:
        try:
            spec = json.loads((state / "spec.json").read_text())
        except (OSError, ValueError):
            spec = None
        if spec is None:
            raise ServeError(
                f"teacher.serve is set but no teacher server was started ({state}/spec.json is missing): "
                "run the teacher rules through snakemake, which starts the server"
            )
        if deadline is None:
            deadline = time.time() + (timeout_s if timeout_s is not None else float(spec["startup_timeout_s"]))
        try:
            info = json.loads((state / "url.json").read_text())
        except (OSError, ValueError):
            info = None
        if info and info.get("run") == spec["run"] and answers(info["url"]):
            return info["url"]
        if (state / "failed").exists():
            raise ServeError(f"{(state / 'failed').read_text().strip()}; see {LOG_FILE} (a rerun starts a new one)")
        if (state / "stop").exists():
            raise ServeError(f"the teacher server was stopped; see {LOG_FILE}")
        if time.time() > deadline:
            raise ServeError(f"the teacher server did not answer within the start-up timeout; see {LOG_FILE}")
        time.sleep(2)
