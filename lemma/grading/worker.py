"""A grading worker process: ``python -m lemma.grading.worker JOB_FD RESULT_FD``. It reads
(index, gold, pred) jobs from one pipe and writes (index, correct, status, detail) to the other,
until it reads None or the pipe closes. Started and killed by `pool.GradingPool`."""

from __future__ import annotations

import logging
import resource
import sys
from multiprocessing.connection import Connection

from lemma.grading.equivalence import Refused, hard_equal, warm_up
from lemma.grading.pool import READY

# Cap each worker's address space, so an answer that makes sympy allocate without bound fails
# with MemoryError in that worker instead of taking the machine's memory.
MEMORY_LIMIT_BYTES = 4 * 1024**3
# A worker with nothing to do for this long exits, so a kept pool does not hold memory for good.
IDLE_EXIT_S = 300.0


def grade_job(gold: str, pred: str) -> tuple[bool, str, str]:
    try:
        return hard_equal(gold, pred), "ok", ""
    except Refused as e:
        return False, "error", str(e)
    except RecursionError:
        return False, "error", "recursion too deep while comparing"
    except MemoryError:
        return False, "error", "out of memory while comparing"
    except Exception as e:  # sympy raises many kinds; any of them means "could not compare"
        return False, "error", f"{type(e).__name__}: {e}"[:300]


def serve(jobs: Connection, results: Connection, memory_limit: int | None = MEMORY_LIMIT_BYTES) -> None:
    # math-verify warns once per process that its own timeouts are off; they are off on purpose.
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    if memory_limit:
        try:
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            limit = memory_limit if hard == resource.RLIM_INFINITY else min(memory_limit, hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        except (ValueError, OSError):
            pass
    # Loaded and warmed before "ready", so no item's clock pays for it.
    import math_verify  # noqa: F401

    try:
        warm_up()
    except Exception:  # a warm-up failure only costs speed; real items report their own errors
        pass

    results.send(READY)
    while True:
        try:
            if not jobs.poll(IDLE_EXIT_S):
                return
            job = jobs.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        index, gold, pred = job
        correct, status, detail = grade_job(gold, pred)
        results.send((index, correct, status, detail))


if __name__ == "__main__":
    job_fd, result_fd = int(sys.argv[1]), int(sys.argv[2])
    serve(Connection(job_fd, writable=False), Connection(result_fd, readable=False))
