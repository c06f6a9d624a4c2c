"""evaluate and scores: greedy decoding on a benchmark, graded; accuracy with a 95% interval."""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from lemma.engines.base import Engine, Request, SamplingParams
from lemma.grading import DEFAULT_TIMEOUT_S
from lemma.pipeline.grade import grade_texts
from lemma.tables.scores import ScoresTable
from lemma.text.prompting import PromptFormat, cut_completion


def eval_prompts(
    problems: pl.DataFrame, template, shots: int, benchmark: str, source_format: str | None = None
) -> tuple[list[str], tuple[str, ...]]:
    """The prompts and their stop strings (k-shot prompts also stop at a new exemplar). The
    exemplars are chosen by the benchmark's loader format (`source_format`; the benchmark's name
    when it has none, as a builtin split), so a dataset may be called anything; more shots than
    there are exemplars is an error, not a silent cap."""
    fmt = PromptFormat.of(template)
    if shots:
        from lemma.data.fewshot import default_shots, fewshot_prompt, fewshot_stops

        exemplars = default_shots(source_format or benchmark, shots)
        return [fewshot_prompt(q, exemplars, fmt) for q in problems["question"]], fewshot_stops(fmt)
    return [fmt.prompt(q) for q in problems["question"]], fmt.stops


def _texts(outs, stops: tuple[str, ...]) -> list[str]:
    """Every completion, cut at its stops and at an invented new task (lemma.text.prompting)."""
    return [cut_completion(c.text or "", stops)[0] for o in outs for c in o]


@dataclass(frozen=True)
class EvalSpec:
    """How one benchmark is evaluated, the same for greedy and maj@k: its prompt template and
    shots (exemplars of `source_format`, else of the benchmark's name), the answer length, and
    the grader's timeout."""

    benchmark: str
    template: str | dict
    max_new_tokens: int
    shots: int = 0
    source_format: str | None = None
    grade_timeout: float = DEFAULT_TIMEOUT_S
    require_marker: bool = False

    def prompts(self, problems: pl.DataFrame) -> tuple[list[str], tuple[str, ...]]:
        return eval_prompts(problems, self.template, self.shots, self.benchmark, self.source_format)


def evaluate(problems: pl.DataFrame, engine: Engine, spec: EvalSpec) -> list[dict]:
    """The paper's protocol: greedy, n=1, its stop strings."""
    prompts, stops = spec.prompts(problems)
    params = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=spec.max_new_tokens, n=1, stop=stops)
    outs = engine.generate([Request(prompt=p, params=params) for p in prompts], progress=f"evaluate {spec.benchmark}")
    texts = _texts([o[:1] for o in outs], stops)
    grades = grade_texts(
        texts,
        problems["answer"].to_list(),
        problems["style"].to_list(),
        timeout=spec.grade_timeout,
        require_marker=spec.require_marker,
    )
    return [
        {
            "problem_id": pid,
            "completion": t,
            "gold": gold,
            "pred_answer": g.pred_answer,
            "correct": g.correct,
            "status": g.status,
        }
        for pid, t, gold, g in zip(problems["id"], texts, problems["answer"], grades)
    ]


def majority_vote(problems: pl.DataFrame, engine: Engine, spec: EvalSpec, k: int, seed: int = 0) -> list[dict]:
    """maj@k as the paper reports it: k samples at T=0.7, the most frequent extracted answer wins
    (ties: the answer seen first); the item is right when that answer grades right."""
    prompts, stops = spec.prompts(problems)
    params = SamplingParams(temperature=0.7, top_p=1.0, max_new_tokens=spec.max_new_tokens, n=k, stop=stops, seed=seed)
    outs = engine.generate([Request(prompt=p, params=params) for p in prompts], progress=f"maj@{k} {spec.benchmark}")
    texts = _texts(outs, stops)
    golds = [g for g in problems["answer"] for _ in range(k)]
    styles = [s for s in problems["style"] for _ in range(k)]
    grades = grade_texts(texts, golds, styles, timeout=spec.grade_timeout, require_marker=spec.require_marker)
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
            rows.append(
                {
                    "problem_id": pid,
                    "completion": texts[j],
                    "gold": gold,
                    "pred_answer": winner,
                    "correct": grades[j].correct,
                    "status": "ok",
                }
            )
        else:
            rows.append(
                {
                    "problem_id": pid,
                    "completion": texts[i * k],
                    "gold": gold,
                    "pred_answer": None,
                    "correct": False,
                    "status": "no_answer",
                }
            )
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


