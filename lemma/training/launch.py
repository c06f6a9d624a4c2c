"""How a fine-tune is started: one process, `accelerate launch` on one machine, or one
`accelerate launch` per node of a SLURM allocation (training.nodes > 1).

Several nodes: the train job's batch script runs on the allocation's first node and calls

    srun --nodes=N --ntasks=N --ntasks-per-node=1 python -m lemma.training.launch --port P ... -- FINETUNE_ARGS

Each srun task (one per node) then starts `accelerate launch` with its machine rank
(`SLURM_NODEID`), the main address (the first node's address as SLURM knows it: NodeAddr of the
first host of `SLURM_JOB_NODELIST`) and the port chosen once on the first node. The effective batch
stays `training.global_batch`: lemma.training.finetune derives gradient accumulation from the
world size (all processes of all nodes).

Without an accelerate config file the processes use plain DDP (`--multi_gpu`): NCCL on GPUs, gloo
on CPUs (accelerate's CPU launcher would start one process only, whatever --num_processes says).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass

from lemma.engines.processes import free_port, slurm_node_address


class LaunchError(RuntimeError):
    """The training cannot be started where it was asked to run (the message says why and what to do)."""


@dataclass(frozen=True)
class Layout:
    """Where a fine-tune's processes run: `nodes` machines, `per_node` processes on each."""

    nodes: int = 1
    per_node: int = 1

    @classmethod
    def from_training(cls, training: dict) -> Layout:
        """training.gpus GPUs (one process each, at least one process) on each of training.nodes nodes."""
        return cls(nodes=int(training.get("nodes") or 1), per_node=max(1, int(training.get("gpus") or 0)))

    @property
    def processes(self) -> int:
        return self.nodes * self.per_node


def accelerate_command(
    layout: Layout,
    finetune_args: list[str],
    accelerate_config: str | None = None,
    machine_rank: int = 0,
    main_address: str | None = None,
    main_port: int | None = None,
) -> list[str]:
    """`accelerate launch` for this machine's share of the layout, running lemma.training.finetune."""
    cmd = [sys.executable, "-m", "accelerate.commands.launch"]
    if accelerate_config:
        cmd += ["--config_file", accelerate_config]
    else:
        cmd += ["--multi_gpu"]  # DDP; falls back to gloo where there is no GPU
    cmd += ["--num_processes", str(layout.processes), "--num_machines", str(layout.nodes)]
    if layout.nodes > 1:
        if main_address is None or main_port is None:
            raise ValueError("several nodes need the main address and port")
        cmd += [
            "--machine_rank",
            str(machine_rank),
            "--main_process_ip",
            main_address,
            "--main_process_port",
            str(main_port),
            "--same_network",
        ]
    elif main_port is not None:
        cmd += ["--main_process_port", str(main_port)]
    return cmd + ["-m", "lemma.training.finetune", *finetune_args]


def _scontrol(*args: str) -> str:
    p = subprocess.run(["scontrol", *args], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise LaunchError(f"scontrol {' '.join(args)} failed: {p.stderr.strip()}")
    return p.stdout


def first_node_address(nodelist: str) -> str:
    """The address of the first host of a SLURM node list ("gpu[3-4]" -> gpu3's NodeAddr): the
    name SLURM itself reaches the node by, which is also right where node names are not DNS names."""
    first = _scontrol("show", "hostnames", nodelist).split()[0]
    return slurm_node_address(first) or first


def slurm_allocation(layout: Layout) -> tuple[int, str]:
    """(nodes, node list) of the SLURM job this process runs in, checked against the layout. Asked
    of slurmctld: Snakemake's SLURM job-step plugin removes SLURM_JOB_NODELIST and the like from
    the job's environment, keeping SLURM_JOB_ID."""
    job = os.environ.get("SLURM_JOB_ID")
    if not job:
        raise LaunchError(
            f"training.nodes is {layout.nodes}: training on several nodes runs inside a SLURM job "
            "(snakemake --executor slurm, or --profile profiles/slurm); on one machine set training.nodes: 1"
        )
    fields = dict(f.split("=", 1) for f in _scontrol("show", "job", "-o", job).split() if "=" in f)
    nodes = int(fields.get("NumNodes", "1").split("-")[0])
    if nodes != layout.nodes:
        raise LaunchError(f"training.nodes is {layout.nodes} but SLURM job {job} holds {nodes} node(s)")
    return nodes, fields["NodeList"]


def srun_command(layout: Layout, finetune_args: list[str], accelerate_config: str | None, port: int) -> list[str]:
    """The command the train job runs on its first node: one task per node, each running main() below."""
    _, nodelist = slurm_allocation(layout)
    cmd = [
        "srun",
        f"--nodes={layout.nodes}",
        f"--ntasks={layout.nodes}",
        "--ntasks-per-node=1",
        "--kill-on-bad-exit=1",  # one node's failure ends the others (no rank waits forever)
        sys.executable,
        "-m",
        "lemma.training.launch",
        "--nodes",
        str(layout.nodes),
        "--per-node",
        str(layout.per_node),
        "--main-address",
        first_node_address(nodelist),
        "--port",
        str(port),
    ]
    if accelerate_config:
        cmd += ["--accelerate-config", accelerate_config]
    return cmd + ["--", *finetune_args]


def launch(layout: Layout, finetune_args: list[str], accelerate_config: str | None = None) -> None:
    """Run lemma.training.finetune with `finetune_args` over the layout; raises on failure."""
    if layout.nodes > 1:
        cmd = srun_command(layout, finetune_args, accelerate_config, free_port())
    else:
        cmd = accelerate_command(layout, finetune_args, accelerate_config, main_port=free_port())
    p = subprocess.run(cmd)
    if p.returncode != 0:
        raise LaunchError(f"training failed (exit status {p.returncode}): {' '.join(cmd)}")


def main(argv: list[str] | None = None) -> int:
    """One node's part of a multi-node fine-tune (run by srun, once per node)."""
    ap = argparse.ArgumentParser(prog="python -m lemma.training.launch", description=main.__doc__)
    ap.add_argument("--nodes", type=int, required=True)
    ap.add_argument("--per-node", type=int, required=True)
    ap.add_argument("--main-address", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--accelerate-config")
    ap.add_argument("finetune_args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    args = a.finetune_args[1:] if a.finetune_args[:1] == ["--"] else a.finetune_args
    rank = int(os.environ["SLURM_NODEID"])
    layout = Layout(a.nodes, a.per_node)
    cmd = accelerate_command(layout, args, a.accelerate_config, rank, a.main_address, a.port)
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    raise SystemExit(main())
