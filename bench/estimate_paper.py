"""The teacher's bill at the paper's scale, before any call: `lemma estimate` on
config/examples/llama3-8b-gpt4o.yaml with stand-in training files of the paper's size (7,473
GSM8K-layout and 7,500 MATH-layout problems, made by repeating the small public-layout files in
tests/data/loaders/ with numbered questions), because the real files cannot be downloaded here.

Calls follow from the counts and the stated rates; prompt tokens are measured on prompts rendered
for the stand-in problems, which are shorter than real GSM8K/MATH problems, so the prompt-token
and dollar figures are a lower bound for the real files (run it on your own copies for the real
figure: `lemma estimate --configfile <your config>`).

    python bench/estimate_paper.py [--mode batch] [extra lemma estimate args]
"""

from __future__ import annotations

import json
import sys
import tempfile
from itertools import cycle, islice
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "loaders"
SIZES = {"gsm8k": 7473, "math": 7500}  # the paper's training sets (14.97k problems together)


def standin(src: Path, dest: Path, n: int, question_key: str) -> None:
    rows = [json.loads(x) for x in src.read_text().splitlines() if x.strip()]
    with open(dest, "w") as f:
        for i, r in enumerate(islice(cycle(rows), n)):
            f.write(json.dumps({**r, question_key: f"{r[question_key]} (problem {i + 1})"}) + "\n")


def main(argv: list[str]) -> int:
    from lemma.cli import main as lemma_cli

    mode = "live"
    if "--mode" in argv:
        i = argv.index("--mode")
        mode, argv = argv[i + 1], argv[:i] + argv[i + 2 :]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        standin(DATA / "gsm8k.jsonl", tmp / "gsm8k_train.jsonl", SIZES["gsm8k"], "question")
        standin(DATA / "math.jsonl", tmp / "math_train.jsonl", SIZES["math"], "problem")
        cfg = yaml.safe_load((ROOT / "config/examples/llama3-8b-gpt4o.yaml").read_text())
        cfg["datasets"]["gsm8k_train"]["path"] = str(tmp / "gsm8k_train.jsonl")
        cfg["datasets"]["math_train"]["path"] = str(tmp / "math_train.jsonl")
        cfg["teacher"]["mode"] = mode
        (tmp / "paper.yaml").write_text(yaml.safe_dump(cfg))
        # --directory: the checkout (taxonomy, prompts); the cache path points at an empty place
        return lemma_cli(
            [
                "estimate",
                "--configfile",
                str(tmp / "paper.yaml"),
                "--directory",
                str(ROOT),
                "--cache",
                str(tmp / "no-cache.sqlite"),
                *argv,
            ]
        )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
