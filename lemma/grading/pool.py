"""A pool of grading worker processes with a hard per-item timeout.

Each worker is a child process (``python -m lemma.grading.worker``) with its own pair of pipes and
works on one item at a time. The parent waits on all pipes at once; when a worker passes its
item's deadline, the parent kills that process (SIGKILL: sympy does not check for interrupts, so
nothing softer is reliable) and starts a replacement, and the item is reported as `timeout`
(never as wrong). A worker that dies mid-item yields `error`. No signals are used in the parent,
so grading works from any thread.

Why a plain child interpreter and not multiprocessing's fork/forkserver/spawn: "spawn" and
"forkserver" re-run the parent's main script in every child, which breaks Snakemake `script:`
files (they have no ``if __name__ == "__main__"`` guard), and "fork" copies a parent that may be
running polars or torch threads. A fresh interpreter costs about half a second to import sympy,
paid once per worker and in parallel; the parent never imports sympy at all.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

READY = "ready"  # a worker's first message, sent once math-verify is imported

# A worker that has not said "ready" by then is broken (an import failing, say), not slow.
STARTUP_TIMEOUT_S = 120.0
MAX_STARTUP_FAILURES = 3


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


@dataclass
class _Worker:
    process: subprocess.Popen
    conn: Connection  # results come in here
    jobs_out: Connection  # jobs go out here
    started: float
    ready: bool = False
    job: int | None = None
    deadline: float = 0.0


@dataclass
class JobResult:
    correct: bool
    status: str
    detail: str = ""


@dataclass
class GradingPool:
    """Use as a context manager: ``with GradingPool(workers=4, timeout=10) as pool:
    results = pool.run(jobs)``. `jobs` are (gold_answer, pred_answer) pairs that need the slow
    path; results come back in the same order. Workers stay up between runs (and leave by
    themselves after `worker.IDLE_EXIT_S` idle seconds), so a pool kept across calls starts its
    interpreters once."""

    workers: int | None = None
    timeout: float = 10.0  # the paper's limit; callers pass grading.timeout_s
    _live: list = field(default_factory=list, repr=False)

    def __enter__(self) -> GradingPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> _Worker:
        job_r, job_w = os.pipe()
        res_r, res_w = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "lemma.grading.worker", str(job_r), str(res_w)],
                pass_fds=(job_r, res_w),
                stdin=subprocess.DEVNULL,
                close_fds=True,
            )
        finally:
            os.close(job_r)
            os.close(res_w)
        worker = _Worker(
            process, Connection(res_r, writable=False), Connection(job_w, readable=False), time.monotonic()
        )
        self._live.append(worker)
        return worker

    def _kill(self, worker: _Worker) -> None:
        if worker.process.poll() is None:
            worker.process.kill()
        try:
            worker.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        worker.conn.close()
        worker.jobs_out.close()
        self._live.remove(worker)

    def run(
        self, jobs: list[tuple[str, str]], timeout: float | None = None, workers: int | None = None
    ) -> list[JobResult]:
        """Grade `jobs`; `timeout` and `workers` override the pool's settings for this call.
        Any exception (an interrupt included) closes the pool, so no worker is left holding an
        item of a run that is gone."""
        try:
            return self._run(jobs, self.timeout if timeout is None else timeout, workers or self.workers)
        except BaseException:
            self.close()
            raise

    def _run(self, jobs: list[tuple[str, str]], timeout: float, workers: int | None) -> list[JobResult]:
        results: list[JobResult | None] = [None] * len(jobs)
        if not jobs:
            return []
        for worker in [w for w in self._live if w.process.poll() is not None]:
            self._kill(worker)  # exited while idle since the last run
        cap = max(1, workers or default_workers())
        for worker in self._live[cap:]:
            self._kill(worker)
        wanted = min(cap, len(jobs))  # never start more workers than there are items
        while len(self._live) < wanted:
            self._start()
        pending = deque(range(len(jobs)))
        retried: set[int] = set()
        startup_failures = 0
        remaining = len(jobs)
        while remaining:
            now = time.monotonic()
            for worker in self._live:
                if worker.ready and worker.job is None and pending:
                    index = pending.popleft()
                    worker.jobs_out.send((index, *jobs[index]))
                    worker.job, worker.deadline = index, now + timeout
            deadlines = [w.deadline for w in self._live if w.job is not None]
            deadlines += [w.started + STARTUP_TIMEOUT_S for w in self._live if not w.ready]
            wait_s = max(0.0, min(deadlines) - now) if deadlines else None
            for conn in wait([w.conn for w in self._live], timeout=wait_s):
                worker = next(w for w in self._live if w.conn is conn)
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    message = None
                if message == READY:
                    worker.ready = True
                elif message is None:  # the process died
                    if worker.job is not None:
                        # Once more on a fresh worker: the death may be the worker's idle exit
                        # racing our send. A second death is the item's doing.
                        if worker.job in retried:
                            results[worker.job] = JobResult(False, "error", "grading worker died on this item")
                            remaining -= 1
                        else:
                            retried.add(worker.job)
                            pending.appendleft(worker.job)
                    elif not worker.ready:
                        startup_failures += 1
                    self._kill(worker)
                    if startup_failures >= MAX_STARTUP_FAILURES:
                        raise RuntimeError(
                            f"grading workers failed to start {startup_failures} times "
                            f"(exit code {worker.process.returncode}); see their stderr"
                        )
                    if pending and len(self._live) < wanted:
                        self._start()
                else:
                    index, correct, status, detail = message
                    results[index] = JobResult(correct, status, detail)
                    worker.job = None
                    remaining -= 1
            now = time.monotonic()
            for worker in list(self._live):
                if worker.job is not None and now >= worker.deadline:
                    results[worker.job] = JobResult(False, "timeout", f"no verdict within {timeout:g}s")
                    remaining -= 1
                    self._kill(worker)
                    if pending:
                        self._start()
                elif not worker.ready and now >= worker.started + STARTUP_TIMEOUT_S:
                    raise RuntimeError(f"a grading worker did not start within {STARTUP_TIMEOUT_S:g}s")
        return results  # type: ignore[return-value]

    def close(self) -> None:
        for worker in list(self._live):
            try:
                worker.jobs_out.send(None)
            except (OSError, ValueError):
                pass
        for worker in list(self._live):
            try:
                worker.process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
            self._kill(worker)


# One pool per process, kept between `grade_many` calls so that the interpreter start and the
# parser warm-up are paid once per process rather than once per call. Idle workers exit on their
# own; the rest are closed at interpreter exit. A call that finds the pool busy (another thread
# grading) gets a pool of its own for that call.
_shared: GradingPool | None = None
_shared_pid = 0
_shared_lock = threading.Lock()


@contextmanager
def shared_pool():
    global _shared, _shared_pid
    if not _shared_lock.acquire(blocking=False):
        with GradingPool() as own:
            yield own
        return
    try:
        if _shared is None or _shared_pid != os.getpid():  # a forked child must not use our workers
            _shared, _shared_pid = GradingPool(), os.getpid()
        yield _shared
    finally:
        _shared_lock.release()


@atexit.register
def _close_shared() -> None:
    if _shared is not None and _shared_pid == os.getpid():
        _shared.close()
