"""The GPU check: the project's GPU paths measured in one prepared call (issue 26).

    bench/gpu_check.sh [--out DIR]      # on the lent GPU machine (one H100/H200): < 8 min
    bench/gpu_check.sh --dry            # anywhere, on the CPU, tiny sizes, seconds (CI runs it)

Three parts, each beside a bare-PyTorch peer measured in the same run:
1. training: lemma.training.finetune.train (the Trainer set-up the `train` rule uses) on a ~1.1B
   Llama built from a config (random weights, bf16 autocast over fp32 master weights, SDPA,
   sequence length 2048), timed after a warm-up: tokens/s, MFU against the card's dense bf16 peak
   (989 TFLOP/s for H100 SXM) and against a plain 8192^3 bf16 matmul measured here, peak memory;
   and a bare training loop (same model, batches, optimizer, clipping): ours / bare;
2. generation: the `hf` engine sampling n=4 completions of 256 prompts with the same model, and a
   bare `model.generate` on the same prompts: generated tokens/s and the ratio;
3. the workflow's GPU stages on the built-in world, through the functions the rules call
   (pretrain_student, the hf engine, run_training with training.gpus 1, grading), seconds each.
   Snakemake and polars do not travel to the GPU machine (polars' wheel alone is 54 MB of the
   64 MB allowed), so the rules' table wrappers are not part of it.

It writes DIR/gpu_check.md (one Markdown section, the layout bench/RESULTS.md takes) and
DIR/gpu_check.json (every figure). `--dry` prints the same layout from tiny sizes on the CPU: its
figures measure nothing, it checks that the script, its imports and its output cannot rot.
vLLM is not measured: its wheel is far over the size the GPU machine accepts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))  # train_throughput.timed_run

import torch  # noqa: E402

SECTION = "## GPU check"
H100_PEAK = 989e12  # dense bf16 FLOP/s, H100 SXM (H200 the same)
GOALS = {"mfu": 0.40, "train_ratio": 0.95, "generate_ratio": 0.95}


@dataclass(frozen=True)
class Sizes:
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    vocab: int
    seq_len: int
    batch: int
    steps: int
    warmup: int
    prompts: int
    samples: int
    prompt_tokens: int
    new_tokens: int
    gen_batch: int
    matmul: int
    world_train: int
    world_test: int
    pretrain_steps: int
    finetune_steps: int


GPU = Sizes(2048, 16, 32, 8, 5632, 32000, 2048, 8, 220, 20, 256, 4, 128, 128, 64, 8192, 1600, 200, 1500, 300)
DRY = Sizes(64, 2, 4, 2, 128, 512, 64, 2, 6, 2, 8, 4, 16, 8, 8, 256, 40, 10, 4, 3)


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


# ---- the model and data ------------------------------------------------------------------------


def build_model(sizes: Sizes, out: Path) -> tuple[Path, int]:
    """A Llama with random weights and a word-level tokenizer over "w4".."w{vocab-1}" (prompts of
    exact token lengths), saved as a model directory: every path below loads it like a user's."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=sizes.vocab,
        hidden_size=sizes.hidden,
        intermediate_size=sizes.intermediate,
        num_hidden_layers=sizes.layers,
        num_attention_heads=sizes.heads,
        num_key_value_heads=sizes.kv_heads,
        max_position_embeddings=max(sizes.seq_len, sizes.prompt_tokens + sizes.new_tokens),
        tie_word_embeddings=False,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    model = LlamaForCausalLM(cfg)
    # special tokens that no word contains: added tokens match inside words ("t3" would split "t300")
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, **{f"w{i}": i for i in range(4, sizes.vocab)}}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out, sum(p.numel() for p in model.parameters())


def random_text(rng: random.Random, n: int, vocab: int) -> str:
    return " ".join(f"w{rng.randrange(4, vocab)}" for _ in range(n))


def sft_examples(sizes: Sizes) -> list[dict]:
    """Rows of exactly seq_len tokens: half prompt, half response (with BOS and EOS)."""
    rng = random.Random(0)
    half = sizes.seq_len // 2
    n = sizes.batch * (sizes.steps + 2)
    return [
        {"prompt": random_text(rng, half - 1, sizes.vocab), "response": random_text(rng, half - 1, sizes.vocab)}
        for _ in range(n)
    ]


# ---- 1. training -------------------------------------------------------------------------------


