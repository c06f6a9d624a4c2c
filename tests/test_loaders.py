"""Dataset loaders on small fixtures in each public layout, and their errors on malformed rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from lemma.data import FORMATS, DataError, load_dataset_file
from lemma.data.answers import number_text, split_gsm8k_answer
from lemma.grading.spans import last_boxed
from lemma.tables.records import PROBLEMS

FIX = Path(__file__).parent / "data" / "loaders"


def _load(name, fmt, dataset="ds"):
    rows = load_dataset_file(str(FIX / name), fmt, dataset)
    for row in rows:
        assert list(row) == list(PROBLEMS)
        assert row["dataset"] == dataset and row["structure"] is None
    # rows fit the explicit table schema
    pl.DataFrame(rows, schema=PROBLEMS)
    return rows


def _broken_copy(tmp_path, name, line, edit):
    """The fixture with its `line`-th line (1-based) replaced by edit(record)."""
    lines = (FIX / name).read_text().splitlines()
    lines[line - 1] = json.dumps(edit(json.loads(lines[line - 1])))
    out = tmp_path / name
    out.write_text("\n".join(lines) + "\n")
    return str(out)


# ------------------------------------------------------------------------------- good files


def test_gsm8k():
    a, b = _load("gsm8k.jsonl", "gsm8k", "gsm8k_train")
    assert a["id"] == "gsm8k_train-0" and b["id"] == "gsm8k_train-1"
    assert a["solution"] == "Mia bakes 4 * 12 = 48 cookies.\nShe keeps 48 - 15 = 33 cookies."
    assert a["answer"] == "33" and b["answer"] == "1250"
    assert a["style"] == "gsm8k" and a["n_steps"] == 2
    assert "<<" not in b["solution"] and "####" not in b["solution"]


def test_gsm8k_parquet(tmp_path):
    records = [json.loads(line) for line in (FIX / "gsm8k.jsonl").read_text().splitlines()]
    pl.DataFrame(records).write_parquet(tmp_path / "train.parquet")
    rows = load_dataset_file(str(tmp_path / "train.parquet"), "gsm8k", "gsm8k")
    assert [r["answer"] for r in rows] == ["33", "1250"]


def test_math_jsonl():
    a, b = _load("math.jsonl", "math", "math_train")
    assert a["answer"] == "\\frac{5}{6}" and b["answer"] == "4"
    assert a["family"] == "Prealgebra" and a["style"] == "math"
    assert b["n_steps"] == 2


def test_math_directory_tree():
    rows = _load("math_tree", "math", "math")
    assert [r["id"] for r in rows] == ["algebra/1", "geometry/9", "geometry/10"]
    assert [r["answer"] for r in rows] == ["13", "14", "25"]
    assert rows[1]["family"] == "Geometry"


def test_math500():
    a, b = _load("math500.jsonl", "math500", "math500")
    assert a["id"] == "test/number_theory/17.json" and a["answer"] == "6"
    assert b["answer"] == "5\\sqrt{2}" and b["family"] == "Algebra"


def test_asdiv():
    a, b = _load("asdiv.jsonl", "asdiv", "asdiv")
    assert a["question"] == "Ravi has 7 marbles. His friend gives him 5 more. How many marbles does Ravi have now?"
    assert (a["answer"], b["answer"]) == ("12", "5")
    assert a["id"] == "nluds-0001" and b["family"] == "Common-Division"
    assert a["solution"] is None and a["n_steps"] is None


def test_mawps():
    a, b = _load("mawps.jsonl", "mawps", "mawps")
    assert (a["answer"], b["answer"]) == ("15", "12")
    assert a["question"].startswith("Lena had 9 stickers")


def test_svamp():
    a, b = _load("svamp.json", "svamp", "svamp")
    assert a["question"] == "There are 14 birds on a fence and 6 fly away. How many birds are still on the fence?"
    assert (a["answer"], b["answer"]) == ("8", "7.5")
    assert a["id"] == "chal-1" and a["family"] == "Subtraction"


def test_college_math():
    a, b = _load("college_math.jsonl", "college_math", "college_math")
    assert (a["answer"], b["answer"]) == ("12", "-2")
    assert a["family"] == "college_math.calculus" and a["style"] == "math"


def test_deepmind_mathematics_jsonl_and_txt():
    a, b = _load("deepmind_mathematics.jsonl", "deepmind_mathematics", "dm")
    assert (a["answer"], b["answer"]) == ("-16", "-3") and b["family"] == "algebra__linear_1d"
    c, d = _load("deepmind/arithmetic__mul.txt", "deepmind_mathematics", "dm")
    assert (c["question"], c["answer"], d["answer"]) == ("Multiply 6 and -7.", "-42", "36")
    assert c["family"] == "arithmetic__mul"


# ---------------------------------------------------------------------------- malformed rows


@pytest.mark.parametrize(
    "name, fmt, edit, field, expected",
    [
        ("gsm8k.jsonl", "gsm8k", lambda r: {**r, "answer": "She keeps 33."}, "answer", "'#### <number>' final line"),
        ("gsm8k.jsonl", "gsm8k", lambda r: {"answer": r["answer"]}, "question", "missing"),
        ("math.jsonl", "math", lambda r: {**r, "solution": "So x is 4."}, "solution", "\\boxed{...}"),
        ("math500.jsonl", "math500", lambda r: {**r, "problem": ""}, "problem", "empty"),
        ("asdiv.jsonl", "asdiv", lambda r: {**r, "answer": "(teams)"}, "answer", "value before its unit"),
        ("mawps.jsonl", "mawps", lambda r: {**r, "target": "twelve"}, "target", "expected a number"),
        ("college_math.jsonl", "college_math", lambda r: {**r, "answer": ["-2"]}, "answer", "expected text"),
        (
            "deepmind_mathematics.jsonl",
            "deepmind_mathematics",
            lambda r: {"question": r["question"]},
            "answer",
            "missing",
        ),
    ],
)
def test_malformed_jsonl_row_names_file_line_field(tmp_path, name, fmt, edit, field, expected):
    path = _broken_copy(tmp_path, name, 2, edit)
    with pytest.raises(DataError) as info:
        load_dataset_file(path, fmt, "ds")
    message = str(info.value)
    assert message.startswith(f"{path} line 2: field ")
    assert repr(field) in message and expected in message


def test_malformed_svamp_item(tmp_path):
    items = json.loads((FIX / "svamp.json").read_text())
    items[1]["Answer"] = "seven"
    path = tmp_path / "svamp.json"
    path.write_text(json.dumps(items))
    with pytest.raises(DataError, match=r"svamp\.json item 2: field 'Answer' is 'seven'; expected a number"):
        load_dataset_file(str(path), "svamp", "svamp")


def test_malformed_math_tree_file(tmp_path):
    tree = tmp_path / "MATH"
    shutil.copytree(FIX / "math_tree", tree)
    bad = tree / "geometry" / "9.json"
    bad.write_text(json.dumps({"problem": "p", "type": "Geometry"}))
    with pytest.raises(DataError, match=r"geometry/9\.json: field 'solution' is missing"):
        load_dataset_file(str(tree), "math", "math")


def test_parquet_row_is_named(tmp_path):
    pl.DataFrame({"question": ["a", "b"], "answer": ["x\n#### 1", "no final line"]}).write_parquet(
        tmp_path / "t.parquet"
    )
    with pytest.raises(DataError, match=r"t\.parquet row 2: field 'answer' has no '#### <number>'"):
        load_dataset_file(str(tmp_path / "t.parquet"), "gsm8k", "gsm8k")


def test_invalid_json_line(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text((FIX / "gsm8k.jsonl").read_text() + '{"question": "x", \n')
    with pytest.raises(DataError, match=r"g\.jsonl line 3: not valid JSON"):
        load_dataset_file(str(path), "gsm8k", "gsm8k")


def test_deepmind_txt_odd_lines(tmp_path):
    path = tmp_path / "algebra__x.txt"
    path.write_text("What is 2+2?\n4\nWhat is 3+3?\n")
    with pytest.raises(DataError, match=r"line 3: a question with no answer line"):
        load_dataset_file(str(path), "deepmind_mathematics", "dm")


# ---------------------------------------------------------------------------- whole-file errors


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n")
    with pytest.raises(DataError, match=r"empty\.jsonl: no records \(empty file\)"):
        load_dataset_file(str(path), "gsm8k", "gsm8k")


def test_unknown_format_lists_formats():
    with pytest.raises(DataError) as info:
        load_dataset_file(str(FIX / "gsm8k.jsonl"), "gsm9k", "x")
    assert all(name in str(info.value) for name in FORMATS)


def test_missing_file():
    with pytest.raises(DataError, match="no such file"):
        load_dataset_file(str(FIX / "nope.jsonl"), "gsm8k", "x")


def test_repeated_id(tmp_path):
    path = _broken_copy(tmp_path, "asdiv.jsonl", 2, lambda r: {**r, "id": "nluds-0001"})
    with pytest.raises(DataError, match=r"line 2: id 'nluds-0001' repeats the one at .* line 1"):
        load_dataset_file(path, "asdiv", "asdiv")


# ---------------------------------------------------------------------------- answer helpers


def test_last_boxed_nested_and_forms():
    assert last_boxed(r"so \boxed{\frac{1}{\sqrt{2}}} and then \boxed{x^{2}+1}.") == "x^{2}+1"
    assert last_boxed(r"the answer is $\boxed 7$") == "7"
    assert last_boxed(r"\fbox{3}") == "3"
    assert last_boxed(r"\boxed{unclosed") is None and last_boxed("none") is None
    # the grader's reader: an unclosed box after a good one leaves the good one
    assert last_boxed(r"\boxed{5} then \boxed{unclosed") == "5"


def test_gsm8k_answer_and_numbers():
    assert split_gsm8k_answer("a <<1+1=2>>2\n#### -3.5") == ("a 2", "-3.5")
    assert split_gsm8k_answer("#### five") is None
    assert (number_text(8.0), number_text("1,000"), number_text(0.25), number_text("x")) == ("8", "1000", "0.25", None)


# ---------------------------------------------------------------------------- few-shot prompts

import re  # noqa: E402

from lemma.data.fewshot import DEFAULT_SHOTS, PAPER_SHOTS, default_shots, fewshot_prompt, fewshot_stops  # noqa: E402
from lemma.text.prompting import format_prompt  # noqa: E402


def test_fewshot_prompt_layout():
    shots = default_shots("svamp")
    prompt = fewshot_prompt("Ann has 3 cats. How many cats?", shots, "world")
    assert prompt.endswith(format_prompt("Ann has 3 cats. How many cats?", "world"))
    assert prompt.startswith(format_prompt(shots[0]["question"], "world") + shots[0]["solution"] + "\n\n")
    assert prompt.count("Question:") == 5
    assert fewshot_prompt("Q?", [], "alpaca") == format_prompt("Q?", "alpaca")
    with pytest.raises(ValueError, match="exemplar 1 has no solution"):
        fewshot_prompt("Q?", [{"question": "x"}])


def test_fewshot_stops():
    assert fewshot_stops("world") == ("\nQuestion:",)
    alpaca = fewshot_stops("alpaca")
    assert any("Below is an instruction" in stop for stop in alpaca)  # a new exemplar's first words


def test_paper_shot_counts_and_defaults():
    assert PAPER_SHOTS == {"asdiv": 4, "mawps": 4, "svamp": 4}
    assert all(len(default_shots(fmt)) == 4 for fmt in FORMATS)
    assert len(default_shots("math500", k=2)) == 2
    with pytest.raises(ValueError):
        default_shots("gsm8k", k=5)


_SUM = re.compile(r"(-?\d+) ([-+*/]) (-?\d+) = (-?\d+)")


@pytest.mark.parametrize("family", sorted(DEFAULT_SHOTS))
def test_exemplars_compute_right_and_end_with_their_answer(family):
    for shot in DEFAULT_SHOTS[family]:
        *_, last = shot["solution"].split("\n")
        answer = re.fullmatch(r"The answer is: (-?\d+)", last)
        assert answer, shot["solution"]
        sums = _SUM.findall(shot["solution"].replace("\\cdot", "*"))
        assert sums, shot["solution"]
        for a, op, b, c in sums:
            assert eval(f"{a} {op} {b}") == int(c), (a, op, b, c)
        assert sums[-1][3] == answer.group(1)
