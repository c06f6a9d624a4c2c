"""build_sft: one variant's SFT set (prompt/response rows), its statistics and its exports.

A set is made of up to four sources, each a variant key (lemma/schemas/config.schema.yaml):
  reference        the reference solutions of every training dataset (`reference`, default on);
  trajectories     kept error-correction trajectories (`trajectories`, with `sources`,
                   `strategies`, `truncate` choosing which);
  student_correct  the student's own distinct correct samples (`student_correct`: the paper's RFT
                   baseline is these plus the references);
  external         rows of an external SFT file (`file`: alpaca, sharegpt or messages JSONL, e.g.
                   a MetaMath- or RefAug-style set).
The default `lemma` variant is reference + trajectories; the paper's released 88.9k set is
trajectories only (`reference: false`). Row order is shuffled with a fixed seed, so a variant's set
is the same on every run and training sees sources mixed; `max_rows` then keeps the first N rows
of that shuffle, a seeded uniform sample (size-matching sets, as the paper's Table 2 does).
"""

from __future__ import annotations

import random
from collections import Counter

import polars as pl

from lemma.tables.jsonl import iter_jsonl
from lemma.text.prompting import format_prompt
from lemma.text.vocabulary import STUDENT_BUCKET

_ROW_KEYS = ("problem_id", "source", "bucket", "strategy", "error_type")


def _row(
    prompt: str, response: str, problem_id: str | None, source: str, bucket=None, strategy=None, error_type=None
) -> dict:
    return {
        "prompt": prompt,
        "response": response,
        "problem_id": problem_id,
        "source": source,
        "bucket": bucket,
        "strategy": strategy,
        "error_type": error_type,
    }


def correct_sample_rows(problems: pl.DataFrame, graded: pl.DataFrame, template: str) -> list[dict]:
    """RFT rows: each problem's distinct correct samples (texts equal after whitespace
    normalisation count once), in problem then sample order."""
    questions = dict(zip(problems["id"], problems["question"]))
    seen: set[tuple[str, str]] = set()
    rows = []
    ok = graded.filter(pl.col("correct").fill_null(False)).sort(["problem_id", "sample_index"])
    for r in ok.iter_rows(named=True):
        text = (r["completion"] or "").strip()
        key = (r["problem_id"], " ".join(text.split()))
        if not text or key in seen or r["problem_id"] not in questions:
            continue
        seen.add(key)
        rows.append(
            _row(
                format_prompt(questions[r["problem_id"]], template),
                text,
                r["problem_id"],
                "student_correct",
                bucket=STUDENT_BUCKET,
            )
        )
    return rows


def _turns(turns, where: str, role_key: str, text_key: str, user: tuple, assistant: tuple) -> tuple[str, str]:
    if not isinstance(turns, list):
        raise ValueError(f"{where}: expected a list of turns")
    prompt = response = None
    for i, t in enumerate(turns):
        if not isinstance(t, dict) or not isinstance(t.get(text_key), str):
            raise ValueError(f"{where}: turn {i} needs a string {text_key!r}")
        role = t.get(role_key)
        if prompt is None and role in user:
            prompt = t[text_key]
        elif prompt is not None and role in assistant:
            response = t[text_key]
            break
    if prompt is None or response is None:
        raise ValueError(
            f"{where}: expected a {user[0]!r} turn followed by an {assistant[0]!r} turn (field {role_key!r})"
        )
    return prompt, response


def external_pair(row: object, where: str) -> tuple[str, str]:
    """(question, response) of one external SFT row, by its layout:
    alpaca {instruction, input, output}; MetaMathQA {query, response}; sharegpt {conversations:
    [{from: human|user, value}, {from: gpt|assistant, value}]}; messages {messages: [{role: user,
    content}, {role: assistant, content}]} (system turns are skipped; the first exchange is used)."""
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(row).__name__}")
    if "messages" in row:
        q, a = _turns(row["messages"], f"{where}: field 'messages'", "role", "content", ("user",), ("assistant",))
    elif "conversations" in row:
        q, a = _turns(
            row["conversations"],
            f"{where}: field 'conversations'",
            "from",
            "value",
            ("human", "user"),
            ("gpt", "assistant", "chatgpt", "bard"),
        )
    elif "instruction" in row and "output" in row:
        q, a = row["instruction"], row["output"]
        extra = row.get("input") or ""
        if not isinstance(q, str) or not isinstance(a, str) or not isinstance(extra, str):
            raise ValueError(f"{where}: alpaca fields instruction, input, output must be strings")
        q = f"{q}\n{extra}" if extra.strip() else q
    elif "query" in row and "response" in row:
        q, a = row["query"], row["response"]
        if not isinstance(q, str) or not isinstance(a, str):
            raise ValueError(f"{where}: fields query and response must be strings")
    else:
        raise ValueError(
            f"{where}: unknown SFT layout with keys {sorted(row)[:6]}; expected alpaca "
            "(instruction/input/output), query/response, sharegpt (conversations) or messages"
        )
    if not q.strip() or not a.strip():
        raise ValueError(f"{where}: empty question or response")
    return q.strip(), a.strip()


def external_rows(path: str, template: str) -> list[dict]:
    rows = []
    for where, row in iter_jsonl(path):
        q, a = external_pair(row, where)
        rows.append({**_row(format_prompt(q, template), a, None, "external"), "question": q})
    if not rows:
        raise ValueError(f"{path}: no SFT rows")
    return rows


def sft_rows(
    problems: pl.DataFrame,
    trajectories: pl.DataFrame | None,
    variant: dict,
    template: str,
    labels: pl.DataFrame | None,
    seed: int,
    graded: pl.DataFrame | None = None,
) -> list[dict]:
    questions = dict(zip(problems["id"], problems["question"]))
    rows = []
    if variant.get("reference", True):
        for r in problems.iter_rows(named=True):
            rows.append(
                {
                    "prompt": format_prompt(r["question"], template),
                    "response": r["solution"],
                    "problem_id": r["id"],
                    "source": "reference",
                    "bucket": None,
                    "strategy": None,
                    "error_type": None,
                }
            )
    if trajectories is not None and trajectories.height:
        # the student's own mistakes get their type from the type judge (None when unlabelled)
        own_types = (
            {}
            if labels is None
            else {(r["problem_id"], r["sample_index"]): r["error_type"] for r in labels.iter_rows(named=True)}
        )
        for r in trajectories.iter_rows(named=True):
            etype = r["error_type"] or own_types.get((r["problem_id"], r["sample_index"]))
            rows.append(
                {
                    "prompt": format_prompt(questions[r["problem_id"]], template),
                    "response": r["smoothed"],
                    "problem_id": r["problem_id"],
                    "source": "student" if r["bucket"] == STUDENT_BUCKET else "augmented",
                    "bucket": r["bucket"],
                    "strategy": r["strategy"],
                    "error_type": etype,
                }
            )
    if variant.get("student_correct"):
        if graded is None:
            raise ValueError("variant with student_correct: no graded samples given")
        rows += correct_sample_rows(problems, graded, template)
    if variant.get("file"):
        rows += external_rows(variant["file"], template)
    random.Random(seed).shuffle(rows)
    if variant.get("max_rows"):
        rows = rows[: int(variant["max_rows"])]
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
        # external rows have no problem id: their question is the prompt without the template
        q = questions[r["problem_id"]] if r["problem_id"] is not None else r.get("question", r["prompt"])
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