def train_ours(sizes: Sizes, model_dir: Path, work: Path) -> dict:
    """tokens/s of lemma.training.finetune.train, the train rule's path (timed_run: no checkpoint,
    timed after the warm-up steps), in bf16 with SDPA attention where there is CUDA."""
    from train_throughput import timed_run

    args = argparse.Namespace(steps=sizes.steps, warmup=sizes.warmup, seed=0)
    settings = {
        "lr": 1e-5,
        "cutoff_len": sizes.seq_len,
        "keep_checkpoints": False,
        "attn_implementation": "sdpa",
        "bf16": torch.cuda.is_available(),
        "max_grad_norm": 1.0,
    }
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    tps = timed_run(str(model_dir), str(model_dir), sft_examples(sizes), work / "ours", args, sizes.batch, **settings)
    peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    return {"tokens_per_s": tps, "peak_memory_gib": peak}


def train_bare(sizes: Sizes, model_dir: Path) -> dict:
    """The peer: a plain PyTorch loop on the same model and rows (prompt tokens masked out of the
    loss, as ours does), AdamW, gradient clipping at 1.0, bf16 autocast."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dev = device()
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa").to(dev)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    rows = sft_examples(sizes)
    batches = []
    for i in range(sizes.steps):
        ids, labels = [], []
        for ex in rows[i * sizes.batch : (i + 1) * sizes.batch]:
            p = tok(ex["prompt"], add_special_tokens=True)["input_ids"]
            r = tok(ex["response"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
            ids.append(p + r)
            labels.append([-100] * len(p) + r)
        batches.append((torch.tensor(ids), torch.tensor(labels)))
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    tokens = t0 = 0
    for step, (ids, labels) in enumerate(batches, 1):
        ids, labels = ids.to(dev, non_blocking=True), labels.to(dev, non_blocking=True)
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=torch.cuda.is_available()):
            loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if step == sizes.warmup:
            sync()
            t0 = time.perf_counter()
        elif step > sizes.warmup:
            tokens += ids.numel()
    sync()
    peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    del model, opt
    return {"tokens_per_s": tokens / (time.perf_counter() - t0), "peak_memory_gib": peak}


def matmul_flops(n: int, repeats: int = 20) -> float:
    """FLOP/s of a plain n x n x n bf16 matmul (fp32 on the CPU): what this card reaches at best."""
    dev = device()
    dtype = torch.bfloat16 if dev == "cuda" else torch.float32
    a, b = torch.randn(n, n, device=dev, dtype=dtype), torch.randn(n, n, device=dev, dtype=dtype)
    for _ in range(3):
        a @ b
    sync()
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync()
    return 2 * n**3 * repeats / (time.perf_counter() - t0)


# ---- 2. generation -----------------------------------------------------------------------------


def gen_prompts(sizes: Sizes) -> list[str]:
    rng = random.Random(1)
    return [random_text(rng, sizes.prompt_tokens, sizes.vocab) for _ in range(sizes.prompts)]


def generate_ours(sizes: Sizes, model_dir: Path) -> dict:
    """The hf engine (lemma.engines.hf, as sample_student builds it): n samples per prompt at T=0.7."""
    from lemma.engines.base import Request, SamplingParams
    from lemma.engines.factory import build_engine

    engine = build_engine({"engine": "hf", "model": str(model_dir), "batch_size": sizes.gen_batch, "dtype": "bfloat16"})
    params = SamplingParams(temperature=0.7, top_p=1.0, max_new_tokens=sizes.new_tokens, n=sizes.samples, seed=0)
    requests = [Request(prompt=p, params=params) for p in gen_prompts(sizes)]
    sync()
    t0 = time.perf_counter()
    out = engine.generate(requests)
    sync()
    seconds = time.perf_counter() - t0
    tokens = sum(c.completion_tokens for group in out for c in group)
    del engine
    return {"tokens_per_s": tokens / seconds, "tokens": tokens, "seconds": seconds}


def generate_bare(sizes: Sizes, model_dir: Path) -> dict:
    """The peer: `model.generate` on the same prompts, same batch of prompts, same sampling."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dev = device()
    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16).to(dev).eval()
    prompts = gen_prompts(sizes)
    torch.manual_seed(0)
    sync()
    t0, tokens = time.perf_counter(), 0
    for i in range(0, len(prompts), sizes.gen_batch):
        enc = tok(prompts[i : i + sizes.gen_batch], return_tensors="pt", padding=True).to(dev)
        with torch.no_grad():
            out = model.generate(
                **enc,
                do_sample=True,
                temperature=0.7,
                top_p=1.0,
                max_new_tokens=sizes.new_tokens,
                num_return_sequences=sizes.samples,
                pad_token_id=tok.pad_token_id,
            )
        new = out[:, enc["input_ids"].shape[1] :]
        # generated tokens up to and including EOS, as the engine counts them
        for row in new.tolist():
            tokens += row.index(tok.eos_token_id) + 1 if tok.eos_token_id in row else len(row)
    sync()
    seconds = time.perf_counter() - t0
    del model
    return {"tokens_per_s": tokens / seconds, "tokens": tokens, "seconds": seconds}


