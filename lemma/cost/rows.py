"""The rows of a cost estimate: one per teacher job (calls, prompt and completion tokens, dollars,
done and to come, and how each was obtained), their sums by stage and cut, and the estimate's
stated defaults (`teacher.estimate`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from lemma.text.vocabulary import CUTS, STRATEGIES, TEACHER_STAGES

STAGES = TEACHER_STAGES
ESTIMATE_DEFAULTS = {
    # the share of the student's samples that are wrong, until results/graded says
    "student_error_rate": 0.5,
    # shares that survive each teacher stage, until the run has measured them
    "locate_keep": 0.9,  # wrong samples whose first wrong step the judge names
    "inject_keep": 0.8,  # injections kept (parsed, the answer really changed, not a duplicate)
    "truncate_keep": 0.9,  # injected mistakes located and cut
    "correct_keep": 0.8,  # corrections that parse
    # completion tokens per call, until the cache has answers of the stage (the paper's
    # trajectories average 623 tokens)
    "completion_tokens": {
        "locate": 250,
        "classify": 200,
        "inject": 500,
        "fix_continue": 450,
        "fresh_restart": 550,
        "smooth": 623,
    },
    # prompts rendered per job to measure the prompt tokens (sampled when a job has more)
    "prompt_sample": 300,
}


def estimate_settings(cfg: dict | None) -> dict:
    cfg = dict(cfg or {})
    unknown = set(cfg) - set(ESTIMATE_DEFAULTS)
    if unknown:
        raise ValueError(
            f"teacher.estimate: unknown key(s) {sorted(unknown)}; expected some of {sorted(ESTIMATE_DEFAULTS)}"
        )
    out = {**ESTIMATE_DEFAULTS, **cfg}
    out["completion_tokens"] = {**ESTIMATE_DEFAULTS["completion_tokens"], **(cfg.get("completion_tokens") or {})}
    for k in ("student_error_rate", "locate_keep", "inject_keep", "truncate_keep", "correct_keep"):
        if not 0 <= float(out[k]) <= 1:
            raise ValueError(f"teacher.estimate.{k}: expected a share between 0 and 1, got {out[k]!r}")
    bad = set(out["completion_tokens"]) - set(STAGES)
    if bad:
        raise ValueError(f"teacher.estimate.completion_tokens: unknown stage(s) {sorted(bad)}; expected {STAGES}")
    return out


@dataclass
class Row:
    job: str  # e.g. "correct/first_error/fix_continue/calculation_error"
    stage: str  # locate | classify | inject | fix_continue | fresh_restart | smooth
    cut: str = ""  # first_error | whole | "" (before truncation)
    group: str = ""  # what the default table groups by
    calls_done: int = 0
    calls_todo: float = 0
    prompt_done: int = 0
    prompt_todo: float = 0
    completion_done: int = 0
    completion_todo: float = 0
    cost_done: float = 0.0
    cost_todo: float = 0.0
    basis: str = ""  # "exact" or the estimate's assumption
    exact: bool = True
    shared: int = 0  # requests already counted at an earlier job
    rates: list = field(default_factory=list)  # the rates an estimate used, as "name value (source)"
    token_notes: list = field(default_factory=list)  # how prompt and completion tokens were had

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# The Row fields that add up over jobs, stages and cuts (grouped rows and the total).
SUMMED_FIELDS = (
    "calls_done",
    "calls_todo",
    "prompt_done",
    "prompt_todo",
    "completion_done",
    "completion_todo",
    "cost_done",
    "cost_todo",
    "shared",
)


def add_counts(into: Row, row: Row) -> None:
    for f in SUMMED_FIELDS:
        setattr(into, f, getattr(into, f) + getattr(row, f))


def grouped(rows: list[Row]) -> list[Row]:
    """Rows summed by `group` (stage, cut and, for inject, the type), in first-seen order."""
    out: dict[str, Row] = {}
    for r in rows:
        g = out.setdefault(r.group, Row(r.group, r.stage, r.cut, r.group))
        add_counts(g, r)
        g.exact = g.exact and r.exact
    members: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        members[r.group].append(r)
    for name, g in out.items():
        rs = members[name]
        if len(rs) == 1:
            g.basis = rs[0].basis
            continue
        n_exact = sum(r.exact for r in rs)
        kinds = (
            "exact"
            if n_exact == len(rs)
            else "estimate"
            if not n_exact
            else f"{n_exact} exact, {len(rs) - n_exact} estimated"
        )
        rates = list(dict.fromkeys(x for r in rs for x in r.rates))
        notes = list(dict.fromkeys(x for r in rs for x in r.token_notes))
        g.basis = (
            f"{kinds}: {len(rs)} jobs (`lemma estimate --by-job` shows each)"
            + (f"; rates: {', '.join(rates)}" if rates else "")
            + (f"; {'; '.join(notes)}" if notes else "")
        )
        if not rates and not notes:
            g.basis += "; " + rs[0].basis.split(": ", 1)[-1]
    # rows before truncation ("" cut) first; the student's own located rows first in their cut;
    # then by stage, the teacher's injections before the judge's locating of them
    order = {"": 0, **{c: i + 1 for i, c in enumerate(CUTS)}}
    rank = {
        "classify": 1,
        "inject": 2,
        "locate": 3,
        **{s: 4 + i for i, s in enumerate(STRATEGIES)},
        "smooth": 4 + len(STRATEGIES),
    }
    return sorted(
        out.values(), key=lambda g: (order[g.cut], 0 if g.group.startswith("locate: the student") else rank[g.stage])
    )


def totals(rows: list[Row]) -> Row:
    t = Row("total", "", group="total")
    for r in rows:
        add_counts(t, r)
    t.exact = all(r.exact for r in rows)
    return t
