"""One training path for everything: pre-training the built-in student and fine-tuning every variant.

`train(model, tokenizer, examples, out_dir, params)` runs a transformers `Trainer` over
{"prompt", "response"} examples with the loss on response tokens only (lemma.training.sft_data).
Defaults are the paper's full fine-tune: lr 1e-5, cosine, warmup 3%, 3 epochs, global batch 256,
cutoff 4096, bf16 on GPU (fp32 on CPU), no packing.

Layout of `out_dir` when done (the workflow's output is the directory):
    config.json, model.safetensors, generation_config.json, tokenizer files   (HF format)
    curves.csv, curves.png                                                  (training curves)
    training_complete.json                                                  (written last)
Checkpoints go to `out_dir/checkpoints` (or params["checkpoint_dir"], e.g. outside a Snakemake
output that Snakemake would delete on failure); a rerun after a kill resumes from the newest
complete one, provided the params and data are the same (else it starts over and says so).

Launch on several GPUs with accelerate (see config/accelerate/*.yaml):
    accelerate launch --config_file config/accelerate/zero2.yaml -m lemma.training.finetune \
        --model BASE_DIR --data sft.jsonl --out OUT_DIR --params params.json
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

import torch
from accelerate import PartialState
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from transformers.trainer_pt_utils import LengthGroupedSampler, get_length_grouped_indices

from lemma.report.curves import plot_curves, write_curves_csv
from lemma.training.callbacks import CurvesCallback, LogLineCallback, NoCheckpointAtTheEnd, quiet_progress_bars
from lemma.training.params import TrainParams, grad_accum_steps
from lemma.training.sft_data import load_sft_jsonl, make_collator, tokenize_examples

log = logging.getLogger(__name__)


COMPLETE_MARKER = "training_complete.json"
RUN_KEY_FILE = "run_key.json"
# Names that mark a directory as one train() wrote (so clearing it on a fresh start is safe).
_OUR_FILES = {COMPLETE_MARKER, "checkpoints", "curves.csv", "config.json", "model.safetensors"}


class _SeededLengthGroupedSampler(LengthGroupedSampler):
    """Length grouping whose shuffle depends only on (seed, epoch): the stock sampler draws from the
    global RNG when iterated, which a resumed run has in another state, so its order would differ."""

    def __init__(self, batch_size: int, lengths: list[int], seed: int):
        super().__init__(batch_size, lengths=lengths)
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=g))


class _SFTTrainer(Trainer):
    def __init__(self, *args, group_lengths: list[int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._group_lengths = group_lengths

    def _get_train_sampler(self, train_dataset=None):
        if self._group_lengths is None:
            return super()._get_train_sampler(train_dataset)
        mega = self.args.train_batch_size * self.args.gradient_accumulation_steps
        return _SeededLengthGroupedSampler(mega, self._group_lengths, self.args.data_seed or self.args.seed)


def _world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def _is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _last_complete_checkpoint(ckpt_dir: Path) -> Path | None:
    """Newest checkpoint-N whose trainer_state.json (the Trainer writes it last) parses."""
    if not ckpt_dir.is_dir():
        return None
    found = []
    for d in ckpt_dir.iterdir():
        if d.is_dir() and d.name.startswith("checkpoint-") and d.name[11:].isdigit():
            found.append((int(d.name[11:]), d))
    for _, d in sorted(found, reverse=True):
        try:
            json.loads((d / "trainer_state.json").read_text())
        except (OSError, ValueError):
            log.warning("ignoring incomplete checkpoint %s", d)
            continue
        return d
    return None


def _run_key(params: TrainParams, examples: list[dict], model_desc: str) -> str:
    """What a checkpoint must match to be resumed: params (minus bookkeeping), data and base model."""
    p = dataclasses.asdict(params)
    for k in ("log_every", "checkpoint_dir", "keep_checkpoints", "threads", "dataloader_num_workers"):
        p.pop(k)
    h = hashlib.sha256(json.dumps(p, sort_keys=True).encode())
    h.update(model_desc.encode())
    for ex in examples:
        h.update(json.dumps([ex["prompt"], ex["response"]]).encode())
    return h.hexdigest()


def _training_args(p: TrainParams, ckpt_dir: Path, n_examples: int, tty: bool) -> TrainingArguments:
    use_cuda = torch.cuda.is_available()
    bf16 = use_cuda and (p.bf16 if p.bf16 is not None else True)
    if p.bf16 and not use_cuda:
        log.warning("bf16 requested but no CUDA device: training in fp32 on CPU")
    world = _world_size()
    accum = grad_accum_steps(p.global_batch, p.per_device_batch, world)
    scheduler, sched_kwargs = p.scheduler, {}
    if p.scheduler == "cosine" and p.min_lr_ratio:
        scheduler, sched_kwargs = "cosine_with_min_lr", {"min_lr_rate": p.min_lr_ratio}
    if p.max_steps:
        save = {"save_strategy": "steps", "save_steps": p.save_steps or max(1, p.max_steps // 5)}
    else:
        save = {"save_strategy": "epoch"}
    if n_examples < p.global_batch:
        log.warning("only %d examples for a global batch of %d: one short step per epoch", n_examples, p.global_batch)
    return TrainingArguments(
        output_dir=str(ckpt_dir),
        per_device_train_batch_size=p.per_device_batch,
        gradient_accumulation_steps=accum,
        num_train_epochs=p.epochs,
        max_steps=p.max_steps or -1,
        learning_rate=p.lr,
        lr_scheduler_type=scheduler,
        lr_scheduler_kwargs=sched_kwargs,
        weight_decay=p.weight_decay,
        adam_beta1=p.adam_beta1,
        adam_beta2=p.adam_beta2,
        adam_epsilon=p.adam_epsilon,
        max_grad_norm=p.max_grad_norm,
        optim=p.optim,
        seed=p.seed,
        data_seed=p.seed,
        bf16=bf16,
        use_cpu=not use_cuda,
        logging_strategy="steps",
        logging_steps=p.logging_steps,
        save_total_limit=p.save_total_limit,
        include_num_input_tokens_seen="non_padding",
        disable_tqdm=not tty,
        report_to="none",
        remove_unused_columns=False,
        dataloader_num_workers=p.dataloader_num_workers,
        deepspeed=p.deepspeed,
        **save,
        **_renamed_args(p),
    )


def _renamed_args(p: TrainParams) -> dict:
    """Arguments transformers 5 renamed: pass whichever spelling this version has."""
    fields = TrainingArguments.__dataclass_fields__
    out = {}
    if "warmup_ratio" in fields:  # transformers 4.x
        out["warmup_ratio"] = p.warmup_ratio
    else:  # 5.x: a float in [0, 1) is a ratio of the total steps
        out["warmup_steps"] = p.warmup_ratio
    key = "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"
    out[key] = p.gradient_checkpointing
    return out


def _load_model(model, p: TrainParams) -> PreTrainedModel:
    if isinstance(model, PreTrainedModel):
        return model
    kwargs = {"dtype": getattr(torch, p.model_dtype)}
    if p.attn_implementation:
        kwargs["attn_implementation"] = p.attn_implementation
    return AutoModelForCausalLM.from_pretrained(str(model), **kwargs)


def _prepare_dirs(out: Path, ckpt_dir: Path, run_key: str) -> Path | None:
    """Make the dirs, drop a stale completion marker, and return the checkpoint to resume from
    (None: fresh start, after clearing what an earlier run with other params/data left)."""
    if ckpt_dir.resolve() == out.resolve():
        raise ValueError(f"checkpoint_dir must differ from the output dir {out}")
    out.mkdir(parents=True, exist_ok=True)
    names = {c.name for c in out.iterdir()}
    if names and not names & _OUR_FILES:
        # A fresh start clears out_dir: refuse to do that to a directory this code did not write.
        raise ValueError(
            f"output dir {out} holds files that are not a training run's ({sorted(names)[:5]}...); "
            "give an empty or new directory"
        )
    (out / COMPLETE_MARKER).unlink(missing_ok=True)  # never leave an old "done" on a new run
    key_file = ckpt_dir / RUN_KEY_FILE
    resume = _last_complete_checkpoint(ckpt_dir)
    if resume is not None:
        old_key = json.loads(key_file.read_text()).get("key") if key_file.exists() else None
        if old_key != run_key:
            log.warning("checkpoints in %s are from other params/data: starting over", ckpt_dir)
            shutil.rmtree(ckpt_dir)
            resume = None
    if resume is None:
        for child in out.iterdir():  # a fresh start: nothing from an earlier run may survive
            if child.resolve() == ckpt_dir.resolve():
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        if ckpt_dir.exists():
            shutil.rmtree(ckpt_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    key_file.write_text(json.dumps({"key": run_key}) + "\n")
    return resume


def train(
    model: str | Path | PreTrainedModel,
    tokenizer: str | Path | PreTrainedTokenizerBase | None,
    examples: list[dict],
    out_dir: str | Path,
    params: dict | TrainParams | None = None,
    callbacks: list[TrainerCallback] | None = None,
) -> dict:
    """Train `model` (a HF model dir or an in-memory model, e.g. a fresh student) on SFT
    `examples` and write the HF-format result to `out_dir`. Returns a summary dict."""
    p = params if isinstance(params, TrainParams) else TrainParams.from_dict(params)
    if p.threads:
        torch.set_num_threads(p.threads)
    out = Path(out_dir)
    ckpt_dir = Path(p.checkpoint_dir) if p.checkpoint_dir else out / "checkpoints"
    if tokenizer is None:
        tokenizer = model if not isinstance(model, PreTrainedModel) else None
        if tokenizer is None:
            raise ValueError("train: give a tokenizer when the model is an in-memory object")
    if not isinstance(tokenizer, PreTrainedTokenizerBase):
        tokenizer = AutoTokenizer.from_pretrained(str(tokenizer))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token  # Llama-3 has none; padding is masked anyway
    tty = sys.stdout.isatty()
    main = _is_main_process()

    model_desc = str(model) if not isinstance(model, PreTrainedModel) else model.config.to_json_string()
    run_key = _run_key(p, examples, model_desc)
    # Rank 0 decides whether to resume (and clears stale state) before the other ranks look.
    with PartialState().main_process_first() if _world_size() > 1 else contextlib.nullcontext():
        resume = _prepare_dirs(out, ckpt_dir, run_key) if main else _last_complete_checkpoint(ckpt_dir)

    data = tokenize_examples(examples, tokenizer, p.cutoff_len)
    args = _training_args(p, ckpt_dir, len(data), tty)
    model = _load_model(model, p)
    # No KV cache in training; packing also depends on it: transformers derives the per-example
    # attention mask from restarting position_ids only when there is no cache.
    model.config.use_cache = False
    if p.packing and "flash" not in str(getattr(model.config, "_attn_implementation", "")):
        # Correct (block-diagonal mask from position_ids) but the mask is a full matrix over the
        # whole packed row: with short examples this is slower than padding (bench/RESULTS.md).
        log.warning(
            "packing with %s attention computes attention over the whole packed row; "
            "it pays off with flash_attention_2",
            model.config._attn_implementation,
        )
    cbs = [CurvesCallback(out / "curves.csv"), NoCheckpointAtTheEnd(), *(callbacks or [])]
    if not tty:
        cbs.append(LogLineCallback(p.log_every or p.logging_steps))
    trainer = _SFTTrainer(
        model=model,
        args=args,
        train_dataset=data,
        data_collator=make_collator(tokenizer, p.packing),
        processing_class=tokenizer,
        callbacks=cbs,
        group_lengths=data.lengths if p.group_by_length else None,
    )
    if not tty:
        trainer.remove_callback(PrinterCallback)  # dict dumps; LogLineCallback writes readable lines
        trainer.remove_callback(ProgressCallback)
    log.info(
        "train: %d examples (%d truncated, %d dropped), %d tokens, grad_accum %d, world %d, resume %s",
        len(data),
        data.truncated,
        data.dropped,
        data.n_tokens,
        args.gradient_accumulation_steps,
        _world_size(),
        resume,
    )
    t0 = time.time()
    with quiet_progress_bars(not tty):
        result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    seconds = time.time() - t0

    summary = {
        "steps": int(trainer.state.global_step),
        "epochs": float(trainer.state.epoch or 0.0),
        "train_loss": float(result.training_loss),
        "final_loss": next((e["loss"] for e in reversed(trainer.state.log_history) if "loss" in e), None),
        "seconds": round(seconds, 2),
        "tokens": int(trainer.state.num_input_tokens_seen),
        "examples": len(data),
        "truncated": data.truncated,
        "dropped": data.dropped,
        "grad_accum": args.gradient_accumulation_steps,
        "world_size": _world_size(),
        "resumed_from": resume.name if resume else None,
    }
    # Save the final model next to the checkpoints, then move the files into out_dir, marker last.
    staging = ckpt_dir / "final.tmp"
    if trainer.is_world_process_zero() and staging.exists():
        shutil.rmtree(staging)
    with quiet_progress_bars(not tty):
        trainer.save_model(str(staging))  # gathers ZeRO/FSDP shards; writes on the main process
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(staging))
        for f in staging.iterdir():
            os.replace(f, out / f.name)
        staging.rmdir()
        rows = write_curves_csv(trainer.state.log_history, out / "curves.csv")
        if rows:
            plot_curves(rows, out / "curves.png", title=out.name)
        if not p.keep_checkpoints and ckpt_dir.resolve() != out.resolve():
            shutil.rmtree(ckpt_dir)
        tmp = out / (COMPLETE_MARKER + ".tmp")
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
        os.replace(tmp, out / COMPLETE_MARKER)
    log.info("train: done in %.0fs, %d steps, loss %.4f", seconds, summary["steps"], summary["train_loss"])
    return summary


def is_complete(out_dir: str | Path) -> bool:
    return (Path(out_dir) / COMPLETE_MARKER).exists()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lemma.training.finetune", description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="base model directory (HF format)")
    ap.add_argument("--data", required=True, help="SFT jsonl with 'prompt' and 'response' per row")
    ap.add_argument("--out", required=True, help="output directory for the fine-tuned model")
    ap.add_argument("--params", help="JSON file with training params (see TrainParams)")
    ap.add_argument("--tokenizer", help="tokenizer directory (default: the model directory)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    params = json.loads(Path(args.params).read_text()) if args.params else {}
    summary = train(args.model, args.tokenizer or args.model, load_sft_jsonl(args.data), args.out, params)
    if _is_main_process():
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
