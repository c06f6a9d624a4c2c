"""The built-in world's tokenizer and tiny student (lemma.world.tokenizer, lemma.world.student)."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from lemma.grading.extract import extract_answer
from lemma.text.prompting import format_prompt
from lemma.world.student import build_student, greedy_accuracy, pretrain_student
from lemma.world.tokenizer import train_tokenizer


def fixture_rows(seed: int, n: int) -> list[dict]:
    """Built-in-world-like problems: two step change-making and one step giving."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        name = rng.choice(["Tom", "Ann", "Ben", "Lia"])
        if i % 2:
            a, b = rng.randint(2, 12), rng.randint(2, 15)
            c = rng.randint(a * b + 1, a * b + 60)
            q = f"{name} buys {a} pens at {b} dollars each. He pays with {c} dollars. How much change does he get?"
            sol = f"Step 1: {a} * {b} = {a * b}\nStep 2: {c} - {a * b} = {c - a * b}\nThe answer is: {c - a * b}"
            ans = c - a * b
        else:
            a, b = rng.randint(10, 60), rng.randint(2, 9)
            q = f"{name} has {a} apples and gives away {b}. How many apples are left?"
            sol = f"Step 1: {a} - {b} = {a - b}\nThe answer is: {a - b}"
            ans = a - b
        rows.append({"question": q, "solution": sol, "answer": str(ans)})
    return rows


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    rows = fixture_rows(0, 400)
    return train_tokenizer(
        (r["question"] + "\n" + r["solution"] for r in rows), str(tmp_path_factory.mktemp("tok")), vocab_size=512
    )


def test_digits_one_per_token_and_round_trip(tok):
    text = "Step 1: 12 * 345 = 4140\nThe answer is: 4140"
    pieces = tok.convert_ids_to_tokens(tok(text, add_special_tokens=False)["input_ids"])
    assert all(sum(ch.isdigit() for ch in p) <= 1 for p in pieces), pieces
    assert sum(ch.isdigit() for p in pieces for ch in p) == sum(ch.isdigit() for ch in text)
    for s in [text, "Wait — let me recheck: 3.5 × 2 ≠ 8!\n\n  done ", "ünïcode 日本 0", "  \t x"]:
        ids = tok(s, add_special_tokens=False)["input_ids"]
        assert tok.unk_token_id not in ids
        assert tok.decode(ids) == s


def test_tokenizer_reloads_deterministic_and_special_tokens(tok, tmp_path):
    again = AutoTokenizer.from_pretrained(tok.name_or_path)
    text = "Tom buys 4 pens at 6 dollars each."
    assert again(text)["input_ids"] == tok(text)["input_ids"]
    ids = again(text)["input_ids"]
    assert ids[0] == again.bos_token_id and again.eos_token_id not in ids  # BOS added, EOS never
    assert {again.pad_token, again.eos_token, again.bos_token, again.unk_token} == {"<pad>", "</s>", "<s>", "<unk>"}
    rows = fixture_rows(0, 400)
    other = train_tokenizer((r["question"] + "\n" + r["solution"] for r in rows), str(tmp_path), vocab_size=512)
    assert other.get_vocab() == tok.get_vocab()
    assert (
        json.loads(other.backend_tokenizer.to_str())["model"]["merges"]
        == json.loads(tok.backend_tokenizer.to_str())["model"]["merges"]
    )
    with pytest.raises(ValueError, match="too small"):
        train_tokenizer(["a b"], str(tmp_path / "x"), vocab_size=100)


def test_build_student_size_seed_and_rng(tok):
    rng_before = torch.random.get_rng_state()
    m = build_student(tok, seed=1)
    assert torch.equal(torch.random.get_rng_state(), rng_before)  # global RNG untouched
    n = sum(p.numel() for p in m.parameters())
    assert 0.5e6 <= n <= 3e6, n
    assert m.config._attn_implementation == "eager"
    same, other = build_student(tok, seed=1), build_student(tok, seed=2)
    w = "model.layers.0.self_attn.q_proj.weight"
    assert torch.equal(m.state_dict()[w], same.state_dict()[w])
    assert not torch.equal(m.state_dict()[w], other.state_dict()[w])
    with pytest.raises(ValueError, match="divisible"):
        build_student(tok, hidden=100, heads=3)


def test_greedy_accuracy_reads_answers_as_the_grader_does():
    # greedy_accuracy reads a completion with the grader's extractor in the world style
    assert extract_answer("Step 1: 2 + 2 = 4\nThe answer is: 1,204", "world") == "1,204"
    assert extract_answer("The answer is: 3\nStep 2: 1 - 4 = -3\nThe answer is: -3", "world") == "-3", (
        "the last statement"
    )
    assert extract_answer("Step 1: 2 + 2 = 4", "world") is None, "no last-number fallback in the world"


@pytest.mark.slow
def test_pretrain_student_end_to_end(tmp_path):
    rows = fixture_rows(1, 200)
    out = tmp_path / "student"
    s = pretrain_student(
        rows,
        str(out),
        {
            "max_steps": 20,
            "batch_size": 8,
            "hidden": 32,
            "layers": 2,
            "lr": 1e-2,
            "heads": 2,
            "logging_steps": 5,
            "save_steps": 10,
            "eval_problems": 16,
            "max_new_tokens": 40,
            "threads": 1,
        },
    )
    assert s["steps"] == 20 and 0.0 <= s["train_accuracy"] <= 1.0 and s["eval_problems"] == 16
    first_loss = float((out / "curves.csv").read_text().splitlines()[1].split(",")[2])
    assert s["final_loss"] < first_loss - 1.0  # it learned something
    model = AutoModelForCausalLM.from_pretrained(str(out))
    tk = AutoTokenizer.from_pretrained(str(out))
    assert len(tk) == model.config.vocab_size
    # the tokenizer learned the prompt template's words too (trained on the bare questions it cut
    # "Question:" and "Let's think step by step." into ~25 byte pieces, a quarter of each example)
    prompt = tk.tokenize(format_prompt("How many?", "world"))
    assert len(prompt) <= 16, prompt  # Question : How many ? \n Answer : Let 's think step by step . \n
    # the figure in the summary is reproducible from the saved model
    assert greedy_accuracy(model, tk, rows[:16], max_new_tokens=40) == s["train_accuracy"]
    assert json.loads((out / "student_pretrain.json").read_text())["steps"] == 20
    with pytest.raises(ValueError, match="row 1 has no 'solution'"):
        pretrain_student([rows[0], {"question": "q"}], str(tmp_path / "bad"), {"max_steps": 1})
    with pytest.raises(ValueError, match="unknown params"):
        pretrain_student(rows, str(tmp_path / "bad"), {"learning_rate": 1})  # TrainParams spells it lr
    # the calibration bench measures a finished student on the splits, test_ood shifted as asked
    bench = Path(__file__).resolve().parent.parent / "bench/calibrate_student.py"
    args = [sys.executable, str(bench), "--model", str(out), "--eval", "12"]
    proc = subprocess.run([*args, "--ood", "longer"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = dict(
        line.split(": ", 1) for line in proc.stdout.splitlines() if re.match(r"^(train|test|test_ood): ", line)
    )
    assert set(lines) == {"train", "test", "test_ood"}, proc.stdout
    assert set(re.findall(r"steps=(\d)", lines["test_ood"])) <= {"3", "4", "5"}  # the longer variants
    assert "steps=1" in lines["train"] + lines["test"]
