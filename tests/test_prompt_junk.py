"""Student prompts and what is cut from completions (issue 11, item 9).

Real models go on after their answer: a new "### Response:", an invented next problem, a chat turn
of their own. The stop strings of each template and `cut_completion` remove that, tested on
completions a real pretrained LLM (SmolLM2-135M-Instruct) wrote, captured once by
tests/data/real_completions/make_smollm2_completions.py without any stop string. The `chat`
template is tested on a tiny real Llama whose tokenizer carries a chat template.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lemma.data.fewshot import default_shots, fewshot_prompt, fewshot_stops
from lemma.engines.hf import HFEngine
from lemma.pipeline.evaluate import EvalSpec, evaluate
from lemma.pipeline.sample import sample_shard
from lemma.text.prompting import STOP_STRINGS, PromptFormat, cut_completion, format_prompt
from tests.tiny_models import TINY_CHAT_TEMPLATE, build_tiny_llama

FIXTURE = Path(__file__).parent / "data/real_completions/smollm2.jsonl"


# ------------------------------------------------------------------ the cut, on text we wrote
@pytest.mark.parametrize(
    "text, kept",
    [
        (
            "2 + 3 = 5.\nThe answer is: 5\n\n### Response: Let's think step by step.\nA farmer has",
            "2 + 3 = 5.\nThe answer is: 5",
        ),
        ("So 12 * 21 = 252.\n### Instruction:\nWrite a poem", "So 12 * 21 = 252."),
        ("It is 8.\n\nQuestion: A car travels 60 miles", "It is 8."),
        ("It is 8.\n**Problem 2:** A box holds", "It is 8."),
        ("It is 8.\nNew problem: Sara has", "It is 8."),
        ("It is 8.\nBelow is an instruction that describes a task.", "It is 8."),
        # a label inside a sentence is not a header
        ("The question: how many are left? 12 - 4 = 8.\nThe answer is: 8", None),
        ("We solve the problem: x = 3.", None),
    ],
)
def test_cut_at_invented_headers(text, kept):
    out, cut = cut_completion(text, STOP_STRINGS["alpaca"])
    assert (out, cut) == ((kept, True) if kept is not None else (text, False))


def test_alpaca_stops_at_its_preamble_and_a_new_instruction():
    stops = STOP_STRINGS["alpaca"]
    assert any("Below is an instruction" in s for s in stops)  # the template's own first words
    assert "Instruction:" in stops and "### Response" in stops  # the paper stops at a new "Instruction:"


# ------------------------------------------------------------------ real completions (SmolLM2)
def fixture_rows() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text().splitlines()]


def test_real_completions_lose_their_invented_continuations():
    """SmolLM2 under the alpaca template went on with "### Response:", "### Question:" and
    "**Next Response:**" blocks in 8 of 12 completions (sampled at T=0.7, 200 tokens, no stops);
    under its chat template it ended its turn with eos every time and nothing may be cut."""
    rows = fixture_rows()
    assert len(rows) == 24 and {r["template"] for r in rows} == {"alpaca", "chat"}
    cut_by_template = {"alpaca": 0, "chat": 0}
    for r in rows:
        # ("<|im_start|>user",) is what PromptFormat derives from SmolLM2's chat template
        stops = STOP_STRINGS["alpaca"] if r["template"] == "alpaca" else ("<|im_start|>user",)
        out, cut = cut_completion(r["completion"], stops)
        assert r["completion"].startswith(out)
        cut_by_template[r["template"]] += cut
        # nothing that opens a new task survives
        for marker in (
            "### Response",
            "### Instruction",
            "### Question",
            "Instruction:",
            "Next Response",
            "<|im_start|>",
            "Below is an instruction",
        ):
            assert marker not in out, (r["question"], out)
        if r["template"] == "chat":
            assert out == r["completion"], "a clean chat answer was cut"
    assert cut_by_template == {"alpaca": 8, "chat": 0}
    # numbered "### Step N:" lines are the attempt's own steps, not a new task
    steps = next(r["completion"] for r in rows if "### Step 1:" in r["completion"])
    assert cut_completion(steps, STOP_STRINGS["alpaca"]) == (steps, False)


# ------------------------------------------------------------------ the chat template (tiny real Llama)
@pytest.fixture(scope="module")
def chat_model(tmp_path_factory):
    return build_tiny_llama(tmp_path_factory.mktemp("chat") / "model", TINY_CHAT_TEMPLATE)


def test_chat_prompts_render_through_the_students_template_with_one_bos(chat_model):
    fmt = PromptFormat.load("chat", str(chat_model))
    prompt = fmt.prompt("  How many pens are in 4 boxes? ")
    # the template writes BOS itself and the tokenizer adds one on encoding: the text drops it
    assert prompt == "<|turn|>user\nHow many pens are in 4 boxes?</s>\n<|turn|>assistant\n"
    tok = fmt._tokenizer
    ids = tok(prompt, add_special_tokens=True)["input_ids"]  # how every engine encodes a prompt
    assert ids[0] == tok.bos_token_id and ids[1] != tok.bos_token_id
    assert fmt.stops == ("<|turn|>user",)  # a new user turn; the end of turn is eos
    spec = {"name": "chat", "tokenizer": str(chat_model)}  # what the rules pass
    assert format_prompt("How many pens are in 4 boxes?", spec) == prompt
    shots = fewshot_prompt("Q?", default_shots("svamp", 2), spec)
    assert shots.count("<|turn|>user") == 3 and shots.endswith("Q?</s>\n<|turn|>assistant\n")
    assert not shots.startswith("<s>") and fewshot_stops(spec) == fmt.stops


def test_a_tokenizer_without_chat_template_is_refused_by_name(tmp_path):
    plain = build_tiny_llama(tmp_path / "plain")
    with pytest.raises(ValueError, match="has no chat template"):
        PromptFormat.load("chat", str(plain))
    with pytest.raises(ValueError, match="unknown prompt template 'chatml'"):
        format_prompt("Q?", "chatml")


class Recording(HFEngine):
    """The real hf engine, keeping the requests it was given."""

    seen: list

    def generate(self, requests, progress=None):
        self.seen = list(requests)
        return super().generate(requests, progress)


def problems_frame():
    import polars as pl

    from lemma.tables.records import PROBLEMS

    return pl.DataFrame(
        [
            {
                "id": f"p{i}",
                "dataset": "d",
                "question": q,
                "solution": "s",
                "answer": "8",
                "style": "gsm8k",
                "family": "gsm8k",
                "n_steps": 1,
                "structure": None,
            }
            for i, q in enumerate(["Ann has 3 cats and 5 dogs. How many pets?", "What is 2 + 6?"])
        ],
        schema=PROBLEMS,
    )


def test_sampling_and_evaluation_use_the_templates_prompt_stops_and_cut(chat_model):
    spec = {"name": "chat", "tokenizer": str(chat_model)}
    fmt = PromptFormat.of(spec)
    engine = Recording(str(chat_model), batch_size=4)
    problems = problems_frame()
    sampling = {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": 12, "n": 2, "seed": 0}
    rows = sample_shard(problems, engine, spec, sampling, 0)
    assert [r.prompt for r in engine.seen] == [fmt.prompt(q) for q in problems["question"]]
    assert all(r.params.stop == fmt.stops for r in engine.seen) and len(rows) == 4
    assert all(fmt.clean(r["completion"]) == (r["completion"], False) for r in rows)

    evaluate(problems, engine, EvalSpec("gsm8k", spec, 8))
    assert engine.seen[0].params.stop == fmt.stops and engine.seen[0].params.temperature == 0
    # k-shot evaluation stops where a new exemplar would begin (fewshot_stops is what is sent)
    evaluate(problems, engine, EvalSpec("svamp", "alpaca", 8, shots=2))
    assert engine.seen[0].prompt == fewshot_prompt(problems["question"][0], default_shots("svamp", 2), "alpaca")
    assert engine.seen[0].params.stop == fewshot_stops("alpaca")
    assert "Instruction:" in engine.seen[0].params.stop


class Replay:
    """An engine that answers with SmolLM2's recorded completions (real model text), in order."""

    name = "replay"

    def __init__(self, texts):
        self.texts = list(texts)

    def generate(self, requests, progress=None):
        from lemma.engines.base import Completion

        out = []
        for r in requests:
            out.append([Completion(text=self.texts.pop(0), finish_reason="length") for _ in range(r.params.n)])
        return out


def test_sampled_and_evaluated_text_is_cut_before_anything_reads_it():
    junk = [r["completion"] for r in fixture_rows() if r["template"] == "alpaca" and "### Response" in r["completion"]]
    assert len(junk) >= 4
    problems = problems_frame()
    sampling = {"temperature": 0.7, "top_p": 1.0, "max_new_tokens": 200, "n": 1, "seed": 0}
    rows = sample_shard(problems, Replay(junk[:2]), "alpaca", sampling, 0)
    assert [r["completion"] for r in rows] == [cut_completion(t, STOP_STRINGS["alpaca"])[0] for t in junk[:2]]
    assert all("### Response" not in r["completion"] and r["finish_reason"] == "stop" for r in rows)
    graded = evaluate(problems, Replay(junk[2:4]), EvalSpec("gsm8k", "alpaca", 200))
    assert all("### Response" not in g["completion"] for g in graded)
