"""The server side of a teacher server the workflow owns (teacher.serve): start the server, wait
until it answers, publish its URL, and stop it when the workflow no longer needs it.

    python -m lemma.serving.supervise STATE_DIR

STATE_DIR (on the filesystem the workflow and its jobs share) holds, written by the owner
(lemma.serving.owner, in the Snakemake process): `spec.json` (the command to run, the run's id,
the heartbeat bound), `heartbeat` (touched every few seconds while the workflow lives) and, to
ask for a stop, `stop`. This process writes `url.json` once the server answers
(`GET {url}/models`), and removes it when the server is gone; `failed` when the server died.

It stops the server (SIGTERM to its process group, SIGKILL 30 s later) and exits when:
- `stop` appears (the last teacher job is done, or the workflow ended);
- the heartbeat is older than `heartbeat_timeout_s` (the workflow was killed, even with SIGKILL,
  so no handler of its ran): the bound on how long a forgotten server holds its GPUs;
- `spec.json` names another run (a newer workflow run took over the state directory);
- the server process exits (a crash: the teacher jobs fail, a rerun starts a fresh server).
It runs on the machine (or in the SLURM job) that holds the server's GPUs.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from lemma.engines.processes import free_port, slurm_node_address

log = logging.getLogger("lemma.serving.supervise")

POLL_S = 1.0
KILL_AFTER_S = 30


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def answers(url: str, timeout: float = 5) -> bool:
    """The server lists its models: it is up and serving."""
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def node_address() -> str:
    """The address the teacher jobs reach this node by: SLURM's NodeAddr inside a SLURM job, else
    127.0.0.1."""
    node = os.environ.get("SLURMD_NODENAME")
    if not node:
        return "127.0.0.1"
    return slurm_node_address(node) or socket.getfqdn()


def _stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the engine processes it spawned
        proc.wait(timeout=KILL_AFTER_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def _reason_to_stop(state: Path, run: str, heartbeat_timeout_s: float) -> str | None:
    if (state / "stop").exists():
        return "asked to stop"
    try:
        spec = json.loads((state / "spec.json").read_text())
    except (OSError, ValueError):
        return "the state directory is gone"
    if spec.get("run") != run:
        return "a newer workflow run took over"
    try:
        age = time.time() - (state / "heartbeat").stat().st_mtime
    except OSError:
        return "no heartbeat"
    if age > heartbeat_timeout_s:
        return f"no heartbeat for {age:.0f} s (the workflow is gone)"
    return None


def supervise(state: Path) -> int:
    spec = json.loads((state / "spec.json").read_text())
    run, bound = spec["run"], float(spec["heartbeat_timeout_s"])
    host = node_address()
    port = int(spec.get("port") or free_port())
    cmd = [a.format(host=host, port=port, model=spec["model"]) for a in spec["command"]]
    url = f"http://{host}:{port}/v1"
    log.info("starting the teacher server: %s", " ".join(cmd))
    env = {**os.environ, **spec.get("env", {})}
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True, env=env)
    (state / "url.json").unlink(missing_ok=True)
    started, published = time.time(), False
    try:
        while True:
            reason = _reason_to_stop(state, run, bound)
            if reason:
                log.info("stopping the teacher server: %s", reason)
                return 0
            if proc.poll() is not None:
                log.error("the teacher server exited with status %s", proc.returncode)
                write_atomic(state / "failed", f"the teacher server exited with status {proc.returncode}\n")
                return 1
            if not published and answers(url):
                info = {"url": url, "run": run, "pid": os.getpid(), "job": os.environ.get("SLURM_JOB_ID")}
                write_atomic(state / "url.json", json.dumps(info))
                log.info("the teacher server answers at %s after %.0f s", url, time.time() - started)
                published = True
            time.sleep(POLL_S)
    finally:
        (state / "url.json").unlink(missing_ok=True)
        _stop_server(proc)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m lemma.serving.supervise STATE_DIR", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # SIGTERM (scancel, kill) ends the loop through the finally above, which stops the server
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    return supervise(Path(args[0]))


if __name__ == "__main__":
    raise SystemExit(main())
