"""The grader's labelled sets of real phrasings (issue 11), for tests/test_grading_real.py and
bench/grading.py.

SmolLM2 set
    tests/data/grading_smollm2_raw.jsonl: completions of SmolLM2-135M-Instruct (a real pretrained
    LLM) on our GSM8K-like and MATH-like questions, generated once by
    tests/data/grading_make_smollm2.py and never edited.
    tests/data/grading_smollm2_labels.jsonl: one hand label per completion, by `id`:
    `stated` (the final answer the completion states, as written, or null) and `expected`.

    Split: each question's completions go together into "dev" or "heldout", by a hash of the
    question's id (about half each). The extractor was tuned on "dev" only; "heldout" was labelled
    with the rest but its grades were first computed after the tuning was done.

Held-out phrasings
    tests/data/grading_heldout.jsonl (from grading_make_heldout.py): written and committed
    before the extractor changed; not used to tune it.

Held-out phrasings, second set
    tests/data/grading_heldout2.jsonl (from grading_make_heldout2.py): the first held-out set
    was graded once after tuning, its misses were looked at and fixed, so from then on it is
    no longer held out. This second set was written and committed after that first measurement
    and before those fixes, and was not used to make them.

Labelling rule (all sets): `stated` is the final answer the completion commits to, as a careful
human reader finds it: the last answer it states, in any wording ("The answer is 5",
"**Answer:** 4", a box, "#### 18", "So she has 14 dollars left." at the end of the solution);
null when it never commits to one (cut off, a question back, a rambling that stops, only
intermediate results). An instruction's placeholder echoed back ("The answer is: <answer>") is
not an answer. `expected` is True exactly when `stated` equals the reference as a human grader
judges it (same value; units, currency signs, "x =", spacing and LaTeX presentation ignored; an
unsimplified but equal value such as 6/8 for 3/4 counts; a decimal rounding of an irrational
does not). The label does not depend on the grading style: rows are graded in both styles.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

DATA = Path(__file__).parent / "data"
SMOLLM2_RAW = DATA / "grading_smollm2_raw.jsonl"
SMOLLM2_LABELS = DATA / "grading_smollm2_labels.jsonl"
HELDOUT = DATA / "grading_heldout.jsonl"
HELDOUT2 = DATA / "grading_heldout2.jsonl"


def _jsonl(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path} line {n}: not JSON ({e})") from None
    return rows


def split_of(row_id: str) -> str:
    """'dev' or 'heldout' for a SmolLM2 row, by its question (the id without the instruction)."""
    question = row_id.rsplit("-", 1)[0]
    return "heldout" if hashlib.sha256(question.encode()).digest()[0] % 2 else "dev"


def smollm2_rows() -> list[dict]:
    """Raw completions merged with their hand labels; every row must have exactly one label."""
    labels: dict[str, dict] = {}
    for n, lab in enumerate(_jsonl(SMOLLM2_LABELS), 1):
        if not isinstance(lab.get("id"), str) or not isinstance(lab.get("expected"), bool) or "stated" not in lab:
            raise ValueError(f"{SMOLLM2_LABELS} line {n}: needs string 'id', bool 'expected' and 'stated'")
        if lab["id"] in labels:
            raise ValueError(f"{SMOLLM2_LABELS} line {n}: id {lab['id']!r} labelled twice")
        labels[lab["id"]] = lab
    rows = []
    for raw in _jsonl(SMOLLM2_RAW):
        lab = labels.pop(raw["id"], None)
        if lab is None:
            raise ValueError(f"{SMOLLM2_LABELS}: no label for id {raw['id']!r}")
        rows.append({**raw, "stated": lab["stated"], "expected": lab["expected"], "split": split_of(raw["id"])})
    if labels:
        raise ValueError(f"{SMOLLM2_LABELS}: labels for unknown ids {sorted(labels)}")
    return rows


def heldout_rows() -> list[dict]:
    return _jsonl(HELDOUT)


def heldout2_rows() -> list[dict]:
    return _jsonl(HELDOUT2)


# ---------------------------------------------------------------------------------------------
# Competition-style answers (issue 24)

COMPETITION = DATA / "grading_competition.jsonl"
CHAMP_LABELS = DATA / "grading_champ_labels.jsonl"
# Labelled after the grader changed for issue 24 and before it was measured on them: held out.
CHAMP_LABELS_2 = DATA / "grading_champ_labels2.jsonl"
# The kinds of tests/data/grading_make_competition.py, in the order bench/RESULTS.md shows them.
COMPETITION_KINDS = ("several", "number_forms", "radicals", "relations", "whole_reference", "no_marker")


def competition_rows() -> list[dict]:
    """Competition-style answers in public layouts, written here (a `kind` per row)."""
    rows = _jsonl(COMPETITION)
    for row in rows:
        if row.get("kind") not in COMPETITION_KINDS:
            raise ValueError(
                f"{COMPETITION} row {row.get('id')!r}: kind {row.get('kind')!r} is not one of {COMPETITION_KINDS}"
            )
    return rows


def champ_rows(labels: Path = CHAMP_LABELS) -> list[dict]:
    """Real solutions of GPT-3.5, GPT-4, GPT-4 Turbo and PaLM 2 to CHAMP's competition problems,
    read from the installed `champ-dataset` package (the data is not copied here), against CHAMP's
    own final answers, with a hand label per solution (tests/data/grading_champ_labels.jsonl, by
    ``problem id|model|prompt``; `labels`: CHAMP_LABELS_2 for the second, held-out batch). Most
    state their answer in prose, without a marker."""
    from lemma.judging.sets import champ_file

    problems = json.loads(Path(champ_file()).read_text(encoding="utf-8"))["problems"]
    rows = []
    for n, lab in enumerate(_jsonl(labels), 1):
        pid, _, key = lab["id"].partition("|")
        problem = problems.get(pid)
        if problem is None or key not in problem["fws_annotations"]:
            raise ValueError(f"{labels} line {n}: no CHAMP solution {lab['id']!r}")
        text = problem["fws_annotations"][key]["text"]
        rows.append({**lab, "completion": text, "gold": problem["_answer"], "kind": "champ"})
    return rows
