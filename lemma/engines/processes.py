"""Facts about this machine and the processes on it: whether a process lives, a free TCP port, and
the address SLURM reaches a node by (shared by multi-node training and the served teacher)."""

from __future__ import annotations

import os
import socket
import subprocess


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists here (one of another user counts: it cannot be
    signalled, but it is there)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def free_port() -> int:
    """A TCP port free on this machine now (the caller binds it moments later)."""
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def slurm_node_address(node: str) -> str | None:
    """SLURM's NodeAddr of `node` (the name SLURM itself reaches it by, right where node names are
    not DNS names); None when scontrol cannot say."""
    try:
        out = subprocess.run(["scontrol", "show", "node", node, "-o"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for field in out.stdout.split():
        if field.startswith("NodeAddr="):
            return field.split("=", 1)[1]
    return None