SCORES = {
    "variant": pl.Utf8,
    "benchmark": pl.Utf8,
    "n": pl.Int64,
    "correct": pl.Int64,
    "accuracy": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
}


def _score_row(variant: str, bench: str, n: int, k: int, accuracy: float) -> dict:
    """A row of SCORES: k right of n, the accuracy shown, and the Wilson interval of k of n."""
    lo, hi = wilson_interval(k, n)
    return {
        "variant": variant,
        "benchmark": bench,
        "n": n,
        "correct": k,
        "accuracy": accuracy,
        "ci_low": lo,
        "ci_high": hi,
    }


def score_table(evals: dict[tuple[str, str], pl.DataFrame]) -> pl.DataFrame:
    rows = []
    for (variant, bench), df in evals.items():
        n, k = df.height, int(df["correct"].sum())
        rows.append(_score_row(variant, bench, n, k, k / n if n else 0.0))
    return pl.DataFrame(rows, schema=SCORES, orient="row")


AGG_SCORES = {**SCORES, "seeds": pl.Int64, "sd": pl.Float64}


def aggregate_seeds(run_scores: pl.DataFrame, runs: dict[str, tuple]) -> pl.DataFrame:
    """Per-run scores (the `variant` column holds run names) -> one row per variant and benchmark:
    accuracy = mean over seeds, sd = its standard deviation over seeds (null for one seed),
    n and correct pooled over seeds, the interval a Wilson interval on the pooled counts."""
    rows = []
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in run_scores.iter_rows(named=True):
        groups.setdefault((runs[r["variant"]][0], r["benchmark"]), []).append(r)
    for (variant, bench), rs in groups.items():
        accs = [r["accuracy"] for r in rs]
        n, k = sum(r["n"] for r in rs), sum(r["correct"] for r in rs)
        mean = sum(accs) / len(accs)
        sd = math.sqrt(sum((a - mean) ** 2 for a in accs) / (len(accs) - 1)) if len(accs) > 1 else None
        rows.append({**_score_row(variant, bench, n, k, mean), "seeds": len(rs), "sd": sd})
    return pl.DataFrame(rows, schema=AGG_SCORES, orient="row")


def markdown_table(table: ScoresTable, protocol: str | None = None) -> str:
    """The paper's Table 2 layout, a table built by lemma.tables.scores.scores_table, as markdown:
    a row per variant, a column per benchmark, then the average (greedy columns only when maj@k
    ones are shown) and the reflection columns. With several seeds a cell is mean ± sd over
    seeds. `protocol` (the training protocol's description) heads the table."""
    lines = ["| " + " | ".join(table.headers) + " |", "|---|" + "---|" * (len(table.headers) - 1)]
    for variant, cells, rest in table.text_rows(lambda c: "{}{} ({})".format(*c.texts())):
        lines.append(f"| {variant} | " + " | ".join(cells + rest) + " |")
    notes = "Accuracy in % (95% Wilson interval); greedy decoding, n=1."
    if table.several_seeds:
        notes = (
            "Accuracy in %, mean ± standard deviation over seeds (95% Wilson interval on the answers pooled "
            "over seeds); greedy decoding, n=1."
        )
    if table.reflections:
        notes += (
            " reflects: answers with a reflection; wrong→right: of those, a wrong prefix (oracle step check) "
            "and a right final answer; right→wrong: a right prefix and a wrong final answer."
        )
    head = f"Training protocol: {protocol}.\n\n" if protocol else ""
    return head + "\n".join(lines) + "\n\n" + notes + "\n"


def paired_markdown(paired: pl.DataFrame) -> str:
    """The paired comparisons (results/compare/paired.csv) as a markdown table."""
    if paired.height == 0:
        return ""
    lines = [
        "| benchmark | variant − baseline | difference (95% CI) | seeds | items | McNemar p |",
        "|---|---|---|---|---|---|",
    ]
    for r in paired.iter_rows(named=True):
        p = "–" if r["mcnemar_p"] is None else f"{r['mcnemar_p']:.3g}"
        lines.append(
            f"| {r['benchmark']} | {r['variant']} − {r['baseline']} | {100 * r['difference']:+.1f} "
            f"({100 * r['ci_low']:+.1f} to {100 * r['ci_high']:+.1f}) | {r['seeds']} | {r['items']} | {p} |"
        )
    return (
        "\n".join(lines) + "\n\nDifferences in accuracy points over the same test items; 95% paired-bootstrap "
        "interval (items resampled; with several seeds an item's score is its mean over seeds); McNemar's "
        "exact test when each side is one run.\n"
    )
