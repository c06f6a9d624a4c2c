"""The train rule's view of lemma.training: config keys → TrainParams, one process or accelerate."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

PROTOCOLS = ("steps", "epochs", "tokens")


def resolve_protocol(training: dict) -> str:
    """The training budget's protocol: `training.protocol`, or (unset) steps when max_steps is set
    and epochs otherwise, so configs written before the key existed keep their meaning."""
    proto = training.get("protocol") or ("steps" if training.get("max_steps") else "epochs")
    if proto not in PROTOCOLS:
        raise ValueError(f"training.protocol: expected one of {PROTOCOLS}, got {proto!r}")
    return proto


def describe_protocol(training: dict) -> str:
    """One line naming the budget, for tables: "steps: 400 steps of 16 examples"."""
    proto, batch = resolve_protocol(training), training["global_batch"]
    if proto == "steps":
        return f"steps: {training['max_steps']} steps of {batch} examples for every variant"
    if proto == "epochs":
        return f"epochs: {training['epochs']:g} passes over each variant's own set, batches of {batch}"
    return f"tokens: {training['max_tokens']} training tokens for every variant, batches of {batch}"


def protocol_steps(training: dict, n_rows: int, n_tokens: int | None = None) -> int:
    """Optimizer steps a variant's set of `n_rows` examples (`n_tokens` tokens, prompt + response,
    without padding) gets under the configured protocol. Every protocol becomes an explicit step
    count, so the budget does not depend on how a transformers version rounds partial epochs:

      steps:  training.max_steps, the same for every variant (a bigger set sees fewer passes);
      epochs: ceil(epochs × rows / global_batch): N passes over each variant's own set, the
              paper's protocol (3 epochs), so a bigger set gets more steps;
      tokens: ceil(max_tokens / (global_batch × tokens per row)): compute-matched, every variant
              sees about the same number of tokens whatever its row length."""
    proto = resolve_protocol(training)
    batch = int(training["global_batch"])
    if n_rows <= 0:
        raise ValueError("protocol_steps: the SFT set is empty")
    if proto == "steps":
        if not training.get("max_steps"):
            raise ValueError("training.protocol is steps but training.max_steps is not set")
        return int(training["max_steps"])
    if proto == "epochs":
        return max(1, math.ceil(float(training["epochs"]) * n_rows / batch))
    if not training.get("max_tokens"):
        raise ValueError("training.protocol is tokens but training.max_tokens is not set")
    if not n_tokens:
        raise ValueError("protocol tokens needs the set's token count")
    return max(1, math.ceil(float(training["max_tokens"]) / (batch * n_tokens / n_rows)))


# `training:` keys that are not TrainParams fields: the budget (turned into max_steps by
# protocol_steps) and where the job runs. Every other key is the TrainParams field of its name.
WORKFLOW_KEYS = ("protocol", "max_tokens", "gpus", "nodes", "accelerate_config", "gpu_memory_gb")


def train_params(training: dict, threads: int, checkpoint_dir: str | None = None, max_steps: int | None = None) -> dict:
    """The workflow's `training:` section as lemma.training.finetune.TrainParams fields: the same
    names, less WORKFLOW_KEYS, with what the rule decides: the job's threads, the protocol's step
    count and the checkpoint directory.

    Checkpoints live outside the rule's output directory: Snakemake deletes an incomplete output
    before it reruns a killed job, and the checkpoints are exactly what the rerun resumes from."""
    p = {k: v for k, v in training.items() if k not in WORKFLOW_KEYS}
    p.update(checkpoint_dir=checkpoint_dir, threads=threads)
    if max_steps is not None:
        p["max_steps"] = max_steps
    return p


def pretrain_params(
    pretrain: dict, seed: int, threads: int, checkpoint_dir: str | None = None, phrases: list[str] | None = None
) -> dict:
    """The `pretrain:` section as lemma.world.student.pretrain_student params (TrainParams names
    where they are TrainParams fields: lr, max_steps; batch_size is both batch sizes there)."""
    p = {
        "max_steps": pretrain["max_steps"],
        "batch_size": pretrain["batch_size"],
        "lr": pretrain["lr"],
        "hidden": pretrain["hidden"],
        "layers": pretrain["layers"],
        "vocab_size": pretrain["vocab_size"],
        "seed": seed,
        "threads": threads,
        "checkpoint_dir": checkpoint_dir,
    }
    if pretrain.get("retry_rate"):
        p.update(retry_rate=pretrain["retry_rate"], retry_phrases=list(phrases or []))
    return p


def count_tokens(model: str, examples: list[dict]) -> int:
    """Tokens of the set as training sees them (prompt with special tokens, response, EOS)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    n = 0
    for ex in examples:
        n += len(tok(ex["prompt"], add_special_tokens=True)["input_ids"])
        n += len(tok(ex["response"], add_special_tokens=False)["input_ids"]) + 1
    return n


def out_parent(out_dir: str) -> str:
    """The directory beside the model's: on the shared filesystem, so every node reads the params."""
    parent = Path(out_dir).resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    return str(parent)


def run_training(
    model: str, sft_path: str, out_dir: str, training: dict, threads: int, checkpoint_dir: str | None = None
) -> dict | None:
    """In this process for CPU or one GPU; through `accelerate launch` with the configured
    accelerate file (DDP, FSDP, ZeRO-2) when the job has several GPUs, and one `accelerate launch`
    per node (lemma.training.launch) when training.nodes > 1. The protocol's budget is
    turned into a step count first (protocol_steps) and recorded in the summary."""
    # here, not at the top: the Snakefile imports this module, and lemma.training imports torch
    from lemma.training.launch import Layout, launch
    from lemma.training.sft_data import load_sft_jsonl

    examples = load_sft_jsonl(sft_path)
    proto = resolve_protocol(training)
    n_tokens = count_tokens(model, examples) if proto == "tokens" else None
    steps = protocol_steps(training, len(examples), n_tokens)
    params = train_params(training, threads, checkpoint_dir, max_steps=steps)
    budget = {"protocol": proto, "steps": steps, "rows": len(examples), "tokens": n_tokens}
    layout = Layout.from_training(training)
    if layout.processes > 1:
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=out_parent(out_dir), delete=False) as f:
            json.dump(params, f)
        try:
            launch(
                layout,
                ["--model", model, "--data", sft_path, "--out", out_dir, "--params", f.name],
                training.get("accelerate_config"),
            )
        finally:
            os.unlink(f.name)
        return {"budget": budget}
    from lemma.training.finetune import train

    summary = train(model, model, examples, out_dir, params)
    summary["budget"] = budget
    return summary
