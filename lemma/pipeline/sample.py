"""sample_student: the student's own attempts at one shard of a dataset's problems."""

from __future__ import annotations

import polars as pl

from lemma.engines.base import Engine, Request, SamplingParams
from lemma.text.prompting import PromptFormat


def shard_of(problems: pl.DataFrame, shard: int, n_shards: int, max_problems: int | None) -> pl.DataFrame:
    """Problems i with i % n_shards == shard, among the first `max_problems` (stable in the file order)."""
    if max_problems:
        problems = problems.head(max_problems)
    return problems.with_row_index("_i").filter(pl.col("_i") % n_shards == shard).drop("_i")


def sample_shard(problems: pl.DataFrame, engine: Engine, template, sampling: dict, shard: int) -> list[dict]:
    """`template`: a template name or PromptFormat (chat renders through the student's tokenizer).
    Completions are cut at the template's stops and at an invented new task (lemma.text.prompting)."""
    fmt = PromptFormat.of(template)
    params = SamplingParams(
        temperature=sampling["temperature"],
        top_p=sampling["top_p"],
        max_new_tokens=sampling["max_new_tokens"],
        n=sampling["n"],
        stop=fmt.stops,
        seed=sampling["seed"] * 1000 + shard,
    )
    requests = [Request(prompt=fmt.prompt(q), params=params) for q in problems["question"]]
    outputs = engine.generate(requests, progress=f"sample shard {shard}")
    rows = []
    for pid, completions in zip(problems["id"], outputs):
        for k, c in enumerate(completions):
            text, cut = fmt.clean(c.text or "")
            finish = "stop" if cut and c.text is not None else (c.finish_reason or "error")
            rows.append({"problem_id": pid, "sample_index": k, "completion": text, "finish_reason": finish})
    return rows