# ---- 3. the workflow's GPU stages --------------------------------------------------------------


def workflow_stages(sizes: Sizes, work: Path) -> dict:
    """The built-in world through the functions the GPU rules call, on this machine's device."""
    from lemma.engines.base import Request, SamplingParams
    from lemma.engines.factory import build_engine
    from lemma.grading import grade
    from lemma.pipeline.training import run_training
    from lemma.text.prompting import format_prompt
    from lemma.world.problems import generate_world
    from lemma.world.student import pretrain_student

    seconds: dict[str, float] = {}

    def timed(name, fn):
        t0 = time.perf_counter()
        result = fn()
        sync()
        seconds[name] = time.perf_counter() - t0
        return result

    world = generate_world(seed=7, n_train=sizes.world_train, n_test=sizes.world_test, n_test_ood=sizes.world_test)
    base = work / "base"
    timed("pretrain_student", lambda: pretrain_student(world["train"], str(base), {"max_steps": sizes.pretrain_steps}))

    def sample():
        engine = build_engine({"engine": "hf", "model": str(base), "batch_size": 128})
        params = SamplingParams(temperature=0.7, top_p=1.0, max_new_tokens=96, n=4, seed=0)
        reqs = [Request(prompt=format_prompt(r["question"], "world"), params=params) for r in world["train"]]
        return engine.generate(reqs)

    samples = timed("sample_student", sample)
    sft = work / "sft.jsonl"
    sft.write_text(
        "".join(
            json.dumps({"prompt": format_prompt(r["question"], "world"), "response": r["solution"]}) + "\n"
            for r in world["train"]
        )
    )
    training = {
        "lr": 3e-4,
        "scheduler": "cosine",
        "warmup_ratio": 0.03,
        "epochs": 1,
        "max_steps": sizes.finetune_steps,
        "per_device_batch": 16,
        "global_batch": 16,
        "cutoff_len": 256,
        "gpus": 1 if torch.cuda.is_available() else 0,
        "nodes": 1,
        "accelerate_config": None,
        "seed": 0,
    }
    timed("train", lambda: run_training(str(base), str(sft), str(work / "sft_model"), training, threads=2))

    def evaluate():
        engine = build_engine({"engine": "hf", "model": str(work / "sft_model"), "batch_size": 128})
        params = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=96, n=1, seed=0)
        out = engine.generate(
            [Request(prompt=format_prompt(r["question"], "world"), params=params) for r in world["test"]]
        )
        return [grade(o[0].text, r["answer"]).correct for o, r in zip(out, world["test"])]

    correct = timed("evaluate", evaluate)
    right_samples = sum(grade(c.text, r["answer"]).correct for group, r in zip(samples, world["train"]) for c in group)
    return {
        "seconds": seconds,
        "checkpoint_written": (work / "sft_model" / "model.safetensors").exists(),
        "train_samples_right": right_samples / max(1, 4 * len(world["train"])),
        "test_accuracy": sum(correct) / max(1, len(correct)),
    }


# ---- report ------------------------------------------------------------------------------------


def render(res: dict, cmd: str) -> str:
    t, g, w = res["training"], res["generation"], res["workflow"]
    dry = res["dry"]
    head = (
        "Dry run (CPU, tiny sizes): the layout of the GPU run's figures; the numbers measure nothing."
        if dry
        else f"Measured on {res['device']} ({res['date']}), torch {res['torch']}, transformers {res['transformers']}."
    )
    mem = lambda x: "–" if x is None else f"{x:.1f} GiB"  # noqa: E731
    lines = [
        SECTION,
        "",
        head,
        f"Command: `{cmd}`",
        "",
        f"Training: a {t['params'] / 1e9:.2f}B-parameter Llama (random weights), sequence {t['seq_len']}, "
        f"batch {t['batch']}, {t['steps']} steps of which {t['warmup']} warm-up, bf16 autocast, SDPA.",
        "",
        "| training | tokens/s | MFU (card peak) | MFU (measured matmul) | peak memory |",
        "|---|---|---|---|---|",
        f"| lemma.training (Trainer) | {t['ours']['tokens_per_s']:,.0f} | {100 * t['mfu_peak']:.1f}% | "
        f"{100 * t['mfu_matmul']:.1f}% | {mem(t['ours']['peak_memory_gib'])} |",
        f"| bare PyTorch loop | {t['bare']['tokens_per_s']:,.0f} | {100 * t['bare_mfu_peak']:.1f}% | "
        f"{100 * t['bare_mfu_matmul']:.1f}% | {mem(t['bare']['peak_memory_gib'])} |",
        "",
        f"Ours ÷ bare: **{t['ratio']:.2f}x** (goal ≥ {GOALS['train_ratio']}x). Card peak {t['peak_flops'] / 1e12:.0f} "
        f"TFLOP/s; a plain {t['matmul_n']}³ matmul reached {t['matmul_flops'] / 1e12:.1f} TFLOP/s here. "
        f"MFU goal ≥ {100 * GOALS['mfu']:.0f}% of the card peak.",
        "",
        f"Generation: {g['prompts']} prompts of {g['prompt_tokens']} tokens, n={g['samples']}, up to "
        f"{g['new_tokens']} new tokens, T=0.7, batches of {g['batch']} prompts, bf16.",
        "",
        "| generation | generated tokens/s | seconds |",
        "|---|---|---|",
        f"| `hf` engine | {g['ours']['tokens_per_s']:,.0f} | {g['ours']['seconds']:.1f} |",
        f"| bare `model.generate` | {g['bare']['tokens_per_s']:,.0f} | {g['bare']['seconds']:.1f} |",
        "",
        f"Ours ÷ bare: **{g['ratio']:.2f}x** (goal ≥ {GOALS['generate_ratio']}x).",
        "",
        "| workflow stage (built-in world) | seconds |",
        "|---|---|",
        *(f"| {k} | {v:.1f} |" for k, v in w["seconds"].items()),
        "",
        f"Checkpoint written: {'yes' if w['checkpoint_written'] else 'NO'}; student samples right "
        f"{100 * w['train_samples_right']:.1f}%, fine-tuned model on test {100 * w['test_accuracy']:.1f}%.",
        "",
    ]
    return "\n".join(lines)


