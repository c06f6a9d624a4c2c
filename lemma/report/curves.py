"""Training curves: curves.csv (one row per logging step) and its PNG plot.

The train rule writes both into the model directory (lemma.training.finetune's CurvesCallback
keeps curves.csv current during training); the report reads them back (lemma.report.tables).
The rows come from `TrainerState.log_history`, which the Trainer saves in every checkpoint and
restores on resume; so a resumed run's curves.csv is continuous (rows up to the checkpoint from
the first process, the rest from the second) without appending to a file that a kill may have left
half-written. tokens/s is measured by the callback (real, non-padding tokens between two logs over
the wall time between them) and stored in the log entry itself, so it survives a resume too.
"""

from __future__ import annotations

import csv
import logging
import math
import os
from pathlib import Path

COLUMNS = ["step", "epoch", "loss", "lr", "grad_norm", "tokens_per_s"]


def curve_rows(log_history: list[dict]) -> list[dict]:
    """One row per logging step (entries with a training loss; eval and summary entries skipped)."""
    rows = []
    for e in log_history:
        if "loss" not in e:
            continue
        rows.append(
            {
                "step": int(e["step"]),
                "epoch": round(float(e.get("epoch", float("nan"))), 4),
                "loss": float(e["loss"]),
                "lr": float(e.get("learning_rate", float("nan"))),
                "grad_norm": float(e.get("grad_norm", float("nan"))),
                "tokens_per_s": float(e.get("tokens_per_s", float("nan"))),
            }
        )
    return rows


def write_curves_csv(log_history: list[dict], path: str | Path) -> list[dict]:
    rows = curve_rows(log_history)
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)
    return rows


def plot_curves(rows: list[dict], path: str | Path, title: str = "") -> None:
    """Loss, learning rate and grad norm against step, one panel each (matplotlib, Agg backend).
    Without matplotlib (a minimal GPU machine) the plot is skipped: curves.csv has the numbers."""
    try:
        import matplotlib
    except ImportError:
        logging.getLogger(__name__).warning("matplotlib is not installed: %s not drawn", path)
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    steps = [r["step"] for r in rows]
    for ax, key, label in zip(axes, ["loss", "lr", "grad_norm"], ["training loss", "learning rate", "grad norm"]):
        ys = [r[key] for r in rows]
        ax.plot(steps, ys, lw=1.2)
        ax.set_xlabel("step")
        ax.set_title(label)
        ax.grid(alpha=0.3)
        if key == "loss" and ys and all(y > 0 and math.isfinite(y) for y in ys):
            ax.set_yscale("log")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    tmp = Path(str(path) + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
