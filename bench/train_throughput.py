"""Training throughput of lemma.training.finetune.train: packing and length grouping, and MFU.

Default mode (CPU or GPU): the built-in world's tiny student on built-in world problems, four
set-ups measured in one run (interleaved, `--repeats` rounds, median taken so drift on a shared
machine hits all alike):
    padded + random order | padded + length grouping | packed + random | packed + grouping
It reports real (non-padding) tokens/s measured after `--warmup` steps, the share of non-padding
tokens in the batches each set-up feeds the model, and ratios against the plain padded baseline,
then rewrites the "## Training throughput" section of bench/RESULTS.md.

`--mfu` (CUDA only): a ~1B-parameter Llama (random weights, random tokens) trained in bf16 with
the same train(); MFU = 6 × params × tokens/s / peak FLOP/s, peak from `--peak-flops` (default
989e12: H100/H200 dense bf16).

    python bench/train_throughput.py --steps 120 --repeats 2 --threads 2
    python bench/train_throughput.py --mfu --seq-len 2048 --per-device-batch 8
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from transformers import TrainerCallback

from lemma.text.prompting import format_prompt
from lemma.training.finetune import _SeededLengthGroupedSampler, train
from lemma.training.sft_data import iter_token_counts, make_collator, tokenize_examples

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section  # noqa: E402  (the one replace-a-section writer of bench/)

RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## Training throughput"


class StepTimer(TrainerCallback):
    """Wall time and non-padding tokens between the end of step `warmup` and the last step."""

    def __init__(self, warmup: int):
        self.warmup = warmup
        self.t0 = self.tok0 = self.t1 = self.tok1 = None

    def on_step_end(self, args, state, control, **kwargs):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        if state.global_step == self.warmup:
            self.t0, self.tok0 = time.perf_counter(), state.num_input_tokens_seen
        if state.global_step == state.max_steps:
            self.t1, self.tok1 = time.perf_counter(), state.num_input_tokens_seen

    @property
    def tokens_per_s(self) -> float:
        return (self.tok1 - self.tok0) / (self.t1 - self.t0)


def timed_run(model, tok, examples: list[dict], out_dir: Path, args, batch: int, **settings) -> float:
    """Real tokens/s of one train() run: `--steps` steps of `batch` examples on one device, timed
    after `--warmup` steps, with no checkpoint and one log line within the run; `settings` are
    the rest of its TrainParams."""
    timer = StepTimer(args.warmup)
    params = {
        "max_steps": args.steps,
        "save_steps": 10 * args.steps,
        "global_batch": batch,
        "per_device_batch": batch,
        "logging_steps": args.steps,
        "seed": args.seed,
        **settings,
    }
    train(model, tok, examples, str(out_dir), params, callbacks=[timer])
    return timer.tokens_per_s


def world_rows(n: int, seed: int) -> tuple[list[dict], str]:
    try:
        from lemma.world.problems import generate_world
    except ImportError:  # generator not there: a stand-in of the same shape
        rng = random.Random(seed)
        rows = []
        for _ in range(n):
            a, b = rng.randint(2, 12), rng.randint(2, 15)
            c = rng.randint(a * b + 1, a * b + 60)
            rows.append(
                {
                    "question": f"Tom buys {a} pens at {b} dollars each. He pays with {c} dollars. "
                    "How much change does he get?",
                    "solution": f"Step 1: {a} * {b} = {a * b}\nStep 2: {c} - {a * b} = {c - a * b}\n"
                    f"The answer is: {c - a * b}",
                }
            )
        return rows, "stand-in change problems"
    return generate_world(seed, n, 1, 1)["train"], "lemma.world.problems.generate_world"


def padding_share(data, tokenizer, batch: int, packing: bool, grouped: bool, seed: int) -> float:
    """Non-padding share of the tokens in one epoch of the batches the Trainer would build."""
    if grouped:
        order = list(_SeededLengthGroupedSampler(batch, data.lengths, seed))
    else:
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed)).tolist()
    collate = make_collator(tokenizer, packing)
    batches = (collate([data[i] for i in order[k : k + batch]]) for k in range(0, len(order), batch))
    real, total = iter_token_counts(batches)
    return real / total


def bench_student(args) -> dict:
    from lemma.world.student import build_student
    from lemma.world.tokenizer import train_tokenizer

    torch.set_num_threads(args.threads)
    rows, source = world_rows(args.problems, args.seed)
    work = Path(tempfile.mkdtemp(prefix="train_throughput_"))
    tok = train_tokenizer((r["question"] + "\n" + r["solution"] for r in rows), str(work / "tok"))
    examples = [{"prompt": format_prompt(r["question"], "world"), "response": r["solution"]} for r in rows]
    data = tokenize_examples(examples, tok, cutoff_len=512)
    setups = {
        "padded": dict(packing=False, group_by_length=False),
        "padded+grouped": dict(packing=False, group_by_length=True),
        "packed": dict(packing=True, group_by_length=False),
        "packed+grouped": dict(packing=True, group_by_length=True),
    }
    tps: dict[str, list[float]] = {k: [] for k in setups}
    load_before = os.getloadavg()[0]
    for rnd in range(args.repeats):
        for name, opts in setups.items():
            model = build_student(tok, seed=args.seed)
            out = work / f"{name}-{rnd}"
            settings = dict(lr=1e-3, warmup_ratio=0.05, cutoff_len=512, threads=args.threads, **opts)
            tps[name].append(timed_run(model, tok, examples, out, args, args.batch, **settings))
            print(f"round {rnd} {name}: {tps[name][-1]:.0f} tok/s", flush=True)
    share = {
        name: padding_share(data, tok, args.batch, o["packing"], o["group_by_length"], args.seed)
        for name, o in setups.items()
    }
    med = {k: statistics.median(v) for k, v in tps.items()}
    return {
        "source": source,
        "problems": len(rows),
        "mean_tokens": data.n_tokens / len(data),
        "params": sum(p.numel() for p in build_student(tok).parameters()),
        "batch": args.batch,
        "steps": args.steps,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "threads": args.threads,
        "tokens_per_s": med,
        "all_tokens_per_s": tps,
        "non_padding_share": share,
        "ratio_vs_padded": {k: med[k] / med["padded"] for k in med},
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }


def bench_mfu(args) -> dict:
    """The ~1B Llama of bench/gpu_check.py (its model, tokenizer and rows), through timed_run with
    this command's sequence length, batch and steps. bench/gpu_check.sh measures the same beside a
    bare loop, generation and the workflow's stages."""
    if not torch.cuda.is_available():
        raise SystemExit("--mfu needs a CUDA device")
    from dataclasses import replace

    import gpu_check

    sizes = replace(
        gpu_check.GPU, seq_len=args.seq_len, batch=args.per_device_batch, steps=args.steps, warmup=args.warmup
    )
    work = Path(tempfile.mkdtemp(prefix="mfu_"))
    model_dir, n_params = gpu_check.build_model(sizes, work / "model")
    ours = gpu_check.train_ours(sizes, model_dir, work)
    return {
        "params": n_params,
        "seq_len": args.seq_len,
        "per_device_batch": args.per_device_batch,
        "tokens_per_s": ours["tokens_per_s"],
        "peak_memory_gib": ours["peak_memory_gib"],
        "peak_flops": args.peak_flops,
        "mfu": 6 * n_params * ours["tokens_per_s"] / args.peak_flops,
        "device": torch.cuda.get_device_name(),
    }


