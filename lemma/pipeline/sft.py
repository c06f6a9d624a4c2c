"""build_sft: one variant's SFT set (prompt/response rows), its statistics and its exports.

Reference solutions come from every training dataset; error-correction trajectories from the kept
trajectory tables the variant asks for. Row order is shuffled with a fixed seed, so a variant's set
is the same on every run and training sees sources mixed.
"""

from __future__ import annotations

import random
from collections import Counter

import polars as pl

from lemma.prompting import format_prompt


def sft_rows(problems: pl.DataFrame, trajectories: pl.DataFrame | None, variant: dict, template: str,
             labels: pl.DataFrame | None, seed: int) -> list[dict]:
    questions = dict(zip(problems["id"], problems["question"]))
    rows = []
    if variant.get("reference", True):
        for r in problems.iter_rows(named=True):
            rows.append({"prompt": format_prompt(r["question"], template), "response": r["solution"],
                         "problem_id": r["id"], "source": "reference", "bucket": None, "strategy": None, "error_type": None})
    if trajectories is not None and trajectories.height:
        # the student's own mistakes get their type from the type judge (None when unlabelled)
        own_types = {} if labels is None else {(r["problem_id"], r["sample_index"]): r["error_type"]
                                               for r in labels.iter_rows(named=True)}
        for r in trajectories.iter_rows(named=True):
            etype = r["error_type"] or own_types.get((r["problem_id"], r["sample_index"]))
            rows.append({"prompt": format_prompt(questions[r["problem_id"]], template), "response": r["smoothed"],
                         "problem_id": r["problem_id"], "source": "student" if r["bucket"] == "student" else "augmented",
                         "bucket": r["bucket"], "strategy": r["strategy"], "error_type": etype})
    random.Random(seed).shuffle(rows)
    return rows


def sft_stats(rows: list[dict], tokenizer=None) -> dict:
    def n_tokens(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"]) if tokenizer else len(text.split())

    lengths = [n_tokens(r["prompt"]) + n_tokens(r["response"]) for r in rows]
    traj = [r for r in rows if r["source"] != "reference"]
    share = lambda c: {k: v / len(traj) for k, v in sorted(c.items())} if traj else {}  # noqa: E731
    return {
        "rows": len(rows),
        "reference_rows": len(rows) - len(traj),
        "trajectory_rows": len(traj),
        "avg_tokens": sum(lengths) / len(lengths) if lengths else 0.0,
        "token_unit": "tokenizer" if tokenizer else "whitespace words",
        "by_source": dict(Counter(r["source"] for r in rows)),
        "trajectory_share_by_type": share(Counter(r["error_type"] or "unlabelled" for r in traj)),
        "trajectory_share_by_strategy": share(Counter(r["strategy"] for r in traj)),
    }


def export_rows(rows: list[dict], questions: dict[str, str], layout: str) -> list[dict]:
    """The same set in layouts other trainers read: alpaca, sharegpt, messages (TRL / chat)."""
    out = []
    for r in rows:
        q = questions[r["problem_id"]]
        if layout == "alpaca":
            out.append({"instruction": q, "input": "", "output": r["response"]})
        elif layout == "sharegpt":
            out.append({"conversations": [{"from": "human", "value": q}, {"from": "gpt", "value": r["response"]}]})
        elif layout == "messages":
            out.append({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": r["response"]}]})
        else:
            raise ValueError(f"unknown export layout {layout!r}")
    return out


EXPORT_LAYOUTS = ("alpaca", "sharegpt", "messages")
