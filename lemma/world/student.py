"""The built-in world's student: a tiny Llama trained from scratch on reference solutions.

`build_student` makes the randomly initialised model; `pretrain_student` trains the tokenizer and
the model on the world's train problems with the same `lemma.training.finetune.train` every later
fine-tune uses, then measures greedy accuracy on a slice of the train problems for the log.

Why these defaults (calibration measured on 2 CPU cores, recorded in the project's notes):
hidden 128 × 4 layers (~0.7M parameters) learns 1–3 step arithmetic in a few thousand steps;
lr 1e-3 with AdamW betas (0.9, 0.98), weight decay 0.1, 5% warmup, cosine decay to 10% of the peak
and clipping at 1.0 is the stable recipe (2e-3 and above plateau for a seed-dependent time);
the budget is in steps, not seconds, because throughput drifts on shared machines while accuracy
follows the step count; eager attention is faster than the fused kernel at this size; grouping
examples by length cuts padding.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase

from lemma.grading.extract import extract_answer
from lemma.text.prompting import STOP_STRINGS, format_prompt

log = logging.getLogger(__name__)

# Pre-training recipe; any key can be overridden through `params`.
PRETRAIN_DEFAULTS = {
    "hidden": 128,
    "layers": 4,
    "heads": 4,
    "intermediate": None,  # 2 * hidden
    "max_positions": 512,
    "vocab_size": 1024,  # the world's text needs ~820 merges: whole words, digits one by one
    "max_steps": 3500,
    "batch_size": 16,
    "lr": 1e-3,
    "adam_beta1": 0.9,
    "adam_beta2": 0.98,
    "weight_decay": 0.1,
    "warmup_ratio": 0.05,
    "min_lr_ratio": 0.1,
    "max_grad_norm": 1.0,
    "group_by_length": True,
    "packing": False,
    "seed": 0,
    "threads": 2,  # torch intra-op threads; on a CPU shared with other jobs 1 is far faster (no OMP spinning)
    "logging_steps": 50,
    "save_steps": 500,
    "eval_problems": 300,  # greedy accuracy on this many train problems, for the log only
    "eval_batch_size": 64,
    "max_new_tokens": 96,
    "retry_rate": 0.0,  # share of solutions replaced by retry data (lemma.world.retry); 0 = references only
    "retry_phrases": (),  # reflection phrases of the retry data
}


def build_student(
    tokenizer: PreTrainedTokenizerBase,
    hidden: int = 128,
    layers: int = 4,
    heads: int = 4,
    intermediate: int | None = None,
    max_positions: int = 512,
    seed: int = 0,
    tie_embeddings: bool = True,
) -> LlamaForCausalLM:
    """A randomly initialised Llama sized for the tokenizer (hidden 128 × 4 layers ≈ 0.7M params)."""
    if hidden % heads:
        raise ValueError(f"hidden={hidden} must be divisible by heads={heads}")
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=intermediate or 2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=tie_embeddings,
        attn_implementation="eager",
    )
    # Seeding the global generator is how transformers initialises weights; restore it afterwards
    # so building a model does not change anyone else's random stream.
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    finally:
        torch.random.set_rng_state(state)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    return model


@torch.no_grad()
def greedy_accuracy(model, tokenizer, rows: Sequence[dict], batch_size: int = 64, max_new_tokens: int = 96) -> float:
    """Share of `rows` whose greedy completion states the reference answer (a quick log figure;
    the workflow grades properly with lemma.grading)."""
    if not rows:
        return float("nan")
    model.eval()
    side, tokenizer.padding_side = tokenizer.padding_side, "left"  # generation continues at the right end
    stop = STOP_STRINGS["world"][0]
    right = 0
    for i in range(0, len(rows), batch_size):
        chunk = rows[i : i + batch_size]
        enc = tokenizer([format_prompt(r["question"], "world") for r in chunk], return_tensors="pt", padding=True)
        out = model.generate(**enc, do_sample=False, max_new_tokens=max_new_tokens)
        texts = tokenizer.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
        for row, text in zip(chunk, texts):
            # the grader's reading of the answer (the last statement); thousands commas aside
            pred = extract_answer(text.split(stop)[0], "world")
            right += pred is not None and pred.replace(",", "") == str(row["answer"]).replace(",", "").strip()
    tokenizer.padding_side = side
    return right / len(rows)


def pretrain_student(train_rows: Sequence[dict], out_dir: str, params: dict | None = None) -> dict:
    """Train tokenizer + tiny Llama from scratch on `train_rows` (dicts with question, solution,
    answer); the HF-format student lands in `out_dir`. Returns the training summary plus
    `train_accuracy` (greedy, on the first `eval_problems` rows) and `params_count`."""
    from lemma.training.finetune import train  # late import: training pulls in Trainer

    p = {**PRETRAIN_DEFAULTS, **(params or {})}
    unknown = set(p) - set(PRETRAIN_DEFAULTS) - _PASS_THROUGH
    if unknown:
        raise ValueError(f"pretrain_student: unknown params {sorted(unknown)}; known: {sorted(PRETRAIN_DEFAULTS)}")
    for i, row in enumerate(train_rows):
        for field in ("question", "solution"):
            if not isinstance(row.get(field), str) or not row[field].strip():
                raise ValueError(f"pretrain_student: train row {i} has no {field!r} text")
    torch.set_num_threads(int(p["threads"]))
    from lemma.world.tokenizer import train_tokenizer

    eval_source = list(train_rows)  # accuracy is measured on the problems, whatever the solutions
    retry_counts: dict = {}
    if float(p["retry_rate"]) > 0:
        from lemma.world.retry import with_retries

        train_rows, retry_counts = with_retries(train_rows, float(p["retry_rate"]), int(p["seed"]), p["retry_phrases"])
        log.info("retry data: %d of %d solutions (%s)", sum(retry_counts.values()), len(train_rows), retry_counts)
    out = Path(out_dir)
    examples = [{"prompt": format_prompt(r["question"], "world"), "response": r["solution"]} for r in train_rows]
    # The tokenizer learns from exactly the text the model trains on, prompt template included:
    # trained on the bare questions it spelled "Question:" and "Let's think step by step." in
    # ~25 byte-sized pieces, a quarter of every example's tokens, all of them compute.
    # train() saves the tokenizer into the final model dir; this copy is only a scratch file.
    with tempfile.TemporaryDirectory() as tok_dir:
        tokenizer = train_tokenizer(
            (e["prompt"] + e["response"] for e in examples), tok_dir, vocab_size=int(p["vocab_size"])
        )
    model = build_student(
        tokenizer,
        hidden=int(p["hidden"]),
        layers=int(p["layers"]),
        heads=int(p["heads"]),
        intermediate=p["intermediate"],
        max_positions=int(p["max_positions"]),
        seed=int(p["seed"]),
    )
    n_params = sum(t.numel() for t in model.parameters())
    log.info("student: %d parameters, vocab %d, %d train problems", n_params, len(tokenizer), len(train_rows))
    train_params = {
        "max_steps": int(p["max_steps"]),
        "global_batch": int(p["batch_size"]),
        "per_device_batch": int(p["batch_size"]),
        "lr": float(p["lr"]),
        "scheduler": "cosine",
        "min_lr_ratio": float(p["min_lr_ratio"]),
        "warmup_ratio": float(p["warmup_ratio"]),
        "adam_beta1": float(p["adam_beta1"]),
        "adam_beta2": float(p["adam_beta2"]),
        "weight_decay": float(p["weight_decay"]),
        "max_grad_norm": float(p["max_grad_norm"]),
        "group_by_length": bool(p["group_by_length"]),
        "packing": bool(p["packing"]),
        "cutoff_len": int(p["max_positions"]),
        "seed": int(p["seed"]),
        "threads": int(p["threads"]),
        "logging_steps": int(p["logging_steps"]),
        "save_steps": int(p["save_steps"]),
        **{k: p[k] for k in _PASS_THROUGH if k in p},
    }
    summary = train(model, tokenizer, examples, str(out), train_params)
    t0 = time.time()
    eval_rows = eval_source[: int(p["eval_problems"])]
    acc = greedy_accuracy(model, tokenizer, eval_rows, int(p["eval_batch_size"]), int(p["max_new_tokens"]))
    summary.update(
        train_accuracy=acc,
        eval_problems=len(eval_rows),
        eval_seconds=round(time.time() - t0, 1),
        params_count=n_params,
        retry_rows=sum(retry_counts.values()),
        retry_types=retry_counts,
    )
    log.info(
        "student greedy accuracy on %d train problems: %.1f%% (%.1fs)",
        len(eval_rows),
        100 * acc,
        summary["eval_seconds"],
    )
    # An extra report next to the model; written after training's completion marker, so a rerun
    # after a kill here simply retrains (Snakemake removes incomplete outputs anyway).
    (out / "student_pretrain.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


# Keys pretrain_student does not use itself but hands to train() unchanged.
_PASS_THROUGH = {"checkpoint_dir", "keep_checkpoints", "save_total_limit", "log_every"}