def render(res: dict, cmd: str) -> str:
    r = res
    lines = [
        SECTION,
        "",
        f"Reproduce: `{cmd}`",
        "",
        f"What: `lemma.training.finetune.train` (transformers Trainer) pre-training the built-in student "
        f"({r['params'] / 1e6:.2f}M params, eager attention, fp32) on {r['problems']} problems from "
        f"{r['source']} (mean {r['mean_tokens']:.0f} tokens per example), batch {r['batch']}, "
        f"{r['steps']} steps per set-up of which the first {r['warmup']} are not timed, {r['repeats']} interleaved "
        f"rounds (median), {r['threads']} CPU thread(s) on {platform.processor() or platform.machine()} "
        f"shared with other jobs (1-min load average {r['load_average'][0]} before, {r['load_average'][1]} after; "
        f"with a busy machine absolute rates are low, the interleaved ratios are the result). "
        f"Peer: the plain padded batch in random order.",
        "",
        "| set-up | real tokens/s | ratio vs padded | non-padding share of batch tokens |",
        "|---|---|---|---|",
    ]
    for k, v in r["tokens_per_s"].items():
        lines.append(f"| {k} | {v:,.0f} | {r['ratio_vs_padded'][k]:.2f}x | {100 * r['non_padding_share'][k]:.1f}% |")
    lines += [
        "",
        "Packing here is padding-free flattening (transformers `DataCollatorWithFlattening`): a micro-batch "
        "becomes one row with restarting position ids and no cross-example attention. With eager attention "
        "the block-diagonal mask is still a full (tokens x tokens) matrix per row, so packing removes padding "
        "but pays quadratic attention over the whole row; with FlashAttention-2 (varlen) on GPU that cost "
        "disappears. Length grouping keeps rows short and removes most padding at no cost, which is why the "
        "built-in student uses it.",
        "",
        "MFU: see the GPU check section below (`bench/gpu_check.sh`, the ~1B Llama in bf16 on one "
        "H100 beside a bare loop); `python bench/train_throughput.py --mfu` runs its training part alone.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--problems", type=int, default=4000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    ap.add_argument("--mfu", action="store_true", help="CUDA: ~1B Llama in bf16, report MFU")
    ap.add_argument("--seq-len", type=int, default=2048)
    ap.add_argument("--per-device-batch", type=int, default=8)
    ap.add_argument("--grad-ckpt", action="store_true")
    ap.add_argument("--attn", default="sdpa")
    ap.add_argument("--peak-flops", type=float, default=989e12)
    args = ap.parse_args(argv)
    if args.warmup >= args.steps:
        ap.error("--warmup must be below --steps")
    cmd = "python bench/train_throughput.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.mfu:
        res = bench_mfu(args)
        print(json.dumps(res, indent=2))
        return 0
    res = bench_student(args)
    print(json.dumps(res, indent=2))
    if not args.no_write:
        write_section(render(res, cmd.strip()), SECTION, RESULTS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
