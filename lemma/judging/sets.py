"""Labelled first-wrong-step sets for the judge benchmark, read into one layout (`JudgeItem`):
a problem, its solution as a list of steps, and the index of the earliest wrong step (0-based, as
ProcessBench counts) or -1 when the solution has no error.

- `world_set`: the built-in world. Reference solutions (label -1) and the oracle's injected
  mistakes, whose wrong step is known by construction: exact and free.
- `champ_set`: CHAMP (PyPI `champ-dataset`, MIT): 540 solutions by GPT-3.5, GPT-4, GPT-4 Turbo and
  PaLM 2 to 270 competition problems, each with a human annotation of its first wrong step as a
  character span (or none). Read from the installed package; the span's start picks the step.
- `processbench_set`: the ProcessBench layout, one JSON object a line: `problem`, `steps` (a
  list), `label` (earliest wrong step, 0-based, or -1), optional `id`, `reference_solution`,
  `answer`. PRM800K-style data converts to it.
- `locate_set`: a run's own verdicts (results/taxonomy/steps.parquet), so that two teachers can be
  compared on the same samples.
A file that does not fit its layout is refused naming the file, the line and the field.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass

from lemma.tables.jsonl import iter_jsonl
from lemma.text.steps import step_spans
from lemma.text.vocabulary import says_no_error


class SetError(ValueError):
    """A labelled set that cannot be read (the message names the file, row and field)."""


@dataclass(frozen=True)
class JudgeItem:
    set: str
    id: str
    question: str
    steps: tuple[str, ...]
    label: int  # the earliest wrong step, 0-based; -1: no error
    reference_solution: str = ""
    reference_answer: str = ""
    source: str = ""  # who wrote the solution (a model's name), where the set says
    structure: str | None = None  # the built-in world's problem description (the oracle reads it)


# -- the built-in world ------------------------------------------------------------------------


def world_set(n: int = 200, seed: int = 7) -> list[JudgeItem]:
    """`n` items from the world's test problems, half reference solutions (label -1), half oracle
    injections of an error type drawn per problem (label: the injected step)."""
    import random

    from lemma.config import load_taxonomy
    from lemma.teacher.base import InjectRequest
    from lemma.teacher.oracle import OracleTeacher
    from lemma.world.problems import generate_world

    world = generate_world(seed, max(n, 10), max(n, 10), 0)["test"]
    oracle, rng = OracleTeacher(seed), random.Random(seed)
    taxonomy = [t for t in load_taxonomy(default_taxonomy()) if t.name in INJECTABLE]
    items: list[JudgeItem] = []
    for i, row in enumerate(world):
        if len(items) >= n:
            break
        view = _world_view(row)
        if i % 2 == 0:
            items.append(_world_item(row, row["solution"], -1, "reference"))
            continue
        for _ in range(len(taxonomy)):
            (m,) = oracle.inject_errors([InjectRequest(view, rng.choice(taxonomy), 0)])
            if m.solution and m.wrong_step:
                items.append(_world_item(row, m.solution, m.wrong_step - 1, "oracle injection"))
                break
    return items


# error types the oracle can inject into every family (it refuses the others on some problems)
INJECTABLE = ("calculation_error", "operator_error", "context_value_error", "missing_step")


def default_taxonomy() -> str:
    """config/taxonomy.yaml of the checkout (the workflow's default taxonomy)."""
    return os.path.join(os.path.dirname(__file__), "..", "..", "config", "taxonomy.yaml")


def _world_view(row: dict):
    from lemma.teacher.base import ProblemView

    return ProblemView(row["id"], row["question"], row["solution"], row["answer"], row.get("structure"), "world")


def _world_item(row: dict, solution: str, label: int, source: str) -> JudgeItem:
    steps = tuple(solution[s:e] for s, e in step_spans(solution, "world"))
    return JudgeItem(
        "world",
        f"{row['id']}:{'ref' if label < 0 else 'inj'}",
        row["question"],
        steps,
        label,
        row["solution"],
        row["answer"],
        source,
        row.get("structure"),
    )


# -- CHAMP -------------------------------------------------------------------------------------


def champ_file() -> str:
    """The installed package's data file (pip install champ-dataset)."""
    spec = importlib.util.find_spec("champ_dataset")
    if spec is None or spec.origin is None:
        raise SetError("CHAMP is not installed: pip install champ-dataset (MIT licence; the data stays in the package)")
    return os.path.join(os.path.dirname(spec.origin), "dataset_files", "v0.json")


def split_paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each step of a free-text model solution: its paragraphs (blank-line
    separated), as CHAMP's annotators saw the solutions; a paragraph keeps its line breaks."""
    spans, start = [], 0
    for part in text.split("\n\n"):
        end = start + len(part)
        lead = len(part) - len(part.lstrip())
        if part.strip():
            spans.append((start + lead, start + len(part.rstrip())))
        start = end + 2
    return spans


def champ_set(path: str | None = None) -> list[JudgeItem]:
    path = path or champ_file()
    try:
        data = json.loads(open(path, encoding="utf-8").read())
    except (OSError, ValueError) as e:
        raise SetError(f"{path}: cannot read CHAMP ({e})") from None
    items = []
    for pid, problem in data.get("problems", {}).items():
        reference = problem.get("solution") or {}
        ref_text = (
            "\n".join(s.get("_text", "") for s in reference.get("steps", [])) if isinstance(reference, dict) else ""
        )
        for key, ann in (problem.get("fws_annotations") or {}).items():
            text = ann.get("text")
            if not isinstance(text, str):
                raise SetError(f"{path}: problems.{pid}.fws_annotations.{key}: no solution text")
            spans = split_paragraphs(text)
            start = ann.get("start_idx")
            if start is None:
                label = -1
            else:
                label = next((i for i, (a, b) in enumerate(spans) if a <= start < b + 2), len(spans) - 1)
            items.append(
                JudgeItem(
                    "champ",
                    f"{pid}|{key}",
                    problem.get("_text", ""),
                    tuple(text[a:b] for a, b in spans),
                    label,
                    ref_text,
                    str(problem.get("_answer", "")),
                    key.split("|")[0],
                )
            )
    return items


# -- the ProcessBench layout -------------------------------------------------------------------


def processbench_set(path: str, name: str = "processbench") -> list[JudgeItem]:
    items = []
    for where, row in iter_jsonl(path, SetError):
        for field, kind in (("problem", str), ("steps", list), ("label", int)):
            if not isinstance(row.get(field), kind) or isinstance(row.get(field), bool):
                raise SetError(f"{where}: field {field!r}: expected {kind.__name__}, got {row.get(field)!r:.60}")
        steps = row["steps"]
        if not steps or not all(isinstance(s, str) and s.strip() for s in steps):
            raise SetError(f"{where}: field 'steps': expected a list of non-empty strings")
        if not -1 <= row["label"] < len(steps):
            raise SetError(f"{where}: field 'label': {row['label']} is not -1 nor a step index below {len(steps)}")
        items.append(
            JudgeItem(
                name,
                str(row.get("id", where)),
                row["problem"],
                tuple(steps),
                row["label"],
                str(row.get("reference_solution") or ""),
                str(row.get("answer") or row.get("final_answer") or ""),
                str(row.get("generator") or ""),
            )
        )
    return items


# -- a run's own verdicts ----------------------------------------------------------------------


def locate_set(results: str = "results", name: str = "locate") -> list[JudgeItem]:
    """The step judge's verdicts of a finished run (results/taxonomy/steps.parquet) as labels: a
    sample it located (label: that step) or found without error (label -1: an LLM judge's
    "judged_correct", the oracle's "not_wrong"); other drops are left out."""
    from lemma.pipeline.runner import read_all
    from lemma.tables.io import read_table
    from lemma.tables.records import PROBLEMS, STEP_LABELS

    labels = read_table(os.path.join(results, "taxonomy", "steps.parquet"), STEP_LABELS)
    problem_dir = os.path.join(results, "problems")
    problems = read_all([os.path.join(problem_dir, f) for f in sorted(os.listdir(problem_dir))], PROBLEMS)
    by_id = {r["id"]: r for r in problems.iter_rows(named=True)}
    items = []
    for r in labels.iter_rows(named=True):
        if r.get("dropped") and not says_no_error(r["dropped"]):
            continue
        p = by_id.get(r["problem_id"])
        if p is None:
            continue
        style = p.get("style") or "world"
        text = r["completion"]
        steps = tuple(text[a:b] for a, b in step_spans(text, style))
        label = -1 if r.get("dropped") else int(r["first_wrong_step"]) - 1
        item_id = f"{r['problem_id']}:{r['sample_index']}"
        items.append(JudgeItem(name, item_id, p["question"], steps, label, p["solution"], p["answer"]))
    return items
