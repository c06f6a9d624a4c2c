"""Calibration probe for the built-in student: pre-train one candidate, print its greedy accuracy.

    python bench/calibrate_student.py --out /tmp/cand [--steps 3500] [--hidden 128] [--layers 4]
        [--vocab 1024] [--extra 16000 --hard-share 0.2] [--drills 0.4] [--threads 1] [--eval 200]
    python bench/calibrate_student.py --model results/models/sft --ood numbers longer --eval 400

A candidate is the default world (seed 7, 4000/400/400) and the default student, with one or
more of:
  --hidden/--layers/--lr/--batch/--vocab   the student's size, learning rate, batch and BPE vocabulary;
  --extra N        N more generated problems in the pre-training corpus only (not in any split),
                   a share --hard-share of them drawn with bigger numbers and the longer variants;
  --ood AXES       test_ood's shift (world.ood; default: the world's default, numbers);
  --drills R       a share R of the pre-training examples are arithmetic drills: six equations of
                   the corpus's own reference solutions to work out ("Work out: 12 * 6; ...");
With --model it trains nothing and measures a finished student (a run's base or fine-tuned model)
on the splits, test_ood shifted along the --ood axes.
It prints greedy accuracy on the first --eval problems of train, test and test_ood, by family
and by step count, and the pre-training wall time. Figures measured with it are in
docs/world-study.md ("Calibration"), which names the commit each row was measured at (the
world's number ranges and the student's tokenizer changed with the calibration); the target is
40-70% of train within the default run's time budget.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

from lemma.grading.extract import extract_answer  # noqa: E402
from lemma.text.prompting import STOP_STRINGS, format_prompt  # noqa: E402
from lemma.world import problems  # noqa: E402
from lemma.world.families import SHIFT_AXES, Shift  # noqa: E402
from lemma.world.student import pretrain_student  # noqa: E402

HARD = Shift(numbers=True, longer=True)  # the --hard-share rows: both axes, as the figures were measured


def corpus(world: dict, extra: int, hard_share: float, drills: float) -> list[dict]:
    """The pre-training rows: train, `extra` more problems, then drills made of their equations."""
    seen = {r["question"] for split in world.values() for r in split}
    rng, names = random.Random("extra"), sorted(problems.FAMILIES)
    rows = list(world["train"])
    while len(rows) < len(world["train"]) + extra:
        hard = rng.random() < hard_share  # drawn before the family: the order the figures were measured with
        fam = rng.choices(names, [problems.FAMILY_WEIGHTS.get(f, 1.0) for f in names])[0]
        row = problems.draw_problem(rng, HARD if hard else Shift(), fam)
        if row["question"] not in seen:
            seen.add(row["question"])
            rows.append(row)
    if drills:
        eqs = [
            re.sub(r"^Step \d+: ", "", line)
            for r in rows
            for line in r["solution"].splitlines()
            if line.startswith("Step")
        ]
        drng = random.Random("drills")
        for _ in range(int(len(rows) * drills / (1 - drills))):
            pick = drng.sample(eqs, 6)
            rows.append(
                {
                    "question": "Work out: " + "; ".join(e.split(" = ")[0] for e in pick) + ".",
                    "solution": "\n".join(f"Step {i + 1}: {e}" for i, e in enumerate(pick)),
                    "answer": "",
                }
            )
    random.Random(0).shuffle(rows)
    return rows


@torch.no_grad()
def accuracy(model_dir: str, rows: list[dict]) -> tuple[float, dict]:
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    tok.padding_side = "left"
    by = collections.defaultdict(lambda: [0, 0])
    right = 0
    for i in range(0, len(rows), 64):
        chunk = rows[i : i + 64]
        enc = tok([format_prompt(r["question"], "world") for r in chunk], return_tensors="pt", padding=True)
        out = model.generate(**enc, do_sample=False, max_new_tokens=128)
        for r, text in zip(chunk, tok.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)):
            pred = extract_answer(text.split(STOP_STRINGS["world"][0])[0])
            ok = pred is not None and str(pred).replace(",", "") == r["answer"]
            right += ok
            for key in (f"family={r['family']}", f"steps={r['n_steps']}"):
                by[key][0] += ok
                by[key][1] += 1
    return right / len(rows), dict(by)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="where the candidate student is written")
    ap.add_argument("--model", help="evaluate this finished student (e.g. results/models/base) instead of training one")
    ap.add_argument("--steps", type=int, default=3500)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--extra", type=int, default=0)
    ap.add_argument("--hard-share", type=float, default=0.0)
    ap.add_argument("--ood", nargs="+", default=list(problems.DEFAULT_OOD), choices=SHIFT_AXES)
    ap.add_argument("--drills", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval", type=int, default=200)
    a = ap.parse_args()
    if not (a.out or a.model):
        ap.error("give --out (train a candidate) or --model (evaluate a finished student)")
    torch.set_num_threads(a.threads)
    world = problems.generate_world(7, 4000, 400, 400, ood=a.ood)
    if a.model:
        evaluate(a.model, world, a.eval)
        return
    rows = corpus(world, a.extra, a.hard_share, a.drills)
    t0 = time.time()
    pretrain_student(
        rows,
        a.out,
        {
            "hidden": a.hidden,
            "layers": a.layers,
            "max_steps": a.steps,
            "lr": a.lr,
            "batch_size": a.batch,
            "vocab_size": a.vocab,
            "threads": a.threads,
            "eval_problems": 0,
            "save_steps": 10**6,
        },
    )
    print(json.dumps({**vars(a), "corpus_rows": len(rows), "pretrain_seconds": round(time.time() - t0)}))
    evaluate(a.out, world, a.eval)


def evaluate(model_dir: str, world: dict, n: int) -> None:
    for split in ("train", "test", "test_ood"):
        acc, by = accuracy(model_dir, world[split][:n])
        print(f"{split}: {100 * acc:.1f}%  " + " ".join(f"{k}:{v[0]}/{v[1]}" for k, v in sorted(by.items())))


if __name__ == "__main__":
    main()
