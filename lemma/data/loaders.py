"""Loaders for real datasets and benchmarks in their usual public layouts (docs/data.md).

`load_dataset_file(path, format, dataset)` reads a local file (or directory) and returns rows with
exactly the keys of lemma.tables.records.PROBLEMS. Each format is one function from a raw record to a
row; the first malformed record stops the load with a DataError naming the file, the line (or
item / row), the field and what was expected, so a bad download is caught before any GPU job.
"""

from __future__ import annotations

from collections.abc import Callable

from lemma.data.answers import number_text, split_gsm8k_answer, strip_math_delimiters, strip_unit
from lemma.data.readers import DataError, read_records
from lemma.grading.spans import last_boxed
from lemma.tables.records import PROBLEMS
from lemma.text.steps import split_steps


class _Row:
    """One raw record being read, with helpers that raise DataError naming its location."""

    def __init__(self, where: str, record: dict):
        self.where, self.record = where, record

    def error(self, field: str, problem: str) -> DataError:
        return DataError(f"{self.where}: field {field!r} {problem}")

    def text(self, *names: str, required: bool = True) -> str | None:
        """The first of `names` present in the record, as non-empty text (numbers are accepted and
        written as text). `names` are alternative spellings of one field across releases."""
        for name in names:
            if name in self.record and self.record[name] is not None:
                value = self.record[name]
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    value = number_text(value) or str(value)
                if not isinstance(value, str):
                    raise self.error(name, f"is {type(value).__name__}; expected text")
                if not value.strip():
                    raise self.error(name, "is empty; expected text")
                return value.strip()
        if required:
            spelled = " or ".join(repr(n) for n in names)
            raise DataError(f"{self.where}: field {spelled} is missing; expected text")
        return None

    def number(self, *names: str) -> str:
        value = self.text(*names)
        name = next(n for n in names if self.record.get(n) is not None)
        result = number_text(value)
        if result is None:
            raise self.error(name, f"is {value!r}; expected a number")
        return result

    def any_id(self, *names: str) -> str | None:
        for name in names:
            value = self.record.get(name)
            if value is not None and str(value).strip():
                return str(value).strip()
        return None


def _problem(dataset, row_id, question, solution, answer, style, family) -> dict:
    n_steps = len(split_steps(solution, style)) if solution else None
    return {
        "id": row_id,
        "dataset": dataset,
        "question": question,
        "solution": solution,
        "answer": answer,
        "style": style,
        "family": family,
        "n_steps": n_steps,
        "structure": None,
    }


# ------------------------------------------------------------------------------------ formats
# Each takes (row, dataset, default_id) and returns a PROBLEMS row.


def _gsm8k(row: _Row, dataset: str, default_id: str) -> dict:
    question = row.text("question")
    parts = split_gsm8k_answer(row.text("answer"))
    if parts is None:
        raise row.error("answer", "has no '#### <number>' final line")
    solution, answer = parts
    if not solution:
        raise row.error("answer", "has no reasoning before its '#### <number>' line")
    return _problem(dataset, row.any_id("id") or default_id, question, solution, answer, "gsm8k", "gsm8k")


def _math(row: _Row, dataset: str, default_id: str) -> dict:
    # MATH (problem, solution, level, type) and MATH500 (adds answer, subject, unique_id)
    question = row.text("problem")
    solution = row.text("solution")
    answer = row.text("answer", required=False)
    if answer is None:
        answer = (last_boxed(solution) or "").strip()
        if not answer:
            raise row.error("solution", "has no \\boxed{...} final answer (and the record has no 'answer' field)")
    family = row.text("type", "subject", required=False) or "math"
    row_id = row.any_id("unique_id", "id", "_tree_id") or default_id
    return _problem(dataset, row_id, question, solution, strip_math_delimiters(answer), "math", family)


def _asdiv(row: _Row, dataset: str, default_id: str) -> dict:
    body = row.text("body", "Body")
    question = f"{body} {row.text('question', 'Question')}"
    raw = row.text("answer", "Answer")
    answer = strip_unit(raw)
    if not answer:
        raise row.error("answer", f"is {raw!r}; expected a value before its unit, as in '9 (apples)'")
    family = row.text("solution_type", "Solution-Type", required=False) or "asdiv"
    row_id = row.any_id("id", "@ID", "ID") or default_id
    return _problem(dataset, row_id, question, None, answer, "gsm8k", family)


def _mawps(row: _Row, dataset: str, default_id: str) -> dict:
    question = row.text("input", "question", "Question")
    answer = row.number("target", "answer", "Answer")
    return _problem(dataset, row.any_id("id", "iIndex") or default_id, question, None, answer, "gsm8k", "mawps")


def _svamp(row: _Row, dataset: str, default_id: str) -> dict:
    body = row.text("Body")
    if not body.endswith("."):
        body += "."  # some bodies lack a full stop before the question
    question = f"{body} {row.text('Question')}"
    answer = row.number("Answer")
    family = row.text("Type", required=False) or "svamp"
    return _problem(dataset, row.any_id("ID", "id") or default_id, question, None, answer, "gsm8k", family)


def _question_answer(default_family: str, *family_fields: str):
    # College-Math and DeepMind Mathematics as question/answer records (answers may be LaTeX)
    def parse(row: _Row, dataset: str, default_id: str) -> dict:
        question = row.text("question")
        answer = strip_math_delimiters(row.text("answer"))
        solution = row.text("solution", required=False)
        family = row.text(*family_fields, required=False) or default_family
        row_id = row.any_id("id", "idx") or default_id
        return _problem(dataset, row_id, question, solution, answer, "math", family)

    return parse


FORMATS: dict[str, Callable[[_Row, str, str], dict]] = {
    "gsm8k": _gsm8k,
    "math": _math,
    "math500": _math,
    "asdiv": _asdiv,
    "mawps": _mawps,
    "svamp": _svamp,
    "college_math": _question_answer("college_math", "data_topic", "topic"),
    "deepmind_mathematics": _question_answer("deepmind_mathematics", "data_topic", "module"),
}


def load_dataset_file(path: str, format: str, dataset: str) -> list[dict]:
    """Problems of one local file (or MATH directory tree) in `format`, as PROBLEMS rows.

    Ids are the record's own id where the layout has one, else "<dataset>-<index>" (0-based
    record order). Raises DataError for an unknown format, an empty file, a malformed record or a
    repeated id.
    """
    parse = FORMATS.get(format)
    if parse is None:
        raise DataError(f"{path}: unknown dataset format {format!r}; expected one of {', '.join(sorted(FORMATS))}")
    rows, seen = [], {}
    for index, (where, record) in enumerate(read_records(path)):
        row = parse(_Row(where, record), dataset, f"{dataset}-{index}")
        if row["id"] in seen:
            raise DataError(f"{where}: id {row['id']!r} repeats the one at {seen[row['id']]}; expected unique ids")
        seen[row["id"]] = where
        rows.append(row)
    if not rows:
        raise DataError(f"{path}: no records (empty file); expected {format} problems")
    assert all(row.keys() == PROBLEMS.keys() for row in rows)
    return rows
