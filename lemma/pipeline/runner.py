"""What every script in scripts/ does first and last: log set-up, reading inputs, teachers, stats."""

from __future__ import annotations

import logging
import os
import sys

import polars as pl

from lemma.pipeline.common import StageStats, check_teacher_failures, setup_logging
from lemma.tables.io import read_table, write_json
from lemma.tables.records import GRADED, PROBLEMS

TEACHER_CACHE = "results/cache/teacher.sqlite"


def _redirect_output(path: str) -> None:
    """Send this job's stdout and stderr (prints, libraries' progress lines, worker processes)
    into the rule's log file: one place to look, and no carriage-return bars (not a TTY)."""
    stream = open(path, "a", buffering=1)
    os.dup2(stream.fileno(), 1)
    os.dup2(stream.fileno(), 2)
    sys.stdout = sys.stderr = stream


def start(smk) -> logging.Logger:
    """Send the job's output to the rule's log file and set up logging there. (CPU threads are
    set by the engines and the trainer from the rule's `threads`; torch is imported by then.)"""
    if smk.log:
        open(smk.log[0], "w").close()
        _redirect_output(smk.log[0])
    log = setup_logging()
    # a failing script's traceback belongs in the rule's log, where the user is told to look
    sys.excepthook = lambda *exc: log.error("%s failed", smk.rule, exc_info=exc)
    threads = max(1, int(getattr(smk, "threads", 1) or 1))
    log.info("rule %s wildcards=%s threads=%d", smk.rule, dict(smk.wildcards.items()), threads)
    return log


def read_all(paths, schema: dict) -> pl.DataFrame:
    paths = [paths] if isinstance(paths, str) else list(paths)
    frames = [read_table(p, schema).select(list(schema)) for p in paths]
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def problems(smk) -> pl.DataFrame:
    return read_all(smk.input.problems, PROBLEMS)


def graded(smk) -> pl.DataFrame:
    return read_all(smk.input.graded, GRADED)


def evaluated_student(smk):
    """The trained model an evaluate rule reads (input `model`), as an engine of the student's kind
    with evaluation.batch_size and the rule's threads."""
    from lemma.engines.factory import build_engine

    p = smk.params
    return build_engine(
        dict(p.student, model=smk.input.model, batch_size=p.evaluation["batch_size"], threads=smk.threads)
    )


def eval_spec(smk):
    """How an evaluate rule's benchmark (wildcard) is evaluated, from the rule's params: greedy and
    maj@k read the same settings."""
    from lemma.pipeline.evaluate import EvalSpec

    p = smk.params
    return EvalSpec(
        benchmark=smk.wildcards.benchmark,
        template=p.template,
        max_new_tokens=p.evaluation["max_new_tokens"],
        shots=p.source.get("shots", 0),
        source_format=p.source.get("format"),
        grade_timeout=p.grading["timeout_s"],
        require_marker=p.grading["require_marker"],
    )


def _config_teacher(smk) -> dict:
    """The workflow config's `teacher:` section as it is now. Operational keys (budget, mode,
    limits, max_failed_fraction) are read here, not from the rule's params: they change no answer,
    so changing them must not rerun finished jobs."""
    return (getattr(smk, "config", None) or {}).get("teacher") or {}


def teacher_config(smk) -> dict:
    """The rule's teacher section: its answer keys (params) with the config's operational keys
    (budget, mode, limits, teacher.serve), which may change without rerunning the rule."""
    from lemma.teacher.factory import OPERATIONAL_KEYS

    current = _config_teacher(smk)
    return {**smk.params.teacher["teacher"], **{k: current[k] for k in OPERATIONAL_KEYS if k in current}}


def teacher(smk):
    from lemma.teacher.factory import build_teacher

    tp = smk.params.teacher
    cfg = teacher_config(smk)
    usage = f"results/usage/{smk.rule}" + "".join(f"-{v}" for v in smk.wildcards) + ".csv"
    return build_teacher(cfg, cache_path=TEACHER_CACHE, usage_path=usage, seed=tp["seed"], rule=smk.rule)


def check_teacher(stats: StageStats, smk) -> None:
    """Fail the job (before its output is written) when too many teacher requests got no answer."""
    # the workflow config has its schema default filled in (lemma.config.load_workflow_config)
    check_teacher_failures(stats, _config_teacher(smk)["max_failed_fraction"])


def finish(log: logging.Logger, stats: StageStats, path: str | None) -> None:
    d = stats.as_dict()
    log.info("%s: %d in, %d out, dropped %s", d["stage"], d["in"], d["out"], d["dropped"] or "none")
    if path:
        write_json(d, path)
