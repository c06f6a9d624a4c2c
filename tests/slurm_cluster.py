"""A throwaway SLURM cluster on localhost for the tests (Debian's slurm-wlm + munge).

Usage:
    reason = why_unavailable()          # None, or why this machine cannot run one (the test skips)
    with SlurmCluster() as cluster:     # munged, slurmctld, slurmd; ~3 s to an idle node
    SlurmCluster(nodes=2, gpus_per_node=2)  # two nodes n1, n2 (two slurmd on this host, each its own
                                        # port and %n paths), each advertising 2 GPUs
        subprocess.run(["sbatch", ...], env=cluster.env)
        cluster.job_records()           # SLURM's own record of every finished job

Everything lives in one private temporary directory: slurm.conf, the munge socket and key, state,
spool, logs and the job-completion log. Clients and daemons find the cluster through SLURM_CONF (in
`cluster.env`). One copy of slurm.conf must also sit at SLURM's compiled-in path,
/etc/slurm/slurm.conf, for as long as the cluster runs: the SLURM job-step plugin strips every
SLURM_* variable but a few (SLURM_CONF included) before its nested `srun`. It is written at start
(marked with this process's PID) and removed at stop. Leaving it behind would cost every later
`snakemake` start on the machine 10 s: Snakemake imports every installed executor plugin, the SLURM
plugin runs `scontrol show config` at import, and with a slurm.conf naming a controller that is not
running that call waits for its 10 s timeout (without any slurm.conf it fails at once). A
/etc/slurm/slurm.conf that is not ours (a real cluster's) is never touched: the test skips.

GPUs are declared, not present: gres.conf names plain files as the devices (AutoDetect=off), so
SLURM allocates and records them (TresPerNode, TresPerJob) while the job's code, seeing no CUDA
device, runs on the CPU. Several nodes on one host: every node's NodeAddr is 127.0.0.1.

The daemons run in the foreground (-D / -F) as children of this process, so stopping them means
signalling exactly the PIDs started here, nothing found by name.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from lemma.engines.processes import pid_alive

DAEMONS = ("munged", "mungekey", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scancel", "sinfo", "scontrol", "srun")
PACKAGES = ("slurm-wlm", "munge")
# What the test node advertises. The workflow's rules ask for real amounts (train: 8 GB, doubled on a
# retry); the node claims enough for them whatever the CI machine has (SlurmdParameters=
# config_overrides keeps slurmd from draining it), and nothing enforces memory here (task/none, no
# cgroups), so a job is never killed for it.
NODE_MEMORY_MB = 64000
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
MARKER = "# lemma-workflow test cluster (tests/slurm_cluster.py), pid "


class ClusterUnavailable(RuntimeError):
    """This machine cannot host the test cluster now (the reason is the message)."""


def _system_conf_owner() -> int | None:
    """PID of the test process whose slurm.conf is at SYSTEM_CONF; None if there is none.
    Raises ClusterUnavailable for a slurm.conf that is not a test cluster's."""
    try:
        first = SYSTEM_CONF.read_text().split("\n", 1)[0]
    except FileNotFoundError:
        return None
    if not first.startswith(MARKER):
        raise ClusterUnavailable(
            f"{SYSTEM_CONF} exists and is not a test cluster's: this machine belongs to a "
            "real SLURM cluster, which the test leaves alone"
        )
    return int(first[len(MARKER) :])


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")


def _missing() -> list[str]:
    return [n for n in DAEMONS + CLIENTS if _which(n) is None]


