"""The mechanism, measured: does a fine-tuned model's reflection actually correct anything?

For every evaluated answer: does it reflect (a line that opens like one of the configured
reflection phrases), and if so, was the text before the reflection right or wrong, and is the final
answer right or wrong? On the built-in world the prefix is checked step by step by the oracle
(lemma.teacher.oracle.judge re-computes every step against the problem's structure), so "wrong"
means a step that a valid solution would not take or an arithmetic slip, not a guess. Outcomes:

  none             no reflection
  self_correction  wrong prefix, right final answer (what the method is meant to teach)
  wrong_to_wrong   wrong prefix, wrong final answer (noticed, not fixed)
  harmful          right prefix, wrong final answer (the reflection broke a good attempt)
  false_alarm      right prefix, right final answer (a reflection with nothing to fix)
  unknown          reflects, but the prefix cannot be checked (no world structure: real data)

A wrong prefix also gets the type of its first wrong step (the oracle's taxonomy label).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

OUTCOMES = ("none", "self_correction", "wrong_to_wrong", "harmful", "false_alarm", "unknown")
# openings of a reflection beyond the configured phrases: what a model imitating them tends to write
_GENERIC = (
    "wait",
    "hold on",
    "hmm",
    "actually",
    "on second thought",
    "let me check",
    "let me double-check",
    "let me recheck",
    "let me re-check",
)
_THAT_GIVES = re.compile(r"^that gives\s+(-?[\d,]+)", re.IGNORECASE)


def reflection_markers(phrases: Iterable[str]) -> tuple[str, ...]:
    """Lower-case openings that mark a reflection line: each configured phrase up to its first
    comma ("Wait, something is off." -> "wait"), else its first two words ("Let me pause and
    re-examine this." -> "let me"), plus common openings a model imitating them tends to write."""
    out = set(_GENERIC)
    for p in phrases:
        p = p.strip().lower()
        head = p.split(",", 1)[0] if "," in p else " ".join(p.split()[:2])
        head = head.strip(" .!?…")
        if head:
            out.add(head)
    return tuple(sorted(out, key=len, reverse=True))


def find_reflection(text: str, markers: tuple[str, ...]) -> int | None:
    """Index of the first line of `text` that opens with a marker (as a whole word), or None."""
    for i, line in enumerate(text.splitlines()):
        low = line.strip().lower()
        for m in markers:
            if low.startswith(m) and (len(low) == len(m) or not low[len(m)].isalnum()):
                return i
    return None


def check_prefix(prefix_lines: list[str], structure: str) -> tuple[bool, str | None]:
    """(right, error type of the first wrong step) of the lines before a reflection, by the oracle:
    every step must be one a valid solution takes, with the arithmetic right; an answer stated
    before the reflection ("The answer is: N" or "That gives N.") must be the asked quantity."""
    from lemma.teacher.oracle.judge import judge, step_ok
    from lemma.teacher.oracle.model import WorldModel
    from lemma.world.solution import AnswerLine, StepLine, format_answer, parse_line

    model = WorldModel(structure)
    lines = [ln.strip() for ln in prefix_lines if ln.strip()]
    computed: set[int] = set()

    def wrong_at(i: int) -> tuple[bool, str | None]:
        f = judge(model, "\n".join(lines[: i + 1]))
        return False, (f.type if f is not None else None)

    for i, line in enumerate(lines):
        p = parse_line(line)
        if isinstance(p, StepLine):
            if not step_ok(model, p, computed):
                return wrong_at(i)
            computed.add(p.c)
        elif isinstance(p, AnswerLine):
            if p.value != model.target_value:
                return wrong_at(i)
        else:
            m = _THAT_GIVES.match(line)  # a smoothed trajectory's wrong answer inside an attempt
            if m is None:
                return False, "nonsensical_output"
            value = int(m.group(1).replace(",", ""))
            if value != model.target_value:
                f = judge(model, "\n".join(lines[:i] + [format_answer(value)]))
                return False, (f.type if f is not None else None)
    return True, None


def classify(text: str, correct: bool, structure: str | None, markers: tuple[str, ...]) -> dict:
    """One answer's reflection outcome: {"reflects", "prefix_right", "outcome", "error_type"}."""
    i = find_reflection(text or "", markers)
    if i is None:
        return {"reflects": False, "prefix_right": None, "outcome": "none", "error_type": None}
    if not structure:
        return {"reflects": True, "prefix_right": None, "outcome": "unknown", "error_type": None}
    right, etype = check_prefix(text.splitlines()[:i], structure)
    if right:
        outcome = "false_alarm" if correct else "harmful"
    else:
        outcome = "self_correction" if correct else "wrong_to_wrong"
    return {"reflects": True, "prefix_right": right, "outcome": outcome, "error_type": etype}


def summarise(items: list[dict]) -> dict:
    """Counts of each outcome over classified answers, plus n and the share that reflects."""
    c = Counter(it["outcome"] for it in items)
    n = len(items)
    row = {"n": n, "reflects": n - c["none"]}
    row.update({o: c[o] for o in OUTCOMES if o != "none"})
    row["reflect_rate"] = row["reflects"] / n if n else 0.0
    return row


def by_type(items: list[dict]) -> dict[str, Counter]:
    """error type -> Counter of outcomes, over answers whose prefix was wrong."""
    out: dict[str, Counter] = {}
    for it in items:
        if it["outcome"] in ("self_correction", "wrong_to_wrong"):
            out.setdefault(it["error_type"] or "unlabelled", Counter())[it["outcome"]] += 1
    return out


def plot_outcomes(rows: list[dict], path: str) -> None:
    """Stacked bars: per run and benchmark, the share of answers in each reflection outcome."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {
        "self_correction": "#27ae60",
        "false_alarm": "#95a5a6",
        "wrong_to_wrong": "#e67e22",
        "harmful": "#c0392b",
        "unknown": "#7f8c8d",
    }
    labels = [f"{r['run']} · {r['benchmark']}" for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.6))
    left = [0.0] * len(rows)
    for o, colour in colours.items():
        vals = [100 * r[o] / r["n"] if r["n"] else 0.0 for r in rows]
        if any(vals):
            ax.barh(labels, vals, left=left, color=colour, label=o.replace("_", " "))
            left = [a + b for a, b in zip(left, vals)]
    ax.invert_yaxis()
    ax.set_xlabel("% of answers that reflect, by what the reflection did")
    ax.set_title("Reflections in greedy answers (prefix checked by the oracle)")
    if ax.patches:
        ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


SUMMARY_COLUMNS = (
    "run",
    "variant",
    "seed",
    "benchmark",
    "n",
    "reflects",
    "reflect_rate",
    "self_correction",
    "wrong_to_wrong",
    "harmful",
    "false_alarm",
    "unknown",
)


def measure(
    evals: dict[str, object],
    structures: dict[str, dict[str, str | None]],
    runs: dict[str, tuple],
    markers: tuple[str, ...],
) -> tuple[list[dict], list[dict]]:
    """(summary rows, by-type rows) over `evals[(run, benchmark)]` (polars frames with problem_id,
    completion, correct); `structures[benchmark][problem_id]` is the world structure or None."""
    summary, typed = [], []
    for (run, bench), df in evals.items():
        variant, seed = runs[run]
        items = []
        for pid, text, ok in zip(df["problem_id"], df["completion"], df["correct"]):
            items.append(classify(text or "", bool(ok), structures[bench].get(pid), markers))
        summary.append({"run": run, "variant": variant, "seed": seed, "benchmark": bench, **summarise(items)})
        for etype, c in sorted(by_type(items).items()):
            typed.append(
                {
                    "run": run,
                    "variant": variant,
                    "seed": seed,
                    "benchmark": bench,
                    "error_type": etype,
                    "self_correction": c["self_correction"],
                    "wrong_to_wrong": c["wrong_to_wrong"],
                }
            )
    return summary, typed


def mechanism_html(summary: list[dict], typed: list[dict]) -> str:
    from lemma.report.tables import html_table, page

    cols = [
        ("run", "run"),
        ("benchmark", "benchmark"),
        ("n", "answers"),
        ("reflects", "reflect"),
        ("reflect_rate", "share"),
        ("self_correction", "wrong→right"),
        ("wrong_to_wrong", "wrong→wrong"),
        ("harmful", "right→wrong"),
        ("false_alarm", "false alarm"),
        ("unknown", "unchecked"),
    ]
    note = (
        '<p class="note">Greedy answers that contain a reflection (a line opening like a configured reflection '
        "phrase). The text before it is checked step by step by the built-in world's oracle: "
        "<b>wrong→right</b> is a real self-correction, <b>wrong→wrong</b> a noticed but unfixed error, "
        "<b>right→wrong</b> a harmful reflection, <b>false alarm</b> a reflection after a right prefix that "
        "still ends right; <b>unchecked</b>: no world structure to check against (real data).</p>"
    )
    body = [note, html_table(summary, cols, {"run": "text", "benchmark": "text", "reflect_rate": "pct"})]
    body.append("<h2>Wrong prefixes by the type of their first wrong step</h2>")
    if typed:
        body.append(
            html_table(
                typed,
                [
                    ("run", "run"),
                    ("benchmark", "benchmark"),
                    ("error_type", "error type"),
                    ("self_correction", "wrong→right"),
                    ("wrong_to_wrong", "wrong→wrong"),
                ],
                {"run": "text", "benchmark": "text", "error_type": "text"},
            )
        )
    else:
        body.append('<p class="note">No answer reflects after a wrong prefix.</p>')
    return page("Reflections: what they did", "\n".join(body))
