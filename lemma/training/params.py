"""The fine-tune's settings (`TrainParams`, the workflow's `training:` keys of the same names) and
the gradient accumulation that keeps the effective batch whatever the number of processes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass
class TrainParams:
    lr: float = 1e-5  # peak learning rate
    scheduler: str = "cosine"  # any transformers SchedulerType; cosine + min_lr_ratio -> cosine_with_min_lr
    min_lr_ratio: float | None = None  # cosine floor as a share of the peak lr (None: decay to 0)
    warmup_ratio: float = 0.03
    epochs: float = 3.0
    max_steps: int | None = None  # when set, overrides epochs; checkpoints every save_steps
    global_batch: int = 256  # = per_device_batch × grad_accum × world_size
    per_device_batch: int = 4
    cutoff_len: int = 4096
    packing: bool = False
    group_by_length: bool = False
    gradient_checkpointing: bool = False
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    optim: str = "adamw_torch"
    seed: int = 42
    bf16: bool | None = None  # None: bf16 iff CUDA is available; never on CPU
    model_dtype: str = "float32"  # dtype the weights are loaded in (master weights; bf16 is autocast)
    attn_implementation: str | None = None  # None: the model's default
    logging_steps: int = 10
    log_every: int | None = None  # progress line period when stdout is not a TTY (default logging_steps)
    save_steps: int | None = None  # with max_steps; default max_steps // 5
    save_total_limit: int = 2
    checkpoint_dir: str | None = None  # default out_dir/checkpoints
    keep_checkpoints: bool = False  # keep them after success (big for real models)
    threads: int | None = None  # torch intra-op threads (CPU)
    deepspeed: str | None = None  # path to a DeepSpeed json (or set it in the accelerate config)
    dataloader_num_workers: int = 0

    @classmethod
    def from_dict(cls, d: dict | None) -> TrainParams:
        d = dict(d or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown training params {unknown}; known: {sorted(known)}")
        p = cls(**d)
        if p.max_steps is not None and p.max_steps <= 0:
            raise ValueError(f"max_steps must be positive, got {p.max_steps}")
        if not 0 <= p.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {p.warmup_ratio}")
        return p


def grad_accum_steps(global_batch: int, per_device: int, world_size: int) -> int:
    """Accumulation so that per_device × accum × world_size == global_batch, exactly."""
    per_step = per_device * world_size
    if global_batch % per_step:
        raise ValueError(
            f"global_batch={global_batch} is not a multiple of per_device_batch={per_device} × "
            f"world_size={world_size} = {per_step}"
        )
    return global_batch // per_step