def install_packages(timeout: int = 600) -> str | None:
    """apt-get install slurm-wlm munge (root on Debian/Ubuntu only). None on success, else why not."""
    if os.geteuid() != 0:
        return "not root: cannot apt-get install slurm-wlm munge, nor run slurmd"
    if shutil.which("apt-get") is None:
        return "no apt-get: install SLURM (slurmctld, slurmd, sbatch) and munge by hand to run this test"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=timeout)
        p = subprocess.run(
            ["apt-get", "install", "-y", "-qq", *PACKAGES], env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return f"apt-get install {' '.join(PACKAGES)} took over {timeout} s"
    if p.returncode != 0:
        return f"apt-get install {' '.join(PACKAGES)} failed: {p.stderr.strip()[-300:]}"
    return None


def why_unavailable(install: bool = True) -> str | None:
    """None when a cluster can be started here; otherwise the reason, for pytest.skip."""
    if os.geteuid() != 0:
        return "needs root (slurmd runs jobs as root here, munged as the munge user)"
    if _missing() and install:
        reason = install_packages()
        if reason:
            return reason
    missing = _missing()
    if missing:
        return f"SLURM/munge programs not found: {', '.join(missing)} (apt-get install {' '.join(PACKAGES)})"
    try:
        import pwd

        pwd.getpwnam("munge")
    except KeyError:
        return "no 'munge' user (the munge package creates it)"
    try:
        owner = _system_conf_owner()
    except ClusterUnavailable as e:
        return str(e)
    if owner is not None and owner != os.getpid() and pid_alive(owner):
        return f"another test SLURM cluster (pid {owner}) is running on this machine"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SlurmCluster:
    """munged + slurmctld + slurmd, one node (this host at 127.0.0.1), one partition `debug`."""

    def __init__(
        self,
        cpus: int | None = None,
        min_job_age: int = 300,
        base: str = "/tmp",
        nodes: int = 1,
        gpus_per_node: int = 0,
    ):
        # A short path: the munge socket lives under it and Unix socket paths are capped at 107 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="slurm-", dir=base))
        self.dir.chmod(0o755)  # munged (as user munge) must reach its socket directory below
        self.cpus = cpus or os.cpu_count() or 1
        self.min_job_age = min_job_age
        self.host = socket.gethostname().split(".")[0]
        # one node: named after this host; several: n1, n2, ... all on this host
        self.nodes = [self.host] if nodes == 1 else [f"n{i + 1}" for i in range(nodes)]
        self.node = self.nodes[0]
        self.gpus_per_node = gpus_per_node
        self.conf = self.dir / "slurm.conf"
        self.jobcomp = self.dir / "jobcomp.log"
        self.munge_socket = self.dir / "munge" / "munge.socket"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        # Inherited SLURM_* variables (a test run inside a SLURM job) would point the clients elsewhere.
        for k in [k for k in self.env if k.startswith("SLURM_") and k != "SLURM_CONF"]:
            del self.env[k]
        self._procs: list[tuple[str, subprocess.Popen]] = []
        self._wrote_system_conf = False

    # ---- set-up -------------------------------------------------------------------------------
    def _write_conf(self) -> None:
        d = self.dir
        for sub in ("state", "log", *(f"spool-{n}" for n in self.nodes)):
            (d / sub).mkdir()
        lines = [
            "ClusterName=lemmatest",
            f"SlurmctldHost={self.host}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.munge_socket}",
            "SlurmUser=root",
            "SlurmdUser=root",
            f"StateSaveLocation={d}/state",
            f"SlurmdSpoolDir={d}/spool-%n",
            f"SlurmctldPidFile={d}/slurmctld.pid",
            f"SlurmdPidFile={d}/slurmd-%n.pid",
            f"SlurmctldLogFile={d}/log/slurmctld.log",
            f"SlurmdLogFile={d}/log/slurmd-%n.log",
            # no cgroups in a container: track job processes by parentage, bind nothing
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "MpiDefault=none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "SlurmdParameters=config_overrides",
            "ReturnToService=2",
            # Finished jobs stay visible to squeue this long; the SLURM plugin's squeue status check
            # needs it to be at least 3x its init-seconds-before-status-checks (else it falls back
            # to sacct, which has no database here and would wait forever).
            f"MinJobAge={self.min_job_age}",
            # No accounting database; SLURM's own per-job record goes to a text file instead.
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/filetxt",
            f"JobCompLoc={self.jobcomp}",
            *(["GresTypes=gpu"] if self.gpus_per_node else []),
            *(
                f"NodeName={n} NodeHostname={self.host} NodeAddr=127.0.0.1 Port={_free_port()} CPUs={self.cpus} "
                f"RealMemory={NODE_MEMORY_MB}{f' Gres=gpu:{self.gpus_per_node}' if self.gpus_per_node else ''} "
                "State=UNKNOWN"
                for n in self.nodes
            ),
            "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        ]
        if self.gpus_per_node:
            # plain files as the GPU devices: counted and allocated by SLURM, never opened
            devices = [d / f"fakegpu{i}" for i in range(self.gpus_per_node)]
            for dev in devices:
                dev.touch()
            files = f"{d}/fakegpu[0-{self.gpus_per_node - 1}]" if self.gpus_per_node > 1 else str(devices[0])
            (d / "gres.conf").write_text(f"AutoDetect=off\nNodeName={','.join(self.nodes)} Name=gpu File={files}\n")
        text = "\n".join(lines) + "\n"
        self.conf.write_text(text)
        # the copy for the nested srun (see the module's docstring); a stale one of a killed test
        # run is replaced, anything else makes the test skip
        owner = _system_conf_owner()
        if owner is not None and owner != os.getpid() and pid_alive(owner):
            raise ClusterUnavailable(f"another test SLURM cluster (pid {owner}) is running on this machine")
        SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SYSTEM_CONF.write_text(f"{MARKER}{os.getpid()}\n{text}")
        self._wrote_system_conf = True

    def _start_munge(self) -> None:
        import pwd

        m = pwd.getpwnam("munge")
        mdir = self.munge_socket.parent
        mdir.mkdir()
        mdir.chmod(0o755)  # munged insists: owned by munge, searchable by all, writable by none else
        os.chown(mdir, m.pw_uid, m.pw_gid)
        key = mdir / "munge.key"
        # our own key: no dependence on /etc/munge/munge.key existing or being readable
        subprocess.run([_which("mungekey"), "--create", f"--keyfile={key}"], check=True, capture_output=True)
        os.chown(key, m.pw_uid, m.pw_gid)
        os.chmod(key, 0o600)
        self._spawn(
            "munged",
            [
                _which("munged"),
                "--foreground",
                f"--socket={self.munge_socket}",
                f"--key-file={key}",
                f"--pid-file={mdir}/munged.pid",
                f"--log-file={mdir}/munged.log",
                f"--seed-file={mdir}/munged.seed",
            ],
            user=m.pw_uid,
            group=m.pw_gid,
        )
        self._wait(lambda: self.munge_socket.exists(), 15, "munged socket")

    def _spawn(self, name: str, cmd: list[str], **kw) -> None:
        log = open(self.dir / f"{name}.out", "wb")
        p = subprocess.Popen(
            cmd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kw,
        )
        log.close()
        self._procs.append((name, p))

    def _wait(self, ok, timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for name, p in self._procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited with {p.returncode} while waiting for {what}:\n{self.logs()}")
            if ok():
                return
            time.sleep(0.2)
        raise RuntimeError(f"timed out after {timeout} s waiting for {what}:\n{self.logs()}")

    def start(self, timeout: float = 60) -> SlurmCluster:
        try:
            self._write_conf()
            self._start_munge()
            self._spawn("slurmctld", [_which("slurmctld"), "-D", "-i"])
            for n in self.nodes:
                self._spawn(f"slurmd-{n}", [_which("slurmd"), "-D", "-N", n])
            self._wait(lambda: self.node_state() == "idle", timeout, "the nodes to become idle")
        except BaseException:
            self.stop()
            raise
        return self

    # ---- use ----------------------------------------------------------------------------------
    def client(self, *args: str, timeout: float = 30, check: bool = True) -> subprocess.CompletedProcess:
        """Run a SLURM client command (sinfo, squeue, scancel, ...) against this cluster."""
        return subprocess.run(list(args), env=self.env, capture_output=True, text=True, timeout=timeout, check=check)

    def node_state(self) -> str:
        """The nodes' state when they all share one (idle, mixed, ...), else ""."""
        p = self.client("sinfo", "-h", "-N", "-o", "%T", check=False, timeout=10)
        states = set(p.stdout.split()) if p.returncode == 0 else set()
        return states.pop() if len(states) == 1 else ""

    def queue(self) -> list[dict]:
        """Jobs slurmctld still knows (pending, running, and finished ones for MinJobAge seconds)."""
        p = self.client("squeue", "-h", "-t", "all", "-o", "%i|%T|%k|%j")
        rows = []
        for line in p.stdout.splitlines():
            job_id, state, comment, name = line.split("|", 3)
            rows.append({"JobId": job_id, "JobState": state, "Comment": comment, "Name": name})
        return rows

    def job_records(self) -> list[dict]:
        """SLURM's completion record of every job that has ended (jobcomp/filetxt), oldest first:
        dicts with JobId, JobName, JobState, StartTime, EndTime, WorkDir, ..."""
        if not self.jobcomp.exists():
            return []
        records = []
        for line in self.jobcomp.read_text().splitlines():
            rec = {}
            for field in line.split():
                if "=" in field:
                    k, v = field.split("=", 1)
                    rec[k] = v
            if rec:
                records.append(rec)
        return records

    def logs(self) -> str:
        out = []
        for f in [*sorted(self.dir.glob("*.out")), *sorted((self.dir / "log").glob("*.log"))]:
            try:
                out.append(f"--- {f.name}\n{f.read_text(errors='replace')[-3000:]}")
            except OSError:
                pass
        return "\n".join(out)

    # ---- tear-down ----------------------------------------------------------------------------
    def stop(self, remove: bool = True) -> None:
        """Cancel what is left, then stop the daemons this object started, by their PIDs."""
        running = {name: p for name, p in self._procs if p.poll() is None}
        if "slurmctld" in running and any(name.startswith("slurmd") for name in running):
            self.client("scancel", "--partition=debug", check=False, timeout=10)
            end = time.monotonic() + 20
            while time.monotonic() < end:
                q = self.client("squeue", "-h", "-o", "%i", check=False, timeout=10)
                if q.returncode != 0 or not q.stdout.strip():
                    break
                time.sleep(0.3)
        for _name, p in reversed(self._procs):  # slurmd, slurmctld, munged
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=5)
        self._procs.clear()
        if self._wrote_system_conf:
            try:
                if _system_conf_owner() == os.getpid():
                    SYSTEM_CONF.unlink()
            except (ClusterUnavailable, OSError):
                pass
            self._wrote_system_conf = False
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> SlurmCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