def run(sizes: Sizes, dry: bool, out: Path, cmd: str) -> dict:
    import transformers

    work = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    peak = H100_PEAK
    model_dir, n_params = build_model(sizes, work / "model")
    t0 = time.perf_counter()
    ours = train_ours(sizes, model_dir, work)
    bare = train_bare(sizes, model_dir)
    mm = matmul_flops(sizes.matmul)
    per_token = 6 * n_params
    training = {
        "params": n_params,
        "seq_len": sizes.seq_len,
        "batch": sizes.batch,
        "steps": sizes.steps,
        "warmup": sizes.warmup,
        "ours": ours,
        "bare": bare,
        "ratio": ours["tokens_per_s"] / bare["tokens_per_s"],
        "peak_flops": peak,
        "matmul_n": sizes.matmul,
        "matmul_flops": mm,
        "mfu_peak": per_token * ours["tokens_per_s"] / peak,
        "mfu_matmul": per_token * ours["tokens_per_s"] / mm,
        "bare_mfu_peak": per_token * bare["tokens_per_s"] / peak,
        "bare_mfu_matmul": per_token * bare["tokens_per_s"] / mm,
        "seconds": time.perf_counter() - t0,
    }
    t0 = time.perf_counter()
    g_ours, g_bare = generate_ours(sizes, model_dir), generate_bare(sizes, model_dir)
    generation = {
        "prompts": sizes.prompts,
        "prompt_tokens": sizes.prompt_tokens,
        "samples": sizes.samples,
        "new_tokens": sizes.new_tokens,
        "batch": sizes.gen_batch,
        "ours": g_ours,
        "bare": g_bare,
        "ratio": g_ours["tokens_per_s"] / g_bare["tokens_per_s"],
        "seconds": time.perf_counter() - t0,
    }
    workflow = workflow_stages(sizes, work / "world")
    res = {
        "dry": dry,
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else platform.processor() or "cpu",
        "date": time.strftime("%Y-%m-%d"),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sizes": asdict(sizes),
        "goals": GOALS,
        "training": training,
        "generation": generation,
        "workflow": workflow,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.json").write_text(json.dumps(res, indent=2) + "\n")
    text = render(res, cmd)
    (out / "gpu_check.md").write_text(text)
    print(text)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dry", action="store_true", help="tiny sizes on the CPU: checks the script, measures nothing")
    ap.add_argument("--out", default="gpu_check_out", help="where gpu_check.md and gpu_check.json go")
    ap.add_argument("--modules-out", help="also write the top-level modules imported (the wheel list's test)")
    args = ap.parse_args(argv)
    if not args.dry and not torch.cuda.is_available():
        ap.error("no CUDA device: run with --dry, or on the GPU machine")
    if args.dry:
        torch.set_num_threads(min(2, os.cpu_count() or 1))
    cmd = "bench/gpu_check.sh" + (" --dry" if args.dry else "")
    run(DRY if args.dry else GPU, args.dry, Path(args.out), cmd)
    if args.modules_out:
        names = sorted({m.split(".")[0] for m in list(sys.modules) if not m.startswith("_")})
        Path(args.modules_out).write_text("\n".join(names) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
