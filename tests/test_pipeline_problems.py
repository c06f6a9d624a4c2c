"""lemma.pipeline.problems: load_problems from the built-in world and from a dataset file, and the
answer line training references get (with_answer_line)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lemma.pipeline.problems import load_problems, with_answer_line
from lemma.tables.records import PROBLEMS
from lemma.world.problems import generate_world

DATA = Path(__file__).parent / "data" / "loaders"
WORLD = {"seed": 7, "n_train": 5, "n_test": 3, "n_test_ood": 2}


def test_builtin_split_is_the_world_split_renamed_to_the_dataset():
    rows = load_problems("world_train", {"source": "builtin", "split": "train"}, WORLD)
    world = generate_world(7, 5, 3, 2)["train"]
    assert [r["id"] for r in rows] == [r["id"] for r in world], "the world's own order"
    assert {r["dataset"] for r in rows} == {"world_train"}
    assert [{**r, "dataset": w["dataset"]} for r, w in zip(rows, world)] == world, "nothing else changes"
    # the rows fit the PROBLEMS schema the stage writes, and a reference ends in its answer line
    frame = pl.DataFrame(rows, schema=PROBLEMS)
    assert frame.height == 5 and frame["structure"].null_count() == 0
    assert all(r["solution"].endswith(f"The answer is: {r['answer']}") for r in rows)


def test_builtin_limit_keeps_the_first_rows_of_the_split():
    full = load_problems("ood", {"source": "builtin", "split": "test_ood"}, WORLD)
    limited = load_problems("ood", {"source": "builtin", "split": "test_ood", "limit": 1}, WORLD)
    assert len(full) == 2 and limited == full[:1]


def test_train_file_gets_the_answer_line_and_the_configured_style():
    src = {"source": "file", "path": str(DATA / "gsm8k.jsonl"), "format": "gsm8k", "role": "train", "style": "math"}
    rows = load_problems("gsm8k_train", src, None)
    assert [r["id"] for r in rows] == ["gsm8k_train-0", "gsm8k_train-1"]
    assert rows[0]["solution"] == ("Mia bakes 4 * 12 = 48 cookies.\nShe keeps 48 - 15 = 33 cookies.\nThe answer is: 33")
    assert rows[1]["answer"] == "1250" and rows[1]["solution"].endswith("\nThe answer is: 1250")
    assert {r["style"] for r in rows} == {"math"}, "source.style overrides the loader's"


def test_test_file_keeps_its_solution_and_the_loaders_style():
    src = {"source": "file", "path": str(DATA / "gsm8k.jsonl"), "format": "gsm8k", "role": "test"}
    rows = load_problems("gsm8k_test", src, None)
    assert rows[0]["solution"] == "Mia bakes 4 * 12 = 48 cookies.\nShe keeps 48 - 15 = 33 cookies."
    assert {r["style"] for r in rows} == {"gsm8k"}
    assert load_problems("gsm8k_test", {**src, "limit": 1}, None) == rows[:1]


def test_with_answer_line():
    assert with_answer_line("2 + 3 = 5.", "5") == "2 + 3 = 5.\nThe answer is: 5"
    assert with_answer_line("2 + 3 = 5.  \n\n", "5") == "2 + 3 = 5.\nThe answer is: 5", "trailing space dropped"
    # already there (any case): unchanged, never a second line
    assert with_answer_line("x\nThe answer is: 5", "5") == "x\nThe answer is: 5"
    assert with_answer_line("x\nthe ANSWER is: 6", "5") == "x\nthe ANSWER is: 6"
    assert with_answer_line("", "5") == "" and with_answer_line(None, "5") is None
