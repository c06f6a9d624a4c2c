"""The judge benchmark's figures: teachers and judge prompts scored on labelled sets, one run.

    python bench/judge_teachers.py [--world 60] [--champ 60]

Runs the workflow's own rule (`snakemake results/judge/summary.md`) with
config/examples/cpu-real-llm.yaml, whose teacher is served by a CPU `vllm serve` the workflow
starts itself (teacher.serve; needs .venv-vllm, see docs/real-llm-on-cpu.md): SmolLM2-135M-Instruct
(models/smollm2-135m-instruct, chat prompts) and Gemma 3 270M, a base model (models/gemma3-270m from
`lemma build-gemma3`, completion prompts), once per judge prompt: the packaged lemma/prompts/judge_step.md and
config/prompts/judge-neutral/. The oracle's row on the same world items checks the harness (it
must score 100). Sets: `--world` built-in world items (half references, half the oracle's
injections, labels exact) and a seeded sample of `--champ` CHAMP solutions (human labels), the
same items for every teacher. Writes the "## Judge benchmark" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
SECTION = "## Judge benchmark"
PROMPTS = {"packaged": None, "judge-neutral": "config/prompts/judge-neutral"}
# teacher.model and how prompts reach it: SmolLM2 is instruction-tuned (chat); Gemma 3 270M is a
# base model, which ignores chat turns and continues a text (models/gemma3-270m: lemma build-gemma3)
TEACHERS = {
    "smollm2": {"model": "models/smollm2-135m-instruct", "prompt_form": "chat"},
    "gemma3": {"model": "models/gemma3-270m", "prompt_form": "completion"},
}


def run(wd: Path, cfg: dict, name: str) -> list[dict]:
    path = wd / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    # the target before --configfile, which takes every word after it
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--cores", "2", "results/judge/summary.md"]
    t0 = time.monotonic()
    p = subprocess.run([*cmd, "--configfile", str(path)], cwd=wd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{name}: snakemake failed\n{p.stderr[-4000:]}")
    sums = [json.loads((wd / f"results/judge/{s}.summary.json").read_text()) for s in cfg["judge_bench"]["sets"]]
    for s in sums:
        s["prompts"] = name.split("-", 1)[1] if cfg["teacher"]["kind"] == "llm" else "-"
        s["run"], s["minutes"] = name, (time.monotonic() - t0) / 60
    return sums


def main(argv=None) -> int:
    from lemma.judging.bench import markdown

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--world", type=int, default=60)
    ap.add_argument("--champ", type=int, default=60)
    ap.add_argument("--teachers", nargs="+", default=list(TEACHERS), choices=list(TEACHERS))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    base = yaml.safe_load((REPO / "config/examples/cpu-real-llm.yaml").read_text())
    sets = {"world": {"source": "world", "n": args.world}, "champ": {"source": "champ", "n": args.champ}}
    wd = Path(tempfile.mkdtemp(prefix="judge_bench_"))
    for name in ("config", "models", "tests", ".venv-vllm"):
        (wd / name).symlink_to(REPO / name)
    summaries = run(
        wd, {**base, "teacher": {"kind": "oracle"}, "judge_bench": {"sets": {"world": sets["world"]}}}, "oracle"
    )
    for model in args.teachers:
        for name, prompts_dir in PROMPTS.items():
            teacher = {**base["teacher"], **TEACHERS[model], "prompts_dir": prompts_dir}
            summaries += run(wd, {**base, "teacher": teacher, "judge_bench": {"sets": sets}}, f"{model}-{name}")
    table = markdown(summaries)
    minutes = ", ".join(f"{s['run']} {s['minutes']:.0f} min" for s in summaries if s["set"] == "world")
    text = "\n".join(
        [
            SECTION,
            "",
            f"Reproduce: `python bench/judge_teachers.py --world {args.world} --champ {args.champ}` "
            f"({time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores; wall time per run: {minutes}).",
            "",
            f"Sets: `world`, {args.world} built-in world test items (half reference solutions, half the oracle's "
            f"injected mistakes, whose wrong step is exact); `champ`, a seeded sample of {args.champ} of CHAMP's 540 "
            "model solutions to competition problems with human first-wrong-step labels (the same items for "
            "every teacher). Teachers: SmolLM2-135M-Instruct (chat prompts) and Gemma 3 270M, a base model "
            "(`teacher.prompt_form: completion`), each behind a CPU `vllm serve` started by the workflow "
            "(config/examples/cpu-real-llm.yaml: T=0.7, up to 200 new tokens), once with each judge prompt "
            "(`packaged`: lemma/prompts/judge_step.md; `judge-neutral`: config/prompts/judge-neutral/). The "
            "oracle's row is the harness check.",
            "",
            table.rstrip(),
            "",
        ]
    )
    print(text)
    if not args.no_write:
        from results import write_section  # the one replace-a-section writer of bench/

        write_section(text, section=SECTION)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
