"""What the fine-tune reports and decides at each step: the progress line in the log, the training
curves (curves.csv, main process only), no checkpoint after the last step, and tqdm bars kept out
of log files."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from pathlib import Path

from transformers import (
    TrainerCallback,
)
from transformers.utils import logging as hf_logging

from lemma.report.curves import write_curves_csv

log = logging.getLogger(__name__)


class NoCheckpointAtTheEnd(TrainerCallback):
    """No checkpoint at the last step: resuming from one makes transformers run one step more
    (it steps before it checks max_steps), so a job killed between that save and the final model
    would end with other weights. The finished run is saved as the final model anyway."""

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= state.max_steps:
            control.should_save = False
        return control

    on_epoch_end = on_step_end


class LogLineCallback(TrainerCallback):
    """One plain line per `every` steps (for log files: no progress bar, no carriage returns)."""

    def __init__(self, every: int, stream=None):
        self.every = max(1, every)
        self.stream = stream or sys.stdout
        self._t0 = None
        self._step0 = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self._t0, self._step0 = time.perf_counter(), state.global_step
        if state.is_world_process_zero:
            print(
                f"training: {state.max_steps} steps, starting at step {state.global_step}", file=self.stream, flush=True
            )

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "loss" not in logs:
            return
        step = state.global_step
        if step % self.every and step != state.max_steps:
            return
        elapsed = time.perf_counter() - self._t0
        done = step - self._step0
        eta = elapsed / done * (state.max_steps - step) if done else float("nan")
        parts = [
            f"step {step}/{state.max_steps}",
            f"epoch {state.epoch:.2f}",
            f"loss {logs['loss']:.4f}",
            f"lr {logs.get('learning_rate', float('nan')):.3g}",
            f"grad_norm {logs.get('grad_norm', float('nan')):.3g}",
        ]
        if "tokens_per_s" in logs:
            parts.append(f"tok/s {logs['tokens_per_s']:.0f}")
        parts.append(f"elapsed {elapsed:.0f}s eta {eta:.0f}s")
        print(" | ".join(parts), file=self.stream, flush=True)


class CurvesCallback(TrainerCallback):
    """Adds tokens/s to each log entry and rewrites curves.csv (main process only)."""

    def __init__(self, csv_path: str | Path):
        self.csv_path = Path(csv_path)
        self._last_time: float | None = None
        self._last_tokens = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self._last_time = time.perf_counter()
        self._last_tokens = state.num_input_tokens_seen

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or "loss" not in logs or not state.log_history:
            return
        now = time.perf_counter()
        dt = now - (self._last_time or now)
        tokens = state.num_input_tokens_seen - self._last_tokens
        entry = state.log_history[-1]  # the Trainer appended this log just before calling us
        if dt > 0 and entry.get("step") == state.global_step:
            entry["tokens_per_s"] = round(tokens / dt, 1)
            logs["tokens_per_s"] = entry["tokens_per_s"]
        self._last_time, self._last_tokens = now, state.num_input_tokens_seen
        if state.is_world_process_zero:
            write_curves_csv(state.log_history, self.csv_path)


@contextlib.contextmanager
def quiet_progress_bars(quiet: bool):
    """No tqdm bars (checkpoint "Writing model shards" ones) in log files: they are carriage returns."""
    was_on = hf_logging.is_progress_bar_enabled()
    if quiet and was_on:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if quiet and was_on:
            hf_logging.enable_progress_bar()
