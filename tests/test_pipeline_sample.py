"""lemma.pipeline.sample: which problems a shard holds, and the sample rows a shard writes (the
student is the openai engine against a scripted loopback OpenAI server, so what it "writes" is known)."""

from __future__ import annotations

import polars as pl

from lemma.engines.openai_engine import OpenAIEngine
from lemma.pipeline.sample import sample_shard, shard_of
from lemma.tables.records import PROBLEMS, SAMPLES
from lemma.text.prompting import PromptFormat
from tests.fake_openai_server import FakeOpenAIServer

PROBLEMS_DF = pl.DataFrame(
    [
        {
            "id": f"p{i}",
            "dataset": "d",
            "question": f"[q{i}] What is {i} + {i}?",
            "solution": f"{i} + {i} = {2 * i}",
            "answer": str(2 * i),
            "style": "gsm8k",
            "family": "",
            "n_steps": 1,
            "structure": None,
        }
        for i in (5, 3, 9, 1, 7)
    ],
    schema=PROBLEMS,
)


def test_shard_of_takes_every_nth_problem_in_file_order():
    assert shard_of(PROBLEMS_DF, 0, 2, None)["id"].to_list() == ["p5", "p9", "p7"]
    assert shard_of(PROBLEMS_DF, 1, 2, None)["id"].to_list() == ["p3", "p1"]
    assert shard_of(PROBLEMS_DF, 0, 1, None).equals(PROBLEMS_DF)
    # the cap applies before sharding: the first max_problems rows of the file
    assert shard_of(PROBLEMS_DF, 0, 2, 3)["id"].to_list() == ["p5", "p9"]
    assert shard_of(PROBLEMS_DF, 1, 2, 3)["id"].to_list() == ["p3"]
    assert shard_of(PROBLEMS_DF, 2, 3, 2).height == 0
    assert shard_of(PROBLEMS_DF, 1, 2, None).columns == list(PROBLEMS)


def student(body: dict):
    """Sample 0 answers cleanly; sample 1 invents a new task after its answer (cut); sample 2
    runs out of tokens."""
    BODIES.append(body)
    q = body["prompt"].split("[")[1].split("]")[0]
    k = (body["seed"] - SEED_BASE) // 7919  # the openai engine's seed of sample k (sample_seed)
    if k == 0:
        return f"{q}: the answer is: 6", "stop"
    if k == 1:
        return f"{q}: it is 6.\n### Instruction:\nWrite a poem", "length"
    return f"{q}: it is", "length"


SEED_BASE = 3 * 1000 + 1  # sampling.seed * 1000 + shard
BODIES: list[dict] = []


def test_sample_shard_rows_cut_and_finish_reasons():
    BODIES.clear()
    sampling = {"temperature": 0.7, "top_p": 0.95, "max_new_tokens": 64, "n": 3, "seed": 3}
    with FakeOpenAIServer(responder=student) as server:
        engine = OpenAIEngine("student", base_url=server.base_url, api_key_env=None, max_retries=0, request_timeout_s=5)
        server.add_fault("500", match="[q1]", times=3)  # every sample of p1 fails
        try:
            rows = sample_shard(shard_of(PROBLEMS_DF, 1, 2, None), engine, "alpaca", sampling, shard=1)
        finally:
            engine.close()
        answered = [h.text for h in server.hits() if h.outcome == "ok"]
    table = pl.DataFrame(rows, schema=SAMPLES)
    assert table.rows() == [
        ("p3", 0, "q3: the answer is: 6", "stop"),
        ("p3", 1, "q3: it is 6.", "stop"),  # cut at the invented "### Instruction": a stop, not a length
        ("p3", 2, "q3: it is", "length"),
        ("p1", 0, "", "error"),
        ("p1", 1, "", "error"),
        ("p1", 2, "", "error"),
    ]
    assert answered == [PromptFormat.of("alpaca").prompt("[q3] What is 3 + 3?")] * 3
    # the sampling section reaches the engine; each shard has its own seed
    assert sorted(b["seed"] for b in BODIES) == [3001, 3001 + 7919, 3001 + 2 * 7919]
    first = next(b for b in BODIES if b["seed"] == 3001)  # requests run concurrently: any order
    assert (first["temperature"], first["top_p"]) == (0.7, 0.95)
    assert first["stop"] == list(PromptFormat.of("alpaca").stops)
    assert 64 in (first.get("max_tokens"), first.get("max_completion_tokens"))
