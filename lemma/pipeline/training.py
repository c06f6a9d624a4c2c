"""The train rule's view of lemma.training: config keys → TrainParams, one process or accelerate."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile


def train_params(training: dict, threads: int, checkpoint_dir: str | None = None) -> dict:
    """The workflow's `training:` section as lemma.training.finetune.TrainParams fields.

    Checkpoints live outside the rule's output directory: Snakemake deletes an incomplete output
    before it reruns a killed job, and the checkpoints are exactly what the rerun resumes from."""
    p = {
        "checkpoint_dir": checkpoint_dir,
        "learning_rate": training["lr"],
        "lr_scheduler": training["scheduler"],
        "warmup_ratio": training["warmup_ratio"],
        "num_epochs": training["epochs"],
        "max_steps": training["max_steps"],
        "per_device_batch_size": training["per_device_batch"],
        "global_batch_size": training["global_batch"],
        "cutoff_len": training["cutoff_len"],
        "packing": training["packing"],
        "gradient_checkpointing": training["gradient_checkpointing"],
        "weight_decay": training["weight_decay"],
        "seed": training["seed"],
        "threads": threads,
    }
    return p


def pretrain_params(pretrain: dict, seed: int, threads: int, checkpoint_dir: str | None = None) -> dict:
    return {"max_steps": pretrain["max_steps"], "batch_size": pretrain["batch_size"], "learning_rate": pretrain["lr"],
            "hidden": pretrain["hidden"], "layers": pretrain["layers"], "seed": seed, "threads": threads,
            "checkpoint_dir": checkpoint_dir}


def run_training(model: str, sft_path: str, out_dir: str, training: dict, threads: int,
                 checkpoint_dir: str | None = None) -> dict | None:
    """In this process for CPU or one GPU; through `accelerate launch` with the configured
    accelerate file (DDP, FSDP, ZeRO-2) when the job has several GPUs."""
    params = train_params(training, threads, checkpoint_dir)
    if training["gpus"] > 1:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(params, f)
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(training["gpus"])]
        if training["accelerate_config"]:
            cmd += ["--config_file", training["accelerate_config"]]
        cmd += ["-m", "lemma.training.finetune", "--model", model, "--data", sft_path, "--out", out_dir, "--params", f.name]
        subprocess.run(cmd, check=True)
        return None
    from lemma.training.finetune import train
    from lemma.training.sft_data import load_sft_jsonl

    return train(model, model, load_sft_jsonl(sft_path), out_dir, params)
