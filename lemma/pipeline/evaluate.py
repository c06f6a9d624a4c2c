"""evaluate and scores: greedy decoding on a benchmark, graded; accuracy with a 95% interval."""

from __future__ import annotations

import math

import polars as pl

from lemma.engines.base import Engine, Request, SamplingParams
from lemma.grading import DEFAULT_TIMEOUT_S
from lemma.pipeline.grade import grade_texts
from lemma.prompting import STOP_STRINGS, format_prompt


def eval_prompts(problems: pl.DataFrame, template: str, shots: int, benchmark: str) -> list[str]:
    if shots:
        from lemma.data.fewshot import default_shots, fewshot_prompt

        exemplars = default_shots(benchmark)[:shots]
        return [fewshot_prompt(q, exemplars, template) for q in problems["question"]]
    return [format_prompt(q, template) for q in problems["question"]]


def evaluate(problems: pl.DataFrame, engine: Engine, template: str, shots: int, benchmark: str,
             max_new_tokens: int, grade_timeout: float = DEFAULT_TIMEOUT_S) -> list[dict]:
    """The paper's protocol: greedy, n=1, its stop strings."""
    params = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=max_new_tokens, n=1, stop=STOP_STRINGS[template])
    prompts = eval_prompts(problems, template, shots, benchmark)
    outs = engine.generate([Request(prompt=p, params=params) for p in prompts], progress=f"evaluate {benchmark}")
    texts = [o[0].text or "" for o in outs]
    grades = grade_texts(texts, problems["answer"].to_list(), problems["style"].to_list(), timeout=grade_timeout)
    return [{"problem_id": pid, "completion": t, "gold": gold, "pred_answer": g.pred_answer, "correct": g.correct,
             "status": g.status}
            for pid, t, gold, g in zip(problems["id"], texts, problems["answer"], grades)]


def majority_vote(problems: pl.DataFrame, engine: Engine, template: str, shots: int, benchmark: str,
                  max_new_tokens: int, k: int, seed: int = 0, grade_timeout: float = DEFAULT_TIMEOUT_S) -> list[dict]:
    """maj@k as the paper reports it: k samples at T=0.7, the most frequent extracted answer wins
    (ties: the answer seen first); the item is right when that answer grades right."""
    params = SamplingParams(temperature=0.7, top_p=1.0, max_new_tokens=max_new_tokens, n=k,
                            stop=STOP_STRINGS[template], seed=seed)
    prompts = eval_prompts(problems, template, shots, benchmark)
    outs = engine.generate([Request(prompt=p, params=params) for p in prompts], progress=f"maj@{k} {benchmark}")
    texts = [c.text or "" for o in outs for c in o]
    golds = [g for g in problems["answer"] for _ in range(k)]
    styles = [s for s in problems["style"] for _ in range(k)]
    grades = grade_texts(texts, golds, styles, timeout=grade_timeout)
    rows = []
    for i, (pid, gold) in enumerate(zip(problems["id"], problems["answer"])):
        votes: dict[str, int] = {}
        first: dict[str, int] = {}
        for j in range(i * k, (i + 1) * k):
            a = grades[j].pred_answer
            if a is not None and grades[j].status == "ok":
                votes[a] = votes.get(a, 0) + 1
                first.setdefault(a, j)
        if votes:
            winner = max(votes, key=lambda a: (votes[a], -first[a]))
            j = first[winner]
            rows.append({"problem_id": pid, "completion": texts[j], "gold": gold, "pred_answer": winner,
                         "correct": grades[j].correct, "status": "ok"})
        else:
            rows.append({"problem_id": pid, "completion": texts[i * k], "gold": gold, "pred_answer": None,
                         "correct": False, "status": "no_answer"})
    return rows


def wilson_interval(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval: well-behaved at 0% and 100%, unlike the normal approximation."""
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


SCORES = {"variant": pl.Utf8, "benchmark": pl.Utf8, "n": pl.Int64, "correct": pl.Int64, "accuracy": pl.Float64,
          "ci_low": pl.Float64, "ci_high": pl.Float64}


def score_table(evals: dict[tuple[str, str], pl.DataFrame]) -> pl.DataFrame:
    rows = []
    for (variant, bench), df in evals.items():
        n, k = df.height, int(df["correct"].sum())
        lo, hi = wilson_interval(k, n)
        rows.append({"variant": variant, "benchmark": bench, "n": n, "correct": k, "accuracy": k / n if n else 0.0,
                     "ci_low": lo, "ci_high": hi})
    return pl.DataFrame(rows, schema=SCORES, orient="row")


def markdown_table(scores: pl.DataFrame, variants: list[str], benchmarks: list[str],
                   average_over: list[str] | None = None) -> str:
    """The paper's Table 2 layout: a row per variant, a column per benchmark, then the average
    (of `average_over`, default every column: greedy columns only when maj@k ones are shown)."""
    average_over = benchmarks if average_over is None else average_over
    acc = {(r["variant"], r["benchmark"]): r for r in scores.iter_rows(named=True)}
    lines = ["| variant | " + " | ".join(benchmarks) + " | avg |", "|---|" + "---|" * (len(benchmarks) + 1)]
    for v in variants:
        cells, vals = [], []
        for b in benchmarks:
            r = acc.get((v, b))
            if r is None:
                cells.append("–")
                continue
            if b in average_over:
                vals.append(100 * r["accuracy"])
            cells.append(f"{100 * r['accuracy']:.1f} ({100 * r['ci_low']:.1f}–{100 * r['ci_high']:.1f})")
        avg = f"{sum(vals) / len(vals):.1f}" if vals else "–"
        lines.append(f"| {v} | " + " | ".join(cells) + f" | {avg} |")
    return "\n".join(lines) + "\n\nAccuracy in % (95% Wilson interval); greedy decoding, n=1.\n"
