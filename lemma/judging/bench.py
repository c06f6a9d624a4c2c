"""The judge benchmark: the configured teacher's step judge (its `judge_step` prompt, through the
request cache and the usage log, so a rerun pays nothing) asked for the earliest wrong step of
every labelled solution of a set, and scored (lemma.judging.score).

    rows = judge_set(teacher, items)           # one row per item: label, prediction, reply
    summary = summarize(rows, usage_csv, ...)  # one row per set and teacher: ProcessBench's metrics,
                                               # calls, tokens and dollars

A solution is shown to the judge step by step exactly as the set splits it: each step on a line
of its own (line breaks inside a step become spaces), numbered by the judge prompt as in the
workflow's locate stage. An item whose steps cannot be shown that way is left out, and counted.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence

from lemma.judging.score import score
from lemma.judging.sets import JudgeItem
from lemma.teacher.base import LocateRequest, ProblemView
from lemma.text.steps import split_steps
from lemma.text.vocabulary import says_no_error

NOT_GIVEN = "(not given)"
ROW_COLUMNS = ("set", "id", "source", "n_steps", "label", "prediction", "verdict", "rationale")
SUMMARY_COLUMNS = (
    "set",
    "teacher",
    "prompts",
    "items",
    "erroneous",
    "correct",
    "acc_erroneous",
    "acc_correct",
    "f1",
    "off_by_one",
    "said_correct",
    "unparsed",
    "left_out",
    "calls",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
)


def shown(item: JudgeItem) -> tuple[str, str] | None:
    """(solution text, step style) that splits into exactly the item's steps, else None."""
    if item.structure is not None:  # the built-in world: its own layout, which the oracle reads
        text = "\n".join(item.steps)
        return (text, "world") if len(split_steps(text, "world")) == len(item.steps) else None
    text = "\n".join(" ".join(s.split()) for s in item.steps)
    for style in ("gsm8k", "world"):
        if len(split_steps(text, style)) == len(item.steps):
            return text, style
    return None


def judge_set(teacher, items: Sequence[JudgeItem]) -> tuple[list[dict], int]:
    """One row per judged item, and how many items were left out (steps that cannot be shown)."""
    asked, requests = [], []
    for item in items:
        view = shown(item)
        if view is None:
            continue
        text, style = view
        problem = ProblemView(
            item.id,
            item.question,
            item.reference_solution or NOT_GIVEN,
            item.reference_answer or NOT_GIVEN,
            item.structure,
            style,
        )
        asked.append(item)
        requests.append(LocateRequest(problem, text))
    labels = teacher.locate_errors(requests) if requests else []
    rows = []
    for item, lab in zip(asked, labels):
        if lab.first_wrong_step is not None:
            prediction, verdict = lab.first_wrong_step - 1, f"step {lab.first_wrong_step}"
        elif says_no_error(lab.dropped):
            prediction, verdict = -1, "no error"
        else:
            prediction, verdict = None, lab.dropped or "no verdict"
        rows.append(
            {
                "set": item.set,
                "id": item.id,
                "source": item.source,
                "n_steps": len(item.steps),
                "label": item.label,
                "prediction": prediction,
                "verdict": verdict,
                "rationale": (lab.rationale or "")[-500:],
            }
        )
    return rows, len(items) - len(asked)


def usage_rows(path: str | None) -> int:
    """Rows in a usage table so far (a run's own rows are those it appends)."""
    if not path or not os.path.exists(path):
        return 0
    with open(path, newline="") as f:
        return sum(1 for _ in csv.DictReader(f))


def usage_totals(path: str | None, skip: int = 0) -> dict:
    """Calls (answers not from the cache), tokens and dollars of a usage table (lemma.engines.usage),
    after its first `skip` rows: what one run paid (a rerun answered by the request cache: 0)."""
    totals = {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0}
    if not path or not os.path.exists(path):
        return totals
    with open(path, newline="") as f:
        for r in list(csv.DictReader(f))[skip:]:
            totals["calls"] += int(float(r.get("live_calls") or 0)) + int(float(r.get("batch_calls") or 0))
            totals["prompt_tokens"] += int(float(r.get("prompt_tokens") or 0))
            totals["completion_tokens"] += int(float(r.get("completion_tokens") or 0))
            totals["cost_usd"] += float(r.get("est_cost_usd") or 0)
    return totals


def summarize(rows: list[dict], set_name: str, teacher: str, prompts: str, left_out: int, usage: dict) -> dict:
    s = score([r["label"] for r in rows], [r["prediction"] for r in rows])
    return {"set": set_name, "teacher": teacher, "prompts": prompts, **s.as_dict(), "left_out": left_out, **usage}


def teacher_name(teacher_cfg: dict) -> str:
    if teacher_cfg.get("kind") != "llm":
        return "oracle"
    return f"{teacher_cfg.get('engine', 'openai')}:{teacher_cfg['model']}"


def markdown(summaries: list[dict]) -> str:
    """The summary table for people: one row per set and teacher."""
    head = (
        "| set | teacher | prompts | items (wrong/right) | acc. erroneous | acc. correct | F1 | off by one | "
        "said correct | unparsed | calls | tokens (in/out) | USD |"
    )
    lines = [head, "|" + "---|" * 13]
    for s in summaries:
        lines.append(
            f"| {s['set']} | {s['teacher']} | {s['prompts']} | {s['items']} ({s['erroneous']}/{s['correct']}) | "
            f"{100 * s['acc_erroneous']:.1f} | {100 * s['acc_correct']:.1f} | **{100 * s['f1']:.1f}** | "
            f"{100 * s['off_by_one']:.1f} | {100 * s['said_correct']:.1f} | {100 * s['unparsed']:.1f} | "
            f"{s['calls']} | {s['prompt_tokens']}/{s['completion_tokens']} | {s['cost_usd']:.2f} |"
        )
    lines += [
        "",
        "Percentages. Published F1 on ProcessBench (average of its four subsets): o1-mini 87.9, "
        "QwQ-32B-Preview 71.5 (reported competitive with GPT-4o, the LEMMA paper's teacher).",
    ]
    return "\n".join(lines) + "\n"
